//! Agent ingest: the server side of `pulse-agent` host, Docker and Kubernetes reports
//! (platforms reference §5).
//!
//! A report passes three stages, each with its own module:
//!
//! 1. [`decode`]: `Content-Encoding` (identity or gzip) and the wire and decoded size limits.
//! 2. [`wire`]: the tolerant typed schemas of the **compatible** reports and their validation;
//!    every rejection names the offending field path (`metrics.memory.totalBytes`).
//! 3. [`normalise`]: [`AgentIngestor`] maps a validated report onto a
//!    [`pulse_model::SourceSnapshot`] plus the compatible reply, deriving byte rates from
//!    cumulative counters with [`CounterRates`].
//!
//! Stages 1 and 2 are stateless and belong in the request handler, so that nothing reaches an
//! actor before it has been validated; stage 3 keeps counter state and belongs in the actor that
//! owns the tenant's registry.

pub mod decode;
pub mod normalise;
pub mod wire;

#[cfg(test)]
mod fixtures;

pub use crate::sources::rates::CounterRates;
pub use decode::{decode_body, ReportKind};
pub use normalise::{AgentIngestor, DockerReply, HostReply, KubernetesReply};
pub use wire::{
    parse_docker, parse_host, parse_kubernetes, DockerReport, HostReport, KubernetesReport,
};
