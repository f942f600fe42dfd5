//! [`Settings`]: the typed, validated configuration of the server, with every default in one place.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use super::cidr::Cidr;
use super::endpoint::EndpointConfig;
use super::secret::Secret;
use super::url::HttpUrl;

/// The server's configuration after layering flags > `PULSE_*` environment > file > defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// HTTP listen address (`server.listen`, `PULSE_LISTEN`, `--listen`).
    pub listen: SocketAddr,
    /// Data directory (`server.data_dir`, `PULSE_DATA_DIR`, `--data-dir`).
    pub data_dir: PathBuf,
    /// Prometheus listener, `None` when `off` (`metrics.listen`, `PULSE_METRICS_LISTEN`).
    pub metrics_listen: Option<SocketAddr>,
    /// Log line format (`log.format`, `PULSE_LOG_FORMAT`).
    pub log_format: LogFormat,
    /// Log level (`log.level`, `PULSE_LOG_LEVEL`).
    pub log_level: LogLevel,
    /// Admin created on first start (`auth.user`, `PULSE_AUTH_USER`).
    pub auth_user: Option<String>,
    /// Password of that admin (`auth.pass`, `PULSE_AUTH_PASS`).
    pub auth_pass: Option<Secret>,
    /// Prometheus remote_write receiver (`metrics.remote_write_url`, `PULSE_REMOTE_WRITE_URL`).
    pub remote_write_url: Option<HttpUrl>,
    /// Credentials and tuning of the remote_write sink (`metrics.remote_write_*`).
    pub remote_write: RemoteWriteSettings,
    /// Metrics history (`[history]`).
    pub history: HistorySettings,
    /// Networks exempt from the webhook SSRF guard (`notifications.webhook_allowed_cidrs`,
    /// `PULSE_WEBHOOK_ALLOWED_CIDRS`).
    pub webhook_allowed_cidrs: Vec<Cidr>,
    /// Hosted mode with public signup (`server.hosted_mode`, `PULSE_HOSTED_MODE`).
    pub hosted_mode: bool,
    /// Several organisations (`server.multi_tenant_enabled`, `PULSE_MULTI_TENANT_ENABLED`).
    pub multi_tenant_enabled: bool,
    /// Origins allowed for CORS and WebSocket (`server.allowed_origins`); empty = same origin only,
    /// `["*"]` = any. Normalised to `scheme://host[:port]`.
    pub allowed_origins: Vec<String>,
    /// Poll intervals and timeouts (`[polling]`).
    pub polling: PollingSettings,
    /// WebSocket session tuning (`[ws]`).
    pub ws: WsSettings,
    /// Proxmox VE endpoints (`[[pve]]`).
    pub pve: Vec<EndpointConfig>,
    /// Proxmox Backup Server endpoints (`[[pbs]]`).
    pub pbs: Vec<EndpointConfig>,
    /// Proxmox Mail Gateway endpoints (`[[pmg]]`).
    pub pmg: Vec<EndpointConfig>,
    /// TrueNAS connections (`[[truenas]]`).
    pub truenas: Vec<EndpointConfig>,
    /// The configuration file that was read, if any (to re-read on SIGHUP).
    pub config_file: Option<PathBuf>,
}

/// Poll intervals per platform and the shared timeouts (upstream defaults).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PollingSettings {
    /// Proxmox VE poll interval (10 s).
    pub pve: Duration,
    /// Proxmox Backup Server poll interval (60 s).
    pub pbs: Duration,
    /// Proxmox Mail Gateway poll interval (60 s).
    pub pmg: Duration,
    /// TrueNAS poll interval (60 s).
    pub truenas: Duration,
    /// Timeout of one platform request (60 s).
    pub connection_timeout: Duration,
    /// Interval agents are told to report at; also the base of agent staleness (30 s).
    pub agent_report_interval: Duration,
}

