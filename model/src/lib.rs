//! # pulse-model
//!
//! The unified resource model of Pulse, pure: types with the **compatible** upstream JSON shape,
//! stable ids, identity normalisation and matching, the merge of source records into resources,
//! status aggregation and staleness, a registry state, and resource diffs as RFC 7386
//! merge-patches. No I/O, no clock reads (time is always a parameter), no async runtime.
//!
//! Data flow: a collector or agent report becomes a [`SourceSnapshot`] of [`SourceRecord`]s;
//! [`RegistryState::ingest`] folds it into [`Resource`]s; [`RegistryState::take_diff`] yields the
//! [`ResourceDiff`] to publish; clients apply it with [`apply_diff`].

#![warn(missing_docs)]

pub mod contribution;
pub mod diff;
pub mod error;
pub mod facets;
mod fingerprint;
pub mod id;
pub mod identity;
pub mod json;
pub mod merge;
pub mod metrics;
pub mod names;
pub mod patch;
pub mod record;
pub mod registry;
pub mod source_status;
pub mod status;
pub mod time;
pub mod types;

#[cfg(test)]
mod testgen;

pub use contribution::Contribution;
pub use diff::{apply_diff, diff_resources, resource_patch, Observation, ResourceDiff, Upsert};
pub use error::ModelError;
pub use facets::{Facet, Facets};
pub use id::{record_stable_key, stable_id};
pub use identity::{match_identities, MatchReason, AUTO_MERGE_CONFIDENCE};
pub use merge::fold;
pub use names::{FacetKey, ResourceType, Source, SourceState, Status};
pub use patch::{apply_merge_patch, merge_patch_between};
pub use record::{ParentRef, SourceRecord, SourceSnapshot};
pub use registry::RegistryState;
pub use source_status::SourceStatuses;
pub use time::Timestamp;
pub use types::{
    CompactIdentity, Identity, MetricKind, MetricValue, Metrics, Resource, SourceStatusEntry,
};
