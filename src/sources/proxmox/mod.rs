//! Clients for the Proxmox family — VE, Backup Server, Mail Gateway — and the normalisers that
//! turn their answers into source snapshots (reference/platforms.md §1–§3, §17; SPEC §7).
//!
//! Layers, each usable alone:
//! - [`endpoint`]: product, base URL normalisation, credentials, settings;
//! - [`client`]: one authenticated endpoint ([`ApiClient`]) with error mapping and size caps;
//! - [`cluster`]: failover and retries over several endpoints ([`ClusterClient`]);
//! - [`flex`]: tolerant decoding (numbers as strings, malformed list items skipped and counted),
//!   shared with the other platform clients and re-exported here;
//! - [`pve`], [`pbs`], [`pmg`]: typed calls and one poll per product;
//! - [`normalise`]: polls → [`pulse_model::SourceSnapshot`]s, pure (time is a parameter).
//!
//! Nothing here spawns tasks or reads the clock for data; the collector actors own the clients
//! and the normalisers and call them once per cycle.

pub mod client;
pub mod cluster;
pub mod endpoint;
pub mod error;
pub mod normalise;
pub mod pbs;
pub mod pmg;
pub mod pve;

pub use crate::sources::flex;

pub use client::ApiClient;
pub use cluster::{ClusterClient, EndpointHealth, RetryPolicy};
pub use endpoint::{Credentials, EndpointSettings, Product, DEFAULT_TIMEOUT};
pub use error::PlatformError;
pub use flex::Listing;
