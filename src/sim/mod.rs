//! Simulators of the platforms Pulse talks to: real servers on loopback speaking the real wire
//! protocols. They power `pulse demo` and the integration tests.

pub mod agents;
pub mod demo;
pub mod docker_engine;
pub mod endpoint;
pub mod pbs;
pub mod pmg;
pub mod pve;
mod signal;
pub mod tls;
pub mod truenas;
