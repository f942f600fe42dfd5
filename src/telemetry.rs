//! Logging (tracing, `json` or `pretty`) and the Prometheus recorder with every metric described.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::{fmt, EnvFilter};

use crate::config::{LogFormat, LogLevel};

/// Crates whose debug and trace output carries message payloads (tungstenite logs every frame it
/// sends, e.g. a TrueNAS login with its API key): capped at `info` so no level setting can put a
/// secret into the log.
const PAYLOAD_LOGGING_CRATES: [&str; 2] = ["tungstenite", "tokio_tungstenite"];

/// The log filter for `level`, with [`PAYLOAD_LOGGING_CRATES`] capped at `info`.
pub fn log_filter(level: LogLevel) -> EnvFilter {
    let cap = match level {
        LogLevel::Trace | LogLevel::Debug => LogLevel::Info,
        other => other,
    };
    let mut directives = level.as_str().to_owned();
    for krate in PAYLOAD_LOGGING_CRATES {
        directives.push_str(&format!(",{krate}={}", cap.as_str()));
    }
    EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Installs the global tracing subscriber once; later calls are ignored (tests start many servers).
pub fn init_logging(format: LogFormat, level: LogLevel) {
    let filter = log_filter(level);
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}

static PROMETHEUS: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the Prometheus recorder once per process and returns its render handle.
///
/// Returns `None` when another recorder was installed first (only possible in embedding tests).
pub fn prometheus() -> Option<PrometheusHandle> {
    PROMETHEUS
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ])
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            describe_all();
            Some(handle)
        })
        .clone()
}

/// Metric names, in one place so call sites and descriptions cannot drift apart.
pub mod names {
    /// Counter: HTTP requests by method, route and status.
    pub const HTTP_REQUESTS: &str = "pulse_http_requests_total";
    /// Histogram: HTTP request duration by method and route.
    pub const HTTP_DURATION: &str = "pulse_http_request_duration_seconds";
    /// Gauge: connected WebSocket clients.
    pub const WS_CLIENTS: &str = "pulse_ws_clients";
    /// Counter: deltas dropped for clients that could not keep up.
    pub const WS_DROPPED: &str = "pulse_ws_dropped_deltas_total";
    /// Counter: full-state resyncs sent to lagging clients.
    pub const WS_RESYNCS: &str = "pulse_ws_resyncs_total";
    /// Counter: WebSocket frames sent by type.
    pub const WS_FRAMES: &str = "pulse_ws_frames_sent_total";
    /// Gauge: resources held by a tenant's registry.
    pub const REGISTRY_RESOURCES: &str = "pulse_registry_resources";
    /// Counter: diffs published by the registry.
    pub const REGISTRY_DIFFS: &str = "pulse_registry_diffs_total";
    /// Counter: source snapshots ingested by the registry.
    pub const REGISTRY_SNAPSHOTS: &str = "pulse_registry_snapshots_total";
    /// Gauge: restarts of each supervised actor since start.
    pub const ACTOR_RESTARTS: &str = "pulse_actor_restarts";
    /// Gauge: bytes used by the embedded store on disk.
    pub const STORE_BYTES: &str = "pulse_store_size_bytes";
    /// Counter: login attempts by outcome.
    pub const LOGINS: &str = "pulse_auth_logins_total";
    /// Counter: requests rejected by a rate limit.
    pub const RATE_LIMITED: &str = "pulse_rate_limited_total";
    /// Gauge: seconds since the process started.
    pub const UPTIME: &str = "pulse_uptime_seconds";
    /// Counter: finished poll cycles by org, kind, endpoint and outcome.
    pub const POLLS: &str = "pulse_poll_total";
    /// Histogram: poll cycle duration by org, kind and endpoint.
    pub const POLL_DURATION: &str = "pulse_poll_duration_seconds";
    /// Counter: malformed items skipped by polls.
    pub const POLL_SKIPPED: &str = "pulse_poll_skipped_items_total";
    /// Counter: snapshots dropped because the registry's mailbox was full.
    pub const POLL_DROPPED: &str = "pulse_poll_dropped_snapshots_total";
    /// Gauge: failed polls in a row per endpoint.
    pub const POLL_FAILURES: &str = "pulse_poll_consecutive_failures";
    /// Counter: alert lifecycle events by event.
    pub const ALERT_EVENTS: &str = "pulse_alert_events_total";
    /// Gauge: firing alerts per org.
    pub const ALERTS_ACTIVE: &str = "pulse_alerts_active";
    /// Counter: notification delivery attempts by channel and outcome.
    pub const DELIVERY_ATTEMPTS: &str = "pulse_notification_attempts_total";
    /// Counter: failed delivery attempts by channel and failure class.
    pub const DELIVERY_FAILURES: &str = "pulse_notification_failures_total";
    /// Counter: deliveries moved to the dead-letter queue.
    pub const DELIVERY_DLQ: &str = "pulse_notification_dlq_total";
    /// Counter: history samples by outcome (`stored`, `out_of_order`, `invalid`, `dropped`).
    pub const HISTORY_SAMPLES: &str = "pulse_history_samples_total";
    /// Counter: history flushes to disk by outcome.
    pub const HISTORY_FLUSHES: &str = "pulse_history_flushes_total";
    /// Histogram: duration of one history flush.
    pub const HISTORY_FLUSH_DURATION: &str = "pulse_history_flush_duration_seconds";
    /// Gauge: samples stored by this process that were flushed to disk (crash-safe).
    pub const HISTORY_DURABLE: &str = "pulse_history_durable_samples";
    /// Gauge: series held by the history store.
    pub const HISTORY_SERIES: &str = "pulse_history_series";
    /// Counter: remote_write samples by outcome (`sent`, `dropped`, `failed`).
    pub const REMOTE_WRITE_SAMPLES: &str = "pulse_remote_write_samples_total";
    /// Counter: remote_write requests by outcome (`success`, `retry`, `failure`).
    pub const REMOTE_WRITE_REQUESTS: &str = "pulse_remote_write_requests_total";
    /// Gauge: samples waiting in the remote_write queue.
    pub const REMOTE_WRITE_QUEUE: &str = "pulse_remote_write_queue_samples";
    /// Gauge: Unix time of the last accepted remote_write request.
    pub const REMOTE_WRITE_LAST_SUCCESS: &str = "pulse_remote_write_last_success_timestamp_seconds";
}

