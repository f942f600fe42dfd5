//! Proxmox VE: the typed client, the wire shapes and one poll of a cluster.

pub mod client;
pub mod poll;
pub mod types;

pub use client::{PveClient, RrdMemory};
pub use poll::{poll_pve, NodePoll, PollPlan, PvePoll, Replication, ZfsPoolReport};
