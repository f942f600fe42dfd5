//! Assembles and starts the server: store, supervision tree, tenants, HTTP and metrics listeners.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_web::dev::ServerHandle;
use actix_web::middleware::{from_fn, Compress};
use actix_web::{web, App, HttpResponse, HttpServer};
use metrics_exporter_prometheus::PrometheusHandle;
use pulse_actors::{Backoff, Supervisor, SupervisorConfig};

use crate::auth::{self, BootstrapOutcome, LoginLimiter, LoginPolicy, WindowLimiter};
use crate::config::{CliOverrides, Settings};
use crate::error::{Error, Result};
use crate::history::remote_write::{RemoteAuth, RemoteWriteConfig, RemoteWriter};
use crate::history::{HistoryService, HistoryTuning, Retention, TsdbStore};
use crate::http::{self, errors, ws::WsTuning};
use crate::monitor::catalog::EndpointCatalog;
use crate::monitor::{TenantOptions, TenantServices, Tenants};
use crate::notify::SsrfGuard;
use crate::store::{SessionStore, Store};
use crate::telemetry::{self, names};

/// Shared state of the HTTP layer: handles to actors and the store, never resource state.
pub struct AppState {
    /// Settings in force (replaced on SIGHUP reload).
    settings: RwLock<Arc<Settings>>,
    /// The embedded store.
    pub store: Store,
    /// Tenants and their actor subtrees.
    pub tenants: Arc<Tenants>,
    /// Monitored endpoints from the file and the API.
    pub endpoints: Arc<EndpointCatalog>,
    /// Metrics history: the store, its writer thread and the newest values.
    pub history: Arc<HistoryService>,
    /// The root supervisor (for `/api/system/actors`).
    pub root: Addr<Supervisor>,
    /// When the server started.
    pub started: Instant,
    /// Login attempts per IP and user.
    pub login_limiter: LoginLimiter,
    /// WebSocket connects per IP.
    pub ws_limiter: WindowLimiter<std::net::IpAddr>,
}

impl AppState {
    /// The settings in force.
    pub fn settings(&self) -> Arc<Settings> {
        self.settings
            .read()
            .map(|s| Arc::clone(&s))
            .unwrap_or_else(|poisoned| Arc::clone(&poisoned.into_inner()))
    }

    /// Session tuning for new WebSocket clients.
    pub fn ws_tuning(&self) -> WsTuning {
        let s = self.settings();
        WsTuning {
            queue_capacity: s.ws.queue_capacity,
            ping_interval: s.ws.ping_interval,
            idle_timeout: s.ws.idle_timeout,
        }
    }

    /// Applies reloadable settings (SIGHUP); listen address and data dir need a restart.
    pub fn reload(&self, fresh: Settings) {
        let current = self.settings();
        if fresh.listen != current.listen || fresh.data_dir != current.data_dir {
            tracing::warn!("listen address and data dir changes take effect after a restart");
        }
        self.endpoints.set_file(&fresh);
        if let Ok(mut slot) = self.settings.write() {
            *slot = Arc::new(fresh);
        }
        tracing::info!("configuration reloaded");
        // Changed file endpoints restart only their own collectors.
        let (tenants, endpoints) = (Arc::clone(&self.tenants), Arc::clone(&self.endpoints));
        actix::spawn(async move {
            let Some(tenant) = tenants.get(auth::DEFAULT_ORG_ID) else {
                return;
            };
            let applied = match endpoints.desired(auth::DEFAULT_ORG_ID) {
                Ok(desired) => tenant.apply_endpoints(desired).await,
                Err(e) => Err(e),
            };
            if let Err(e) = applied {
                tracing::error!(error = %e, "applying reloaded endpoints failed");
            }
        });
    }
}

/// A started server.
#[derive(Clone)]
pub struct Running {
    /// Bound address of the main listener.
    pub http_addr: SocketAddr,
    /// Bound address of the Prometheus listener, when enabled.
    pub metrics_addr: Option<SocketAddr>,
    /// Shared state (for tests and the CLI).
    pub state: web::Data<AppState>,
    handles: Vec<ServerHandle>,
}

impl Running {
    /// Creates an API token directly in the store (what `pulse token create` does offline).
    pub fn create_token(&self, name: &str, scopes: &[&str], org: Option<&str>) -> Result<String> {
        let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
        let (raw, _) = auth::create_token(&self.state.store, name, &scopes, org, None)?;
        Ok(raw)
    }

    /// Stops the listeners gracefully, then flushes metrics history and stops its thread.
    pub async fn stop(&self) {
        for h in &self.handles {
            h.stop(true).await;
        }
        let history = Arc::clone(&self.state.history);
        if tokio::task::spawn_blocking(move || history.stop())
            .await
            .is_err()
        {
            tracing::warn!("metrics history did not stop cleanly");
        }
    }
}

