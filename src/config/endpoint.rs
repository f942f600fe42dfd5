//! Platform endpoints declared in the file (`[[pve]]`, `[[pbs]]`, `[[pmg]]`, `[[truenas]]`): their raw
//! TOML shape and the validated [`EndpointConfig`].

use std::collections::HashSet;
use std::time::Duration;

use serde::Deserialize;

use super::parse::{config_error, secs};
use super::secret::Secret;
use super::url::HttpUrl;
use crate::error::Result;

/// Allowed range of a per-endpoint poll interval, in seconds.
pub(super) const POLL_RANGE: std::ops::RangeInclusive<u64> = 1..=3600;

/// The platform an endpoint belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EndpointKind {
    /// Proxmox VE.
    Pve,
    /// Proxmox Backup Server.
    Pbs,
    /// Proxmox Mail Gateway.
    Pmg,
    /// TrueNAS SCALE/CORE.
    Truenas,
}

impl EndpointKind {
    /// The name of its array of tables in the file (`pve`, `pbs`, `pmg`, `truenas`).
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointKind::Pve => "pve",
            EndpointKind::Pbs => "pbs",
            EndpointKind::Pmg => "pmg",
            EndpointKind::Truenas => "truenas",
        }
    }

    /// The platform's usual API port, used when `host` names neither scheme nor port.
    pub fn default_port(self) -> u16 {
        match self {
            EndpointKind::Pve | EndpointKind::Pmg => 8006,
            EndpointKind::Pbs => 8007,
            EndpointKind::Truenas => 443,
        }
    }
}

/// A validated endpoint to monitor. Secrets are [`Secret`]s and never appear in `Debug` output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointConfig {
    /// Which platform.
    pub kind: EndpointKind,
    /// Unique name within its kind.
    pub name: String,
    /// Base URL; a bare `host` becomes `https://host:<default port>`.
    pub host: HttpUrl,
    /// Proxmox API token id, `user@realm!tokenname`.
    pub token_name: Option<String>,
    /// Proxmox API token secret.
    pub token_value: Option<Secret>,
    /// TrueNAS API key.
    pub api_key: Option<Secret>,
    /// Login user (Proxmox `user@realm`, TrueNAS username).
    pub user: Option<String>,
    /// Login password.
    pub password: Option<Secret>,
    /// Pinned SHA-256 certificate fingerprint: 64 lower-case hex digits, no separators.
    pub fingerprint: Option<String>,
    /// Whether to verify the TLS certificate against the system roots (pinning works either way).
    pub verify_ssl: bool,
    /// Poll interval of this endpoint (its own, or the `[polling]` default of its kind).
    pub poll_interval: Duration,
    /// Further API addresses of the same PVE cluster, tried in order when `host` fails.
    pub cluster_endpoints: Vec<HttpUrl>,
    /// Which parts of the platform to collect.
    pub monitor: MonitorFlags,
}

/// Which parts of an endpoint to collect (upstream's `monitor*` switches); all on by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MonitorFlags {
    /// PVE virtual machines.
    pub vms: bool,
    /// PVE LXC containers.
    pub containers: bool,
    /// PVE storage and ZFS pools.
    pub storage: bool,
    /// PVE vzdump tasks; PBS namespaces, groups and snapshots.
    pub backups: bool,
    /// PVE physical disks (SMART).
    pub physical_disks: bool,
}

impl Default for MonitorFlags {
    fn default() -> Self {
        MonitorFlags {
            vms: true,
            containers: true,
            storage: true,
            backups: true,
            physical_disks: true,
        }
    }
}

/// `monitor = { … }` of an endpoint table, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMonitor {
    pub(crate) vms: Option<bool>,
    pub(crate) containers: Option<bool>,
    pub(crate) storage: Option<bool>,
    pub(crate) backups: Option<bool>,
    pub(crate) physical_disks: Option<bool>,
}

/// One `[[kind]]` table as written in the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEndpoint {
    pub(crate) name: Option<String>,
    pub(crate) host: Option<String>,
    pub(crate) token_name: Option<String>,
    pub(crate) token_value: Option<Secret>,
    pub(crate) api_key: Option<Secret>,
    pub(crate) user: Option<String>,
    pub(crate) password: Option<Secret>,
    pub(crate) fingerprint: Option<String>,
    pub(crate) verify_ssl: Option<bool>,
    pub(crate) poll_interval_secs: Option<u64>,
    pub(crate) cluster_endpoints: Option<Vec<String>>,
    pub(crate) monitor: Option<RawMonitor>,
}