fn describe_all() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    use names::*;
    describe_counter!(HTTP_REQUESTS, "HTTP requests by method, route and status");
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "HTTP request duration by method and route"
    );
    describe_gauge!(WS_CLIENTS, "Connected WebSocket clients");
    describe_counter!(
        WS_DROPPED,
        "Deltas dropped for WebSocket clients that fell behind"
    );
    describe_counter!(
        WS_RESYNCS,
        "Full-state resyncs sent to lagging WebSocket clients"
    );
    describe_counter!(WS_FRAMES, "WebSocket frames sent, by frame type");
    describe_gauge!(REGISTRY_RESOURCES, "Resources held by a tenant registry");
    describe_counter!(REGISTRY_DIFFS, "Diffs published by a tenant registry");
    describe_counter!(
        REGISTRY_SNAPSHOTS,
        "Source snapshots ingested by a tenant registry"
    );
    describe_gauge!(
        ACTOR_RESTARTS,
        "Restarts of a supervised actor since process start"
    );
    describe_gauge!(
        STORE_BYTES,
        Unit::Bytes,
        "Size of the embedded store on disk"
    );
    describe_counter!(LOGINS, "Login attempts by outcome");
    describe_counter!(
        RATE_LIMITED,
        "Requests rejected by a rate limit, by limiter"
    );
    describe_gauge!(UPTIME, Unit::Seconds, "Seconds since the server started");
    describe_counter!(
        POLLS,
        "Finished collector poll cycles by endpoint and outcome"
    );
    describe_histogram!(
        POLL_DURATION,
        Unit::Seconds,
        "Duration of collector poll cycles by endpoint"
    );
    describe_counter!(
        POLL_SKIPPED,
        "Malformed platform items skipped by collector polls"
    );
    describe_counter!(
        POLL_DROPPED,
        "Snapshots a collector dropped because the registry was full"
    );
    describe_gauge!(
        POLL_FAILURES,
        "Failed collector polls in a row, per endpoint"
    );
    describe_counter!(ALERT_EVENTS, "Alert lifecycle events, by event");
    describe_gauge!(ALERTS_ACTIVE, "Firing alerts of an organisation");
    describe_counter!(
        DELIVERY_ATTEMPTS,
        "Notification delivery attempts, by channel and outcome"
    );
    describe_counter!(
        DELIVERY_FAILURES,
        "Failed notification delivery attempts, by channel and failure class"
    );
    describe_counter!(
        DELIVERY_DLQ,
        "Notification deliveries moved to the dead-letter queue"
    );
    describe_counter!(
        HISTORY_SAMPLES,
        "Metrics history samples by outcome (stored, out_of_order, invalid, dropped)"
    );
    describe_counter!(
        HISTORY_FLUSHES,
        "Metrics history flushes to disk by outcome"
    );
    describe_histogram!(
        HISTORY_FLUSH_DURATION,
        Unit::Seconds,
        "Duration of one metrics history flush"
    );
    describe_gauge!(HISTORY_SERIES, "Series held by the metrics history store");
    describe_gauge!(
        HISTORY_DURABLE,
        "Metrics history samples stored by this process and flushed to disk"
    );
    describe_counter!(
        REMOTE_WRITE_SAMPLES,
        "Prometheus remote_write samples by outcome (sent, dropped, failed)"
    );
    describe_counter!(
        REMOTE_WRITE_REQUESTS,
        "Prometheus remote_write requests by outcome (success, retry, failure)"
    );
    describe_gauge!(
        REMOTE_WRITE_QUEUE,
        "Samples waiting in the Prometheus remote_write queue"
    );
    describe_gauge!(
        REMOTE_WRITE_LAST_SUCCESS,
        Unit::Seconds,
        "Unix time of the last accepted Prometheus remote_write request"
    );
}
