//! What every Proxmox simulator shares: its HTTPS server, the credentials it accepts and its fault
//! knobs. Each simulator dereferences to its [`SimEndpoint`], so `sim.url()`, `sim.fingerprint()`,
//! `sim.credentials()` and `sim.faults()` work on all of them.

use std::sync::Arc;

use super::pve::{Faults, SimCredentials};
use super::tls::HttpsServer;

/// A running simulator endpoint; dropping it stops the server.
#[derive(Debug)]
pub struct SimEndpoint {
    server: HttpsServer,
    credentials: SimCredentials,
    faults: Arc<Faults>,
}

impl SimEndpoint {
    /// Wraps a started server.
    pub(crate) fn new(
        server: HttpsServer,
        credentials: SimCredentials,
        faults: Arc<Faults>,
    ) -> Self {
        SimEndpoint {
            server,
            credentials,
            faults,
        }
    }

    /// Base URL, `https://127.0.0.1:<port>` (clients append `/api2/json`).
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// SHA-256 fingerprint of the presented certificate.
    pub fn fingerprint(&self) -> &str {
        self.server.fingerprint()
    }

    /// The accepted credentials.
    pub fn credentials(&self) -> &SimCredentials {
        &self.credentials
    }

    /// Fault knobs of this endpoint.
    pub fn faults(&self) -> Arc<Faults> {
        Arc::clone(&self.faults)
    }
}