/// Validates the `[[kind]]` tables, in order; `default_interval` applies where none is given.
pub(super) fn validate_all(
    kind: EndpointKind,
    raw: Vec<RawEndpoint>,
    default_interval: Duration,
) -> Result<Vec<EndpointConfig>> {
    let mut names = HashSet::new();
    raw.into_iter()
        .enumerate()
        .map(|(i, r)| {
            let at = format!("{}[{i}]", kind.as_str());
            let endpoint = validate(kind, &at, r, default_interval)?;
            if !names.insert(endpoint.name.clone()) {
                return Err(config_error(
                    &format!("{at}.name"),
                    &endpoint.name,
                    format!("a name not used by another [[{}]] entry", kind.as_str()),
                ));
            }
            Ok(endpoint)
        })
        .collect()
}

/// Validates one endpoint found at `at` (e.g. `pve[0]`, or empty for an API body: then errors name
/// the bare field). Errors are [`crate::Error::Config`] naming `<at>.<field>`, the value and what is
/// allowed.
pub(crate) fn validate(
    kind: EndpointKind,
    at: &str,
    raw: RawEndpoint,
    default_interval: Duration,
) -> Result<EndpointConfig> {
    let key = |field: &str| {
        if at.is_empty() {
            field.to_owned()
        } else {
            format!("{at}.{field}")
        }
    };
    let name = raw.name.as_deref().unwrap_or_default();
    if name.trim().is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(config_error(
            &key("name"),
            name,
            "a name of 1-64 characters",
        ));
    }
    let host_text = raw.host.as_deref().unwrap_or_default();
    let host = HttpUrl::parse(host_text, Some((true, kind.default_port())))
        .map_err(|why| config_error(&key("host"), host_text, why))?;
    if !host.is_https() {
        return Err(config_error(
            &key("host"),
            host_text,
            "an https:// address: credentials are never sent over plain http",
        ));
    }
    check_credentials(kind, &key, &raw)?;
    let fingerprint = raw
        .fingerprint
        .as_deref()
        .map(|f| {
            normalise_fingerprint(f).ok_or_else(|| {
                config_error(
                    &key("fingerprint"),
                    f,
                    "a SHA-256 fingerprint: 64 hex digits, optionally colon-separated",
                )
            })
        })
        .transpose()?;
    let poll_interval = match raw.poll_interval_secs {
        Some(s) => secs(&key("poll_interval_secs"), s, POLL_RANGE)?,
        None => default_interval,
    };
    let cluster_endpoints = raw
        .cluster_endpoints
        .unwrap_or_default()
        .iter()
        .map(|h| {
            if kind != EndpointKind::Pve {
                return Err(config_error(
                    &key("cluster_endpoints"),
                    h,
                    "cluster endpoints only for [[pve]]",
                ));
            }
            HttpUrl::parse(h, Some((true, kind.default_port())))
                .map_err(|why| config_error(&key("cluster_endpoints"), h, why))
        })
        .collect::<Result<Vec<_>>>()?;
    if cluster_endpoints.len() > 32 {
        return Err(config_error(
            &key("cluster_endpoints"),
            &cluster_endpoints.len().to_string(),
            "at most 32 cluster endpoints",
        ));
    }
    let monitor = monitor_flags(kind, &key, raw.monitor.unwrap_or_default())?;
    Ok(EndpointConfig {
        monitor,
        cluster_endpoints,
        kind,
        name: name.to_owned(),
        host,
        token_name: raw.token_name,
        token_value: raw.token_value,
        api_key: raw.api_key,
        user: raw.user,
        password: raw.password,
        fingerprint,
        verify_ssl: raw.verify_ssl.unwrap_or(true),
        poll_interval,
    })
}

