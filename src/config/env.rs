//! The `PULSE_*` environment layer: each variable overrides the file key of the same meaning.

use super::parse::{
    boolean, cidrs, data_dir, log_format, log_level, metrics_listen, optional_url, password,
    socket_addr, username,
};
use super::secret::Secret;
use super::settings::Settings;
use crate::error::Result;

/// Names the configuration file (the `--config` flag wins over it).
pub(super) const PULSE_CONFIG: &str = "PULSE_CONFIG";

/// A variable's value; unset, empty and all-blank values count as unset (so `${VAR:-}` in a compose
/// file does not override anything).
pub(super) fn var(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    env(name).filter(|v| !v.trim().is_empty())
}

/// Applies every `PULSE_*` variable that is set onto `s`.
pub(super) fn apply(s: &mut Settings, env: &dyn Fn(&str) -> Option<String>) -> Result<()> {
    let get = |name: &str| var(env, name).map(|v| (name.to_owned(), v));
    if let Some((k, v)) = get("PULSE_LISTEN") {
        s.listen = socket_addr(&k, &v)?;
    }
    if let Some((k, v)) = get("PULSE_DATA_DIR") {
        s.data_dir = data_dir(&k, &v)?;
    }
    if let Some((k, v)) = get("PULSE_METRICS_LISTEN") {
        s.metrics_listen = metrics_listen(&k, &v)?;
    }
    if let Some((k, v)) = get("PULSE_LOG_FORMAT") {
        s.log_format = log_format(&k, &v)?;
    }
    if let Some((k, v)) = get("PULSE_LOG_LEVEL") {
        s.log_level = log_level(&k, &v)?;
    }
    if let Some((k, v)) = get("PULSE_AUTH_USER") {
        s.auth_user = Some(username(&k, &v)?);
    }
    if let Some((k, v)) = get("PULSE_AUTH_PASS") {
        s.auth_pass = Some(password(&k, Secret::new(v))?);
    }
    if let Some((k, v)) = get("PULSE_REMOTE_WRITE_URL") {
        s.remote_write_url = optional_url(&k, &v)?;
    }
    if let Some((k, v)) = get("PULSE_WEBHOOK_ALLOWED_CIDRS") {
        s.webhook_allowed_cidrs = cidrs(&k, v.split(',').filter(|c| !c.trim().is_empty()))?;
    }
    if let Some((k, v)) = get("PULSE_HOSTED_MODE") {
        s.hosted_mode = boolean(&k, &v)?;
    }
    if let Some((k, v)) = get("PULSE_MULTI_TENANT_ENABLED") {
        s.multi_tenant_enabled = boolean(&k, &v)?;
    }
    Ok(())
}