/// Remote_write credentials and tuning (the receiver URL is [`Settings::remote_write_url`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteWriteSettings {
    /// Basic-auth user (`metrics.remote_write_username`); set together with the password.
    pub username: Option<String>,
    /// Basic-auth password (`metrics.remote_write_password`).
    pub password: Option<Secret>,
    /// Bearer token (`metrics.remote_write_bearer_token`); exclusive with basic auth.
    pub bearer_token: Option<Secret>,
    /// Longest wait before queued samples are sent (`metrics.remote_write_interval_secs`, 5 s).
    pub interval: Duration,
    /// Samples queued at most; the oldest are dropped beyond (`metrics.remote_write_queue_capacity`,
    /// 100,000).
    pub queue_capacity: usize,
    /// Samples per request at most (`metrics.remote_write_batch_size`, 5,000).
    pub batch_size: usize,
}

/// Metrics history: flush interval and tier retentions (upstream defaults).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistorySettings {
    /// Flush to disk this often: the most a crash loses (`history.flush_interval_secs`, 5 s).
    pub flush_interval: Duration,
    /// Raw samples (`history.raw_retention_hours`, 2 h).
    pub raw_retention: Duration,
    /// 1-minute rollups (`history.minute_retention_hours`, 24 h).
    pub minute_retention: Duration,
    /// 1-hour rollups (`history.hour_retention_days`, 7 d).
    pub hour_retention: Duration,
    /// 1-day rollups (`history.day_retention_days`, 90 d).
    pub day_retention: Duration,
}

/// WebSocket session tuning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WsSettings {
    /// Frames queued per client before it is resynced (128).
    pub queue_capacity: usize,
    /// Server ping interval (30 s).
    pub ping_interval: Duration,
    /// A client silent this long is closed (90 s).
    pub idle_timeout: Duration,
    /// Changes within this window are coalesced into one delta frame (25 ms; at most 100 ms by
    /// SPEC §6). Short enough that a change reaches clients at once even when sources report at
    /// the window's own period, long enough to fold a burst of snapshots into one frame.
    pub coalesce: Duration,
}

/// Log line format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Log verbosity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    /// Everything.
    Trace,
    /// Debugging detail.
    Debug,
    /// Normal operation.
    Info,
    /// Problems worth a look.
    Warn,
    /// Failures only.
    Error,
    /// Nothing.
    Off,
}

impl LogLevel {
    /// Every level, least to most severe, then `off`.
    pub const ALL: [LogLevel; 6] = [
        LogLevel::Trace,
        LogLevel::Debug,
        LogLevel::Info,
        LogLevel::Warn,
        LogLevel::Error,
        LogLevel::Off,
    ];

    /// The name, as understood by `tracing_subscriber::EnvFilter`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
            LogLevel::Off => "off",
        }
    }
}

impl Default for Settings {
    /// The defaults: the only place they are written down (SPEC §2-§3, upstream values).
    fn default() -> Self {
        Settings {
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 7655),
            data_dir: PathBuf::from("./data"),
            metrics_listen: Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 9091)),
            log_format: LogFormat::Pretty,
            log_level: LogLevel::Info,
            auth_user: None,
            auth_pass: None,
            remote_write_url: None,
            remote_write: RemoteWriteSettings {
                username: None,
                password: None,
                bearer_token: None,
                interval: Duration::from_secs(5),
                queue_capacity: 100_000,
                batch_size: 5_000,
            },
            history: HistorySettings {
                flush_interval: Duration::from_secs(5),
                raw_retention: Duration::from_secs(2 * 3600),
                minute_retention: Duration::from_secs(24 * 3600),
                hour_retention: Duration::from_secs(7 * 86_400),
                day_retention: Duration::from_secs(90 * 86_400),
            },
            webhook_allowed_cidrs: Vec::new(),
            hosted_mode: false,
            multi_tenant_enabled: false,
            allowed_origins: Vec::new(),
            polling: PollingSettings {
                pve: Duration::from_secs(10),
                pbs: Duration::from_secs(60),
                pmg: Duration::from_secs(60),
                truenas: Duration::from_secs(60),
                connection_timeout: Duration::from_secs(60),
                agent_report_interval: Duration::from_secs(30),
            },
            ws: WsSettings {
                queue_capacity: 128,
                ping_interval: Duration::from_secs(30),
                idle_timeout: Duration::from_secs(90),
                coalesce: Duration::from_millis(25),
            },
            pve: Vec::new(),
            pbs: Vec::new(),
            pmg: Vec::new(),
            truenas: Vec::new(),
            config_file: None,
        }
    }
}
