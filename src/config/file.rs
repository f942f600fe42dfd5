//! The TOML configuration file: its shape (unknown keys refused), reading it with a size limit, and
//! turning parse errors into configuration errors that name the key, line and column.

use std::io::Read;
use std::path::Path;

use serde::Deserialize;

use super::endpoint::RawEndpoint;
use super::parse::config_error;
use super::secret::Secret;
use crate::error::{Error, Result};

/// Largest configuration file accepted.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Keys whose values are secrets and must never be echoed in an error.
const SECRET_KEYS: [&str; 6] = [
    "pass",
    "password",
    "token_value",
    "api_key",
    "remote_write_password",
    "remote_write_bearer_token",
];

/// The whole file. Every section is optional; every key inside is optional (defaults live in
/// `Settings::default`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileConfig {
    #[serde(default)]
    pub(super) server: ServerSection,
    #[serde(default)]
    pub(super) log: LogSection,
    #[serde(default)]
    pub(super) metrics: MetricsSection,
    #[serde(default)]
    pub(super) auth: AuthSection,
    #[serde(default)]
    pub(super) notifications: NotificationsSection,
    #[serde(default)]
    pub(super) polling: PollingSection,
    #[serde(default)]
    pub(super) ws: WsSection,
    #[serde(default)]
    pub(super) history: HistorySection,
    #[serde(default)]
    pub(super) pve: Vec<RawEndpoint>,
    #[serde(default)]
    pub(super) pbs: Vec<RawEndpoint>,
    #[serde(default)]
    pub(super) pmg: Vec<RawEndpoint>,
    #[serde(default)]
    pub(super) truenas: Vec<RawEndpoint>,
}

/// `[server]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ServerSection {
    pub(super) listen: Option<String>,
    pub(super) data_dir: Option<String>,
    pub(super) allowed_origins: Option<Vec<String>>,
    pub(super) hosted_mode: Option<bool>,
    pub(super) multi_tenant_enabled: Option<bool>,
}

/// `[log]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LogSection {
    pub(super) format: Option<String>,
    pub(super) level: Option<String>,
}

/// `[metrics]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MetricsSection {
    pub(super) listen: Option<String>,
    pub(super) remote_write_url: Option<String>,
    pub(super) remote_write_username: Option<String>,
    pub(super) remote_write_password: Option<Secret>,
    pub(super) remote_write_bearer_token: Option<Secret>,
    pub(super) remote_write_interval_secs: Option<u64>,
    pub(super) remote_write_queue_capacity: Option<u64>,
    pub(super) remote_write_batch_size: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct HistorySection {
    pub(super) flush_interval_secs: Option<u64>,
    pub(super) raw_retention_hours: Option<u64>,
    pub(super) minute_retention_hours: Option<u64>,
    pub(super) hour_retention_days: Option<u64>,
    pub(super) day_retention_days: Option<u64>,
}

/// `[auth]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AuthSection {
    pub(super) user: Option<String>,
    pub(super) pass: Option<Secret>,
}

/// `[notifications]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NotificationsSection {
    pub(super) webhook_allowed_cidrs: Option<Vec<String>>,
}

/// `[polling]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PollingSection {
    pub(super) pve_interval_secs: Option<u64>,
    pub(super) pbs_interval_secs: Option<u64>,
    pub(super) pmg_interval_secs: Option<u64>,
    pub(super) truenas_interval_secs: Option<u64>,
    pub(super) connection_timeout_secs: Option<u64>,
    pub(super) agent_report_interval_secs: Option<u64>,
}

/// `[ws]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WsSection {
    pub(super) queue_capacity: Option<u64>,
    pub(super) ping_interval_secs: Option<u64>,
    pub(super) idle_timeout_secs: Option<u64>,
    pub(super) coalesce_ms: Option<u64>,
}

/// Reads and parses the file at `path`; `source_key` names where the path came from (`--config`,
/// `PULSE_CONFIG`) for errors about the file itself.
pub(super) fn read(path: &Path, source_key: &str) -> Result<FileConfig> {
    let shown = path.display().to_string();
    let unreadable =
        |why: String| config_error(source_key, &shown, format!("a readable TOML file ({why})"));
    let file = std::fs::File::open(path).map_err(|e| unreadable(e.to_string()))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| unreadable(e.to_string()))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(unreadable(format!(
            "it is larger than {MAX_FILE_BYTES} bytes"
        )));
    }
    let text = String::from_utf8(bytes).map_err(|_| unreadable("it is not UTF-8".to_owned()))?;
    parse(&text, &shown)
}

/// Parses file text; `name` identifies the file in errors.
pub(super) fn parse(text: &str, name: &str) -> Result<FileConfig> {
    toml::from_str(text).map_err(|e| locate(text, name, &e))
}

/// Turns a TOML error into `Error::Config` naming the dotted key (when one can be found), its value
/// (never for secret keys), the problem, and the line and column.
fn locate(text: &str, name: &str, e: &toml::de::Error) -> Error {
    let message = e.message().replace('\n', "; ");
    let Some(mut offset) = e.span().map(|s| s.start.min(text.len())) else {
        return config_error(name, "", format!("valid TOML: {message}"));
    };
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    let at = format!("{name} line {line}, column {column}");
    match key_at(text, line - 1) {
        Some((key, value)) => {
            let last = key.rsplit('.').next().unwrap_or(&key);
            let value = if SECRET_KEYS.contains(&last) {
                "***".to_owned()
            } else {
                value
            };
            config_error(&key, &value, format!("{message} (at {at})"))
        }
        None => config_error(&at, "", format!("valid TOML: {message}")),
    }
}

/// The dotted key (with its table path, e.g. `pve[1].host`) and raw value text of the key/value
/// pair at or above line `index` (0-based), or the table header on that line.
fn key_at(text: &str, index: usize) -> Option<(String, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let index = index.min(lines.len().checked_sub(1)?);
    for i in (0..=index).rev() {
        let line = lines[i].trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some(header) = header_of(line) {
            return (i == index).then(|| (header.to_owned(), String::new()));
        }
        if let Some((key, value)) = line.split_once('=') {
            let key = key.trim().trim_matches(['"', '\'']);
            let path = match table_path(&lines[..i]) {
                Some(table) => format!("{table}.{key}"),
                None => key.to_owned(),
            };
            let value = value.trim().trim_matches(['"', '\'']);
            return Some((path, value.to_owned()));
        }
    }
    None
}

/// The path of the table the line after `lines` belongs to: `server`, or `pve[1]` for the second
/// `[[pve]]`.
fn table_path(lines: &[&str]) -> Option<String> {
    let (pos, header) = lines
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, l)| header_of(l.trim()).map(|h| (i, h)))?;
    if !lines[pos].trim().starts_with("[[") {
        return Some(header.to_owned());
    }
    let index = lines[..pos]
        .iter()
        .filter(|l| header_of(l.trim()) == Some(header) && l.trim().starts_with("[["))
        .count();
    Some(format!("{header}[{index}]"))
}

/// The name inside a `[table]` or `[[array]]` header line.
fn header_of(line: &str) -> Option<&str> {
    let line = line.split('#').next()?.trim();
    let inner = line.strip_prefix("[[").and_then(|l| l.strip_suffix("]]"));
    let inner = inner.or_else(|| line.strip_prefix('[').and_then(|l| l.strip_suffix(']')))?;
    Some(inner.trim())
}