/// The switches of `raw`, refusing those the kind does not have (PVE has all; PBS `backups`).
fn monitor_flags(
    kind: EndpointKind,
    key: &dyn Fn(&str) -> String,
    raw: RawMonitor,
) -> Result<MonitorFlags> {
    let d = MonitorFlags::default();
    let pve_only = [
        ("vms", raw.vms),
        ("containers", raw.containers),
        ("storage", raw.storage),
        ("physical_disks", raw.physical_disks),
    ];
    for (name, value) in pve_only {
        if value.is_some() && kind != EndpointKind::Pve {
            return Err(config_error(
                &key(&format!("monitor.{name}")),
                name,
                "a switch of this platform (PVE: vms, containers, storage, backups, physical_disks; PBS: backups)",
            ));
        }
    }
    if raw.backups.is_some() && !matches!(kind, EndpointKind::Pve | EndpointKind::Pbs) {
        return Err(config_error(
            &key("monitor.backups"),
            "backups",
            "a switch of this platform (PVE and PBS have backups)",
        ));
    }
    Ok(MonitorFlags {
        vms: raw.vms.unwrap_or(d.vms),
        containers: raw.containers.unwrap_or(d.containers),
        storage: raw.storage.unwrap_or(d.storage),
        backups: raw.backups.unwrap_or(d.backups),
        physical_disks: raw.physical_disks.unwrap_or(d.physical_disks),
    })
}

/// Requires one complete set of credentials of the kind: a Proxmox API token (`token_name` +
/// `token_value`) or user + password; for TrueNAS an `api_key` (optionally with `user`, the key's
/// owner) or user + password.
fn check_credentials(
    kind: EndpointKind,
    key: &dyn Fn(&str) -> String,
    raw: &RawEndpoint,
) -> Result<()> {
    let RawEndpoint {
        token_name,
        token_value,
        api_key,
        user,
        password,
        ..
    } = raw;
    let present = |s: &Option<String>| s.as_deref().is_some_and(|v| !v.trim().is_empty());
    let secret = |s: &Option<Secret>| s.as_ref().is_some_and(|v| !v.expose().is_empty());
    let login = match (present(user), secret(password)) {
        (true, true) => true,
        (false, false) => false,
        // A TrueNAS API key logs in together with the name of the user it belongs to.
        (true, false) if kind == EndpointKind::Truenas && secret(api_key) => false,
        (true, false) => return Err(config_error(&key("password"), "", "a password for `user`")),
        (false, true) => return Err(config_error(&key("user"), "", "a user for `password`")),
    };
    let token = if kind == EndpointKind::Truenas {
        if token_name.is_some() || token_value.is_some() {
            return Err(config_error(
                &key("token_name"),
                token_name.as_deref().unwrap_or(""),
                "no token_name/token_value for TrueNAS: use api_key, or user and password",
            ));
        }
        secret(api_key)
    } else {
        if api_key.is_some() {
            return Err(config_error(
                &key("api_key"),
                "***",
                "api_key only for [[truenas]]: use token_name and token_value, or user and password",
            ));
        }
        match (token_name.as_deref(), secret(token_value)) {
            (Some(id), true) if is_proxmox_token_id(id) => true,
            (Some(id), true) => {
                return Err(config_error(
                    &key("token_name"),
                    id,
                    "a token id like pulse-monitor@pam!pulse",
                ))
            }
            (Some(id), false) => {
                return Err(config_error(
                    &key("token_value"),
                    id,
                    "the secret of token_name",
                ))
            }
            (None, true) => {
                return Err(config_error(
                    &key("token_name"),
                    "",
                    "the token id of token_value",
                ))
            }
            (None, false) => false,
        }
    };
    if token || login {
        Ok(())
    } else {
        let allowed = if kind == EndpointKind::Truenas {
            "credentials: api_key, or user and password"
        } else {
            "credentials: token_name and token_value, or user and password"
        };
        Err(config_error(&key("credentials"), "", allowed))
    }
}

/// Whether `id` has the Proxmox token id shape `user@realm!name`.
fn is_proxmox_token_id(id: &str) -> bool {
    match id
        .split_once('@')
        .and_then(|(user, rest)| Some((user, rest.split_once('!')?)))
    {
        Some((user, (realm, name))) => !user.is_empty() && !realm.is_empty() && !name.is_empty(),
        None => false,
    }
}

/// A fingerprint as 64 lower-case hex digits, if `input` is one (colons and spaces allowed).
fn normalise_fingerprint(input: &str) -> Option<String> {
    let hex: String = input
        .chars()
        .filter(|c| *c != ':' && !c.is_whitespace())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hex)
}
