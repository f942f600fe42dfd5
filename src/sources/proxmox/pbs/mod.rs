//! Proxmox Backup Server: the typed client, the wire shapes, the streamed snapshot summary, job
//! health and one poll.

pub mod client;
pub mod jobs;
pub mod poll;
pub mod stream;
pub mod summary;
pub mod types;

pub use client::PbsClient;
pub use jobs::{JobFamily, JobHealth};
pub use poll::{poll_pbs, DatastorePoll, NamespacePoll, PbsPoll, PbsPollPlan};
pub use summary::{GroupSummary, SnapshotSummary};