/// Resolves the settings from file, environment and flags (SPEC §3 precedence).
pub fn load_settings(
    config: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    listen: Option<SocketAddr>,
) -> Result<Settings> {
    let env = |k: &str| std::env::var(k).ok();
    let file = config.or_else(|| env("PULSE_CONFIG").map(PathBuf::from));
    Settings::load(
        file.as_deref(),
        &env,
        CliOverrides {
            listen: listen.map(|l| l.to_string()),
            data_dir,
            config: file.clone(),
        },
    )
}

/// Starts every part of the server inside the current actix system.
pub async fn start(settings: Settings) -> Result<Running> {
    // No listener, no recorder: metric calls are then free no-ops.
    let prometheus = settings
        .metrics_listen
        .and_then(|_| telemetry::prometheus());
    let store = Store::open(&settings.data_dir)?;
    match auth::ensure_admin_or_bootstrap(
        &store,
        settings.auth_user.as_deref(),
        settings.auth_pass.as_ref().map(|p| p.expose()),
        auth::unix_now(),
    )? {
        BootstrapOutcome::AdminCreated { username } => {
            tracing::info!(user = %username, "admin user created from PULSE_AUTH_USER");
        }
        BootstrapOutcome::AdminExists => {}
        BootstrapOutcome::BootstrapToken(raw) => {
            tracing::warn!(
                bootstrap_token = %raw,
                "no admin exists yet: only loopback clients may configure Pulse, with this one-time bootstrap token (X-Setup-Token)"
            );
        }
    }

    let history = Arc::new(start_history(&settings, &store)?);

    let root = Supervisor::new(
        SupervisorConfig::new("root")
            .intensity(20, Duration::from_secs(60))
            .backoff(
                Backoff::new(Duration::from_millis(100), Duration::from_secs(300)).jitter(0.2),
            ),
    )
    .start();
    let endpoints = Arc::new(EndpointCatalog::new(store.clone(), &settings));
    let catalog = Arc::clone(&endpoints);
    let services = TenantServices {
        store: store.clone(),
        webhook_guard: SsrfGuard::new(settings.webhook_allowed_cidrs.clone()),
        history: history.sink(),
    };
    let tenants = Arc::new(
        Tenants::start(
            root.clone(),
            TenantOptions {
                coalesce: settings.ws.coalesce,
                timeout: settings.polling.connection_timeout,
                endpoints: Box::new(move |org| catalog.desired(org)),
            },
            services,
        )
        .await?,
    );

    let listen = settings.listen;
    let metrics_listen = settings.metrics_listen;
    let state = web::Data::new(AppState {
        settings: RwLock::new(Arc::new(settings)),
        store: store.clone(),
        tenants,
        endpoints,
        history: Arc::clone(&history),
        root: root.clone(),
        started: Instant::now(),
        login_limiter: LoginLimiter::new(LoginPolicy::default()),
        ws_limiter: WindowLimiter::new(30, Duration::from_secs(60), 10_000),
    });

    let app_state = state.clone();
    let conn_state = state.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(app_state.clone())
            .wrap(Compress::default())
            .wrap(from_fn(errors::observe))
            .configure(http::routes)
    })
    .workers(worker_count())
    // Deltas are small frames that must leave at once: Nagle plus the client's delayed ACK
    // held them back by ~40 ms (measured p50 70 ms before, see docs/performance.md).
    .tcp_nodelay(true)
    // Responses are written out in pieces of at most this much, so long-lived WebSocket
    // connections keep their initial write buffer (see `http::slices`).
    .h1_write_buffer_size(http::slices::WRITE_BUFFER)
    // A peer that stops reading would otherwise hold its session and frames forever.
    .on_connect(move |conn, _| {
        http::peer::limit_unacknowledged(conn, conn_state.settings().ws.idle_timeout)
    })
    .shutdown_timeout(5)
    .bind(listen)
    .map_err(|e| Error::Config {
        key: "listen".into(),
        value: listen.to_string(),
        allowed: format!("an address this host can bind ({e})"),
    })?;
    let http_addr = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| Error::Internal("listener has no address".into()))?;
    let server = server.run();
    let mut handles = vec![server.handle()];
    actix::spawn(async move {
        if let Err(e) = server.await {
            tracing::error!(error = %e, "http server stopped");
        }
    });

    let mut metrics_addr = None;
    if let (Some(addr), Some(handle)) = (metrics_listen, prometheus.clone()) {
        let latest = history.sink().latest;
        let srv = HttpServer::new(move || {
            let handle = handle.clone();
            let latest = latest.clone();
            App::new()
                .route(
                    "/metrics/resources",
                    web::get().to(move || {
                        let body = latest.render();
                        async move {
                            HttpResponse::Ok()
                                .content_type("text/plain; version=0.0.4; charset=utf-8")
                                .body(body)
                        }
                    }),
                )
                .route(
                    "/metrics",
                    web::get().to(move || {
                        let body = handle.render();
                        async move {
                            HttpResponse::Ok()
                                .content_type("text/plain; version=0.0.4; charset=utf-8")
                                .body(body)
                        }
                    }),
                )
        })
        .workers(1)
        .shutdown_timeout(2)
        .bind(addr)
        .map_err(|e| Error::Config {
            key: "metrics_listen".into(),
            value: addr.to_string(),
            allowed: format!("an address this host can bind, or off ({e})"),
        })?;
        metrics_addr = srv.addrs().first().copied();
        let srv = srv.run();
        handles.push(srv.handle());
        actix::spawn(async move {
            if let Err(e) = srv.await {
                tracing::error!(error = %e, "metrics server stopped");
            }
        });
    }

    spawn_housekeeping(state.clone(), prometheus.clone());
    tracing::info!(%http_addr, ?metrics_addr, "pulse started");
    Ok(Running {
        http_addr,
        metrics_addr,
        state,
        handles,
    })
}

