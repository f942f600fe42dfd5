//! Layering: defaults < file < `PULSE_*` environment < flags, then checks across keys.

use std::path::{Path, PathBuf};

use super::endpoint::{validate_all, EndpointKind, POLL_RANGE};
use super::env::{self, PULSE_CONFIG};
use super::file::{self, FileConfig};
use super::parse::{
    cidrs, config_error, count, data_dir, days, hours, log_format, log_level, metrics_listen,
    millis, optional_url, origins, password, secret, secs, socket_addr, username,
};
use super::settings::Settings;
use crate::error::Result;

/// Values given on the command line; they win over everything else.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CliOverrides {
    /// `--listen ADDR`.
    pub listen: Option<String>,
    /// `--data-dir DIR`.
    pub data_dir: Option<PathBuf>,
    /// `--config FILE`.
    pub config: Option<PathBuf>,
}

impl Settings {
    /// Loads the configuration with precedence flags > `PULSE_*` environment > file > defaults, and
    /// validates it. The file is `overrides.config`, else `PULSE_CONFIG`, else `file` (e.g. the path
    /// read at startup, when reloading); with none of them only environment and flags apply. A named
    /// file that cannot be read is an error. `env` looks up one variable (`|k| std::env::var(k).ok()`).
    pub fn load(
        file: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
        overrides: CliOverrides,
    ) -> Result<Settings> {
        let chosen = match (&overrides.config, env::var(env, PULSE_CONFIG)) {
            (Some(path), _) => Some((path.clone(), "--config")),
            (None, Some(path)) => Some((PathBuf::from(path), PULSE_CONFIG)),
            (None, None) => file.map(|p| (p.to_path_buf(), "config file")),
        };
        let parsed = match &chosen {
            Some((path, key)) => file::read(path, key)?,
            None => FileConfig::default(),
        };
        let mut settings = layer(parsed, env, &overrides)?;
        settings.config_file = chosen.map(|(path, _)| path);
        Ok(settings)
    }
}

/// Applies the file, the environment and the flags onto the defaults, then checks across keys.
pub(super) fn layer(
    file: FileConfig,
    env: &dyn Fn(&str) -> Option<String>,
    overrides: &CliOverrides,
) -> Result<Settings> {
    let mut s = Settings::default();
    apply_file(&mut s, file)?;
    env::apply(&mut s, env)?;
    if let Some(v) = &overrides.listen {
        s.listen = socket_addr("--listen", v)?;
    }
    if let Some(v) = &overrides.data_dir {
        if v.as_os_str().is_empty() {
            return Err(config_error("--data-dir", "", "a directory path"));
        }
        s.data_dir = v.clone();
    }
    check_across_keys(&s)?;
    Ok(s)
}

