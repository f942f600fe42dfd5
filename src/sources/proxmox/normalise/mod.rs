//! Polls → [`pulse_model::SourceSnapshot`]s. Pure: no I/O, the observation time is a parameter;
//! the normalisers keep only the history the model needs (counter baselines, the node grace).

pub mod metrics;
pub mod pbs;
pub mod pmg;
pub mod pve;
pub mod rates;

pub use pbs::normalise_pbs;
pub use pmg::normalise_pmg;
pub use pve::{PveNormaliser, NODE_OFFLINE_GRACE_MS};
pub use rates::GuestRates;