/// Opens the metrics history store inside the data dir's database, starts its writer thread and,
/// when a receiver is configured, the remote_write sender.
fn start_history(settings: &Settings, store: &Store) -> Result<HistoryService> {
    let h = &settings.history;
    let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    let retention = Retention {
        raw_ms: ms(h.raw_retention),
        minute_ms: ms(h.minute_retention),
        hour_ms: ms(h.hour_retention),
        day_ms: ms(h.day_retention),
    };
    let blocks = store.data_dir().join(crate::history::store::BLOCKS_DIR);
    let tsdb = TsdbStore::open(store.sled_db(), &blocks, retention)?;
    let remote = match &settings.remote_write_url {
        Some(url) => {
            let rw = &settings.remote_write;
            let auth = match (&rw.username, &rw.password, &rw.bearer_token) {
                (Some(username), Some(password), _) => RemoteAuth::Basic {
                    username: username.clone(),
                    password: password.clone(),
                },
                (_, _, Some(token)) => RemoteAuth::Bearer(token.clone()),
                _ => RemoteAuth::None,
            };
            let config = RemoteWriteConfig {
                auth,
                interval: rw.interval,
                queue_capacity: rw.queue_capacity,
                batch_max: rw.batch_size,
                ..RemoteWriteConfig::new(url.to_string())
            };
            let writer = RemoteWriter::new(config)?;
            let queue = writer.queue();
            actix::spawn(writer.run());
            tracing::info!(url = %url, "remote_write enabled");
            Some(queue)
        }
        None => None,
    };
    let tuning = HistoryTuning {
        flush_interval: h.flush_interval,
        ..HistoryTuning::default()
    };
    HistoryService::start(Arc::new(tsdb), tuning, remote)
}

/// Two HTTP workers on small machines, up to four elsewhere.
fn worker_count() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get().clamp(2, 4))
        .unwrap_or(2)
}

/// Periodic gauges that have no event to hang on (store size, uptime, actor restarts), and the
/// exporter's upkeep: histogram samples wait in buckets until drained, so without it memory grows
/// with every request between scrapes (measured: ~20 bytes per request).
fn spawn_housekeeping(state: web::Data<AppState>, prometheus: Option<PrometheusHandle>) {
    actix::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(10));
        loop {
            tick.tick().await;
            if let Some(handle) = &prometheus {
                handle.run_upkeep();
            }
            metrics::gauge!(names::UPTIME).set(state.started.elapsed().as_secs_f64());
            if let Ok(bytes) = state.store.size_on_disk() {
                metrics::gauge!(names::STORE_BYTES).set(bytes as f64);
            }
            if let Ok(tree) = state.root.send(pulse_actors::Snapshot).await {
                record_actor_gauges(&tree, "");
            }
            if let Err(e) = state.store.purge_expired_sessions(auth::unix_now()) {
                tracing::warn!(error = %e, "purging expired sessions failed");
            }
        }
    });
}

/// Exports restarts per actor (by tree path) from a supervision snapshot.
fn record_actor_gauges(node: &pulse_actors::ActorNode, parent: &str) {
    let path = if parent.is_empty() {
        node.name.clone()
    } else {
        format!("{parent}/{}", node.name)
    };
    metrics::gauge!(names::ACTOR_RESTARTS, "actor" => path.clone()).set(f64::from(node.restarts));
    for child in &node.children {
        record_actor_gauges(child, &path);
    }
}
