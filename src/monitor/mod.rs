//! The domain actors: the supervision tree of tenants, each tenant's registry, and (later)
//! collectors, alert engine and notifier. Pure rules live in `pulse-model`; this module only wires
//! them to actors and timers.

pub mod alert_engine;
pub mod catalog;
pub mod clock;
pub mod collector;
pub mod endpoints;
pub mod ingest;
pub mod notifier;
pub mod query;
pub mod registry;
pub mod tenant;

pub use registry::{HubItem, Registry};
pub use tenant::{EndpointSource, TenantHandle, TenantOptions, TenantServices, Tenants};
