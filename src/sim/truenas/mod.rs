//! TrueNAS simulator: a real HTTPS server on loopback (self-signed certificate) speaking what an
//! appliance speaks — JSON-RPC 2.0 over a WebSocket at `/api/current` (SCALE 25.04 and later)
//! and the legacy REST API at `/api/v2.0` — for `pulse demo`, the integration tests and the
//! measurements.
//!
//! [`SimFlavor`] picks the product: a SCALE version (below 25.04 the WebSocket endpoint answers
//! 404, so a client must negotiate REST) or CORE 13 (the endpoint redirects to the web UI).
//! [`Scenario`] is what it holds: by default the demo appliance `truenas-main` (a DEGRADED pool
//! with a CRITICAL alert, a FAULTED pool, a faulted disk, locked and read-only datasets,
//! snapshots, replication, apps, VMs, shares, a dismissed alert); [`TruenasSimConfig::sized`]
//! builds the large one for measurements. [`TruenasFaults`] injects failures at runtime;
//! [`TruenasSim::restart`] restarts the appliance on the same port.

pub mod faults;
mod rest;
mod rpc;
pub mod scenario;

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::web;
use rand::distributions::{Alphanumeric, DistString};

use crate::sim::tls::{HttpsServer, SimCert};

pub use faults::TruenasFaults;
pub use scenario::{Rendered, Scenario, SimFlavor};

/// The SCALE version of the default simulator.
pub const DEFAULT_SCALE_VERSION: &str = "25.04.2";
/// How long [`TruenasSim::resume`] keeps trying to re-bind its port.
const REBIND_ATTEMPTS: u32 = 100;

/// Credentials the simulator accepts: an API key for `username`, and `username` + password.
#[derive(Clone, PartialEq, Eq)]
pub struct TruenasSimCredentials {
    /// The user.
    pub username: String,
    /// Its API key, `<id>-<secret>`.
    pub api_key: String,
    /// Its password.
    pub password: String,
}

impl std::fmt::Debug for TruenasSimCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TruenasSimCredentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl TruenasSimCredentials {
    /// Random secrets for `username`.
    pub fn generate(username: &str) -> Self {
        let mut rng = rand::thread_rng();
        TruenasSimCredentials {
            username: username.to_owned(),
            api_key: format!("1-{}", Alphanumeric.sample_string(&mut rng, 64)),
            password: Alphanumeric.sample_string(&mut rng, 20),
        }
    }
}

/// What to simulate.
#[derive(Debug, Clone)]
pub struct TruenasSimConfig {
    /// Product and version.
    pub flavor: SimFlavor,
    /// What the appliance holds.
    pub scenario: Scenario,
    /// Accepted credentials (random by default).
    pub credentials: TruenasSimCredentials,
    /// actix workers.
    pub workers: usize,
}

impl Default for TruenasSimConfig {
    /// The demo appliance on SCALE [`DEFAULT_SCALE_VERSION`].
    fn default() -> Self {
        TruenasSimConfig {
            flavor: SimFlavor::Scale(DEFAULT_SCALE_VERSION.into()),
            scenario: Scenario::demo(false),
            credentials: TruenasSimCredentials::generate("pulse"),
            workers: 1,
        }
    }
}

impl TruenasSimConfig {
    /// The demo appliance on SCALE `version`.
    pub fn scale(version: &str) -> Self {
        TruenasSimConfig {
            flavor: SimFlavor::Scale(version.into()),
            ..TruenasSimConfig::default()
        }
    }

    /// The demo appliance on CORE 13 (CORE disk and boot-pool names, no apps).
    pub fn core() -> Self {
        TruenasSimConfig {
            flavor: SimFlavor::Core,
            scenario: Scenario::demo(true),
            ..TruenasSimConfig::default()
        }
    }

    /// A large SCALE appliance (see [`Scenario::sized`]).
    pub fn sized(pools: usize, datasets: usize, snapshots: usize) -> Self {
        TruenasSimConfig {
            scenario: Scenario::sized(pools, datasets, snapshots),
            ..TruenasSimConfig::default()
        }
    }
}

/// State shared by the handlers.
pub(crate) struct SimState {
    flavor: SimFlavor,
    credentials: TruenasSimCredentials,
    faults: Arc<TruenasFaults>,
    scenario: Mutex<Scenario>,
    rendered: RwLock<Arc<Rendered>>,
}

