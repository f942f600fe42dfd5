//! Proxmox Mail Gateway: the typed client, the wire shapes and one poll.

pub mod client;
pub mod poll;
pub mod types;

pub use client::PmgClient;
pub use poll::{poll_pmg, PmgNodePoll, PmgPoll};
