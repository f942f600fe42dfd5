//! Platform clients and report schemas.
//!
//! Everything here is pure with respect to the actor system: no actors, no global state, no clock
//! reads (time is always a parameter). The monitor actors own the instances and call into these
//! modules; the HTTP layer uses the parsers as its validation boundary.

pub mod agent;
pub mod flex;
pub mod proxmox;
pub mod rates;
pub mod tls;
pub mod truenas;
