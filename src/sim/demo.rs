//! `pulse demo`: the server plus the built-in simulators, configured through the same paths a user
//! uses (an API token like `pulse token create` makes, real HTTP reports), never by writing into
//! the registry.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use rand::distributions::{Alphanumeric, DistString};

use super::agents::{SimFleet, SimFleetHandle};
use crate::app::Running;
use crate::config::{Secret, Settings};
use crate::error::Result;

/// How often the simulated agents report (shorter than real agents, so the demo moves).
const DEMO_REPORT_INTERVAL: Duration = Duration::from_secs(5);

/// What keeps the demo's simulators running; dropping it stops them.
pub struct Demo {
    _agents: SimFleetHandle,
}

/// Fills in the demo login (from `PULSE_AUTH_USER`/`PULSE_AUTH_PASS` if set) and returns it.
pub fn prepare(settings: &mut Settings) -> (String, String) {
    let user = settings
        .auth_user
        .get_or_insert_with(|| "admin".to_owned())
        .clone();
    let pass = match &settings.auth_pass {
        Some(p) => p.expose().to_owned(),
        None => {
            let p = Alphanumeric.sample_string(&mut rand::thread_rng(), 16);
            settings.auth_pass = Some(Secret::new(p.clone()));
            p
        }
    };
    (user, pass)
}

/// The address simulators use to reach the server (loopback when it listens on all addresses).
fn reachable(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
    } else {
        addr
    }
}

/// Starts the simulators against the running server.
pub async fn start(running: &Running) -> Result<Demo> {
    let token = running.create_token(
        "demo simulators",
        &["agent:report", "docker:report", "kubernetes:report"],
        None,
    )?;
    let base = format!("http://{}", reachable(running.http_addr));
    let agents = SimFleet::uniform(4, 2, 1, DEMO_REPORT_INTERVAL).start(&base, &token)?;
    tracing::info!(agents = agents.agents(), "demo: simulated agents reporting");
    Ok(Demo { _agents: agents })
}