/// Applies every key present in the file.
fn apply_file(s: &mut Settings, f: FileConfig) -> Result<()> {
    let server = f.server;
    if let Some(v) = server.listen {
        s.listen = socket_addr("server.listen", &v)?;
    }
    if let Some(v) = server.data_dir {
        s.data_dir = data_dir("server.data_dir", &v)?;
    }
    if let Some(v) = server.allowed_origins {
        s.allowed_origins = origins("server.allowed_origins", &v)?;
    }
    s.hosted_mode = server.hosted_mode.unwrap_or(s.hosted_mode);
    s.multi_tenant_enabled = server
        .multi_tenant_enabled
        .unwrap_or(s.multi_tenant_enabled);
    if let Some(v) = f.log.format {
        s.log_format = log_format("log.format", &v)?;
    }
    if let Some(v) = f.log.level {
        s.log_level = log_level("log.level", &v)?;
    }
    let m = f.metrics;
    if let Some(v) = m.listen {
        s.metrics_listen = metrics_listen("metrics.listen", &v)?;
    }
    if let Some(v) = m.remote_write_url {
        s.remote_write_url = optional_url("metrics.remote_write_url", &v)?;
    }
    if let Some(v) = m.remote_write_username {
        s.remote_write.username = Some(username("metrics.remote_write_username", &v)?);
    }
    if let Some(v) = m.remote_write_password {
        s.remote_write.password = Some(secret("metrics.remote_write_password", v)?);
    }
    if let Some(v) = m.remote_write_bearer_token {
        s.remote_write.bearer_token = Some(secret("metrics.remote_write_bearer_token", v)?);
    }
    if let Some(v) = m.remote_write_interval_secs {
        s.remote_write.interval = secs("metrics.remote_write_interval_secs", v, 1..=300)?;
    }
    if let Some(v) = m.remote_write_queue_capacity {
        let key = "metrics.remote_write_queue_capacity";
        s.remote_write.queue_capacity = count(key, v, 1_000..=10_000_000)?;
    }
    if let Some(v) = m.remote_write_batch_size {
        s.remote_write.batch_size = count("metrics.remote_write_batch_size", v, 1..=100_000)?;
    }
    let h = f.history;
    if let Some(v) = h.flush_interval_secs {
        s.history.flush_interval = secs("history.flush_interval_secs", v, 1..=300)?;
    }
    if let Some(v) = h.raw_retention_hours {
        s.history.raw_retention = hours("history.raw_retention_hours", v, 1..=48)?;
    }
    if let Some(v) = h.minute_retention_hours {
        s.history.minute_retention = hours("history.minute_retention_hours", v, 1..=24 * 31)?;
    }
    if let Some(v) = h.hour_retention_days {
        s.history.hour_retention = days("history.hour_retention_days", v, 1..=366)?;
    }
    if let Some(v) = h.day_retention_days {
        s.history.day_retention = days("history.day_retention_days", v, 1..=3660)?;
    }
    if let Some(v) = f.auth.user {
        s.auth_user = Some(username("auth.user", &v)?);
    }
    if let Some(v) = f.auth.pass {
        s.auth_pass = Some(password("auth.pass", v)?);
    }
    if let Some(v) = f.notifications.webhook_allowed_cidrs {
        let key = "notifications.webhook_allowed_cidrs";
        s.webhook_allowed_cidrs = cidrs(key, v.iter().map(String::as_str))?;
    }

    let p = f.polling;
    let poll = POLL_RANGE;
    if let Some(v) = p.pve_interval_secs {
        s.polling.pve = secs("polling.pve_interval_secs", v, poll.clone())?;
    }
    if let Some(v) = p.pbs_interval_secs {
        s.polling.pbs = secs("polling.pbs_interval_secs", v, poll.clone())?;
    }
    if let Some(v) = p.pmg_interval_secs {
        s.polling.pmg = secs("polling.pmg_interval_secs", v, poll.clone())?;
    }
    if let Some(v) = p.truenas_interval_secs {
        s.polling.truenas = secs("polling.truenas_interval_secs", v, poll.clone())?;
    }
    if let Some(v) = p.connection_timeout_secs {
        s.polling.connection_timeout = secs("polling.connection_timeout_secs", v, 1..=600)?;
    }
    if let Some(v) = p.agent_report_interval_secs {
        s.polling.agent_report_interval = secs("polling.agent_report_interval_secs", v, poll)?;
    }

    let w = f.ws;
    if let Some(v) = w.queue_capacity {
        s.ws.queue_capacity = count("ws.queue_capacity", v, 8..=65_536)?;
    }
    if let Some(v) = w.ping_interval_secs {
        s.ws.ping_interval = secs("ws.ping_interval_secs", v, 1..=3600)?;
    }
    if let Some(v) = w.idle_timeout_secs {
        s.ws.idle_timeout = secs("ws.idle_timeout_secs", v, 2..=86_400)?;
    }
    if let Some(v) = w.coalesce_ms {
        s.ws.coalesce = millis("ws.coalesce_ms", v, 0..=5_000)?;
    }

    s.pve = validate_all(EndpointKind::Pve, f.pve, s.polling.pve)?;
    s.pbs = validate_all(EndpointKind::Pbs, f.pbs, s.polling.pbs)?;
    s.pmg = validate_all(EndpointKind::Pmg, f.pmg, s.polling.pmg)?;
    s.truenas = validate_all(EndpointKind::Truenas, f.truenas, s.polling.truenas)?;
    Ok(())
}

/// Rules that involve more than one key.
fn check_across_keys(s: &Settings) -> Result<()> {
    match (&s.auth_user, &s.auth_pass) {
        (Some(user), None) => {
            return Err(config_error(
                "auth.pass / PULSE_AUTH_PASS",
                "",
                format!("a password for auth user {user:?}: user and password are set together"),
            ))
        }
        (None, Some(_)) => {
            return Err(config_error(
                "auth.user / PULSE_AUTH_USER",
                "",
                "a username for the auth password: user and password are set together",
            ))
        }
        _ => {}
    }
    if s.ws.idle_timeout <= s.ws.ping_interval {
        return Err(config_error(
            "ws.idle_timeout_secs",
            &s.ws.idle_timeout.as_secs().to_string(),
            format!(
                "more than ws.ping_interval_secs ({})",
                s.ws.ping_interval.as_secs()
            ),
        ));
    }
    let rw = &s.remote_write;
    if rw.username.is_some() != rw.password.is_some() {
        return Err(config_error(
            "metrics.remote_write_username / metrics.remote_write_password",
            "",
            "both set (basic auth) or neither",
        ));
    }
    if rw.username.is_some() && rw.bearer_token.is_some() {
        return Err(config_error(
            "metrics.remote_write_bearer_token",
            "***",
            "either basic auth or a bearer token, not both",
        ));
    }
    let h = &s.history;
    let tiers = [
        ("history.raw_retention_hours", h.raw_retention),
        ("history.minute_retention_hours", h.minute_retention),
        ("history.hour_retention_days", h.hour_retention),
        ("history.day_retention_days", h.day_retention),
    ];
    for pair in tiers.windows(2) {
        if pair[1].1 < pair[0].1 {
            return Err(config_error(
                pair[1].0,
                &format!("{} s", pair[1].1.as_secs()),
                format!(
                    "at least the retention of {} ({} s)",
                    pair[0].0,
                    pair[0].1.as_secs()
                ),
            ));
        }
    }
    if s.metrics_listen == Some(s.listen) {
        return Err(config_error(
            "metrics.listen / PULSE_METRICS_LISTEN",
            &s.listen.to_string(),
            "an address other than the HTTP listen address, or \"off\"",
        ));
    }
    Ok(())
}