impl SimState {
    /// The current renderings.
    fn rendered(&self) -> Arc<Rendered> {
        Arc::clone(&self.rendered.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Whether `/api/current` is served.
    fn ws_available(&self) -> bool {
        self.flavor.has_jsonrpc() && !self.faults.websocket_disabled()
    }

    /// Re-renders after a scenario change.
    fn rerender(&self) {
        let scenario = self.scenario.lock().unwrap_or_else(PoisonError::into_inner);
        let rendered = scenario::render(&scenario, &self.flavor, now_ms());
        *self
            .rendered
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(rendered);
    }
}

/// Wall-clock milliseconds (the simulator is an outside system, it has its own clock).
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A running TrueNAS simulator; dropping it stops the server.
pub struct TruenasSim {
    server: Option<HttpsServer>,
    addr: SocketAddr,
    cert: SimCert,
    state: Arc<SimState>,
    workers: usize,
}

impl std::fmt::Debug for TruenasSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TruenasSim")
            .field("addr", &self.addr)
            .field("flavor", &self.state.flavor)
            .field("running", &self.server.is_some())
            .finish_non_exhaustive()
    }
}

impl TruenasSim {
    /// Starts a simulator on `127.0.0.1:<free port>` with a fresh self-signed certificate.
    pub fn start(config: TruenasSimConfig) -> io::Result<Self> {
        let cert = SimCert::generate()?;
        let rendered = scenario::render(&config.scenario, &config.flavor, now_ms());
        let state = Arc::new(SimState {
            flavor: config.flavor,
            credentials: config.credentials,
            faults: Arc::new(TruenasFaults::default()),
            scenario: Mutex::new(config.scenario),
            rendered: RwLock::new(Arc::new(rendered)),
        });
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let mut sim = TruenasSim {
            server: None,
            addr,
            cert,
            state,
            workers: config.workers.max(1),
        };
        sim.serve(listener)?;
        Ok(sim)
    }

    /// Serves on `listener`.
    fn serve(&mut self, listener: TcpListener) -> io::Result<()> {
        let state = web::Data::from(Arc::clone(&self.state));
        let server = HttpsServer::start_on(
            listener,
            "truenas-sim",
            &self.cert,
            self.workers,
            move |cfg| {
                cfg.app_data(state.clone())
                    .route("/api/current", web::get().to(rpc::upgrade))
                    .service(web::scope("/api/v2.0").default_service(web::to(rest::handle)))
                    .default_service(web::to(rest::ui));
            },
        )?;
        self.server = Some(server);
        Ok(())
    }

    /// Base URL, `https://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// `127.0.0.1:<port>`, as a connection's `host`.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// The bound address (kept across restarts).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// SHA-256 fingerprint of the presented certificate (kept across restarts).
    pub fn fingerprint(&self) -> &str {
        self.cert.fingerprint()
    }

    /// The accepted credentials.
    pub fn credentials(&self) -> &TruenasSimCredentials {
        &self.state.credentials
    }

    /// The simulated product.
    pub fn flavor(&self) -> &SimFlavor {
        &self.state.flavor
    }

    /// Fault knobs.
    pub fn faults(&self) -> Arc<TruenasFaults> {
        Arc::clone(&self.state.faults)
    }

    /// Changes what the appliance holds (takes effect for the next answer).
    pub fn update(&self, change: impl FnOnce(&mut Scenario)) {
        change(
            &mut self
                .state
                .scenario
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        self.state.rerender();
    }

    /// Whether the server is running.
    pub fn is_running(&self) -> bool {
        self.server.is_some()
    }

    /// Stops the server (open sessions are cut); [`TruenasSim::resume`] starts it again.
    pub fn stop(&mut self) {
        self.server = None;
    }

    /// Starts a stopped server again on the same address and certificate.
    pub fn resume(&mut self) -> io::Result<()> {
        if self.server.is_some() {
            return Ok(());
        }
        let mut attempt = 0;
        let listener = loop {
            match TcpListener::bind(self.addr) {
                Ok(listener) => break listener,
                Err(e) if e.kind() == io::ErrorKind::AddrInUse && attempt < REBIND_ATTEMPTS => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(e),
            }
        };
        self.state.rerender();
        self.serve(listener)
    }

    /// Restarts the appliance: every session is cut, the server comes back on the same port.
    pub fn restart(&mut self) -> io::Result<()> {
        self.stop();
        self.resume()
    }
}
