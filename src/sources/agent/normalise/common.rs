//! Helpers shared by the three normalisers: agent ids, liveness windows, metric values, facets
//! and interface classification.

use pulse_model::identity::{normalise_ip, normalise_mac};
use pulse_model::json::prune_null_members;
use pulse_model::{Identity, MetricValue, Status};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::sources::agent::wire::NetInterface;

/// Report interval assumed when the agent does not send one (platforms §5.1).
pub const DEFAULT_INTERVAL_SECS: u64 = 30;
/// Longest agent id used verbatim; longer candidates are hashed.
const MAX_VERBATIM_ID: usize = 128;

/// The trimmed text of an optional string, `None` when absent or blank.
pub(super) fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

/// The agent id of a report (platforms §18): the first usable of `host.id`, `host.machineId`,
/// `agent.id`, hostname. Usable means at most 128 characters of `[A-Za-z0-9._:-]`, so the id is
/// safe in record ids, scopes and counter keys. When none is usable the id is
/// `agent-<12 hex of SHA-256(first non-empty candidate)>`.
pub fn derive_agent_id(candidates: &[Option<&str>]) -> String {
    let present = || {
        candidates
            .iter()
            .flatten()
            .map(|c| c.trim())
            .filter(|c| !c.is_empty())
    };
    if let Some(id) = present().find(|c| is_safe_id(c)) {
        return id.to_owned();
    }
    let seed = present().next().unwrap_or_default();
    let digest = Sha256::digest(seed.as_bytes());
    format!("agent-{}", &hex::encode(digest)[..12])
}

/// Whether `id` can be used verbatim as an agent id.
fn is_safe_id(id: &str) -> bool {
    id.len() <= MAX_VERBATIM_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// When a source's view of a record turns stale and offline, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Liveness {
    /// Stale after this long without a report.
    pub stale_after_ms: u64,
    /// Offline after this long without a report.
    pub offline_after_ms: u64,
}

impl Liveness {
    /// Host agents (platforms §5.6): offline after 6 intervals, clamped to 60 s..10 min; stale
    /// after 2 intervals (one missed report), at least 60 s (the upstream agent staleness).
    pub fn host(interval_seconds: Option<u64>) -> Self {
        Self::windows(interval_seconds, 6, 60)
    }

    /// Docker and Kubernetes agents (platforms §5.6): offline after 4 intervals, clamped to
    /// 30 s..10 min; stale after 2 intervals, at least 30 s.
    pub fn container_platform(interval_seconds: Option<u64>) -> Self {
        Self::windows(interval_seconds, 4, 30)
    }

    /// Offline after `multiplier` intervals within `floor_secs`..600 s; stale after two intervals
    /// within `floor_secs`..offline.
    fn windows(interval_seconds: Option<u64>, multiplier: u64, floor_secs: u64) -> Self {
        let interval = interval_seconds
            .filter(|&s| s > 0)
            .unwrap_or(DEFAULT_INTERVAL_SECS);
        let offline = interval.saturating_mul(multiplier).clamp(floor_secs, 600);
        let stale = interval.saturating_mul(2).clamp(floor_secs, offline);
        Liveness {
            stale_after_ms: stale * 1000,
            offline_after_ms: offline * 1000,
        }
    }

    /// Sets the windows on a record.
    pub(super) fn apply(self, record: &mut pulse_model::SourceRecord) {
        record.stale_after_ms = Some(self.stale_after_ms);
        record.offline_after_ms = Some(self.offline_after_ms);
    }
}

/// A CPU metric in percent.
pub(super) fn percent_metric(percent: f64) -> MetricValue {
    MetricValue {
        value: Some(percent),
        percent: Some(percent),
        unit: "percent".into(),
        ..MetricValue::default()
    }
}

/// A usage metric in bytes; the percentage is computed when the total is known and non-zero.
pub(super) fn bytes_metric(used: u64, total: Option<u64>) -> MetricValue {
    let total = total.filter(|&t| t > 0);
    let percent = total.map(|t| ratio_percent(used, t));
    MetricValue {
        value: Some(used as f64),
        used: Some(used),
        total,
        percent,
        unit: "bytes".into(),
    }
}

/// A rate metric in bytes per second.
pub(super) fn rate_metric(bytes_per_second: f64) -> MetricValue {
    MetricValue {
        value: Some(bytes_per_second),
        unit: "bytes/s".into(),
        ..MetricValue::default()
    }
}

/// `part / whole` in percent, clamped to 0..=100; `whole` must not be zero.
pub(super) fn ratio_percent(part: u64, whole: u64) -> f64 {
    (part as f64 * 100.0 / whole as f64).clamp(0.0, 100.0)
}

/// Sums rates, `None` when there is none (no counter had a previous sample yet).
pub(super) fn sum_rates(rates: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    rates
        .into_iter()
        .flatten()
        .fold(None, |sum, r| Some(sum.unwrap_or(0.0) + r))
}

/// Maps running versus desired tasks or replicas to a status (upstream §6.2 Swarm rule, also used
/// for Kubernetes deployments): running ≥ desired → online (also 0 of 0, a service scaled to
/// zero is as intended), none running → offline, otherwise warning.
pub(super) fn replica_status(running: u64, desired: u64) -> Status {
    if running >= desired {
        Status::Online
    } else if running == 0 {
        Status::Offline
    } else {
        Status::Warning
    }
}

/// A facet object with its `null` members removed (absent optional facts are left out).
pub(super) fn facet(mut value: Value) -> Value {
    prune_null_members(&mut value);
    value
}

/// Interfaces that exist per container or VM, or only on the host's inside (loopback, veth
/// pairs, Docker/CNI bridges, VM taps, Proxmox firewall links): excluded from host traffic sums
/// (their traffic is counted again on the physical interface) and from identity.
pub(super) fn is_virtual_interface(name: &str) -> bool {
    const PREFIXES: [&str; 12] = [
        "veth", "docker", "br-", "virbr", "tap", "fwbr", "fwpr", "fwln", "cni", "flannel", "cali",
        "vnet",
    ];
    name == "lo" || PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Adds the addresses and MACs of the host's real interfaces to `identity` (CIDR suffixes
/// stripped, MACs normalised, unparsable entries dropped).
pub(super) fn add_interface_identity(identity: &mut Identity, interfaces: &[NetInterface]) {
    for nic in interfaces {
        if text(&nic.name).is_some_and(is_virtual_interface) {
            continue;
        }
        identity
            .ip_addresses
            .extend(nic.addresses.iter().filter_map(|a| normalise_ip(a)));
        if let Some(mac) = text(&nic.mac).and_then(normalise_mac) {
            identity.mac_addresses.push(mac);
        }
    }
    identity.ip_addresses.sort_unstable();
    identity.ip_addresses.dedup();
    identity.mac_addresses.sort_unstable();
    identity.mac_addresses.dedup();
}

/// Whether `name` has the shape of a DNS hostname (labels of letters, digits, `-`, `_`).
pub(super) fn looks_like_hostname(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.trim_end_matches('.').split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_id_order_follows_section_18() {
        let id = |c: &[Option<&str>]| derive_agent_id(c);
        assert_eq!(
            id(&[Some("h-1"), Some("m"), Some("a"), Some("host")]),
            "h-1"
        );
        assert_eq!(id(&[None, Some("m"), Some("a"), Some("host")]), "m");
        assert_eq!(id(&[Some(" "), None, Some("a"), Some("host")]), "a");
        assert_eq!(id(&[None, None, None, Some("host.lan")]), "host.lan");
        let hashed = id(&[None, None, None, Some("My PC")]);
        assert!(
            hashed.starts_with("agent-") && hashed.len() == 18,
            "{hashed}"
        );
        assert_eq!(
            hashed,
            id(&[None, None, None, Some("My PC")]),
            "deterministic"
        );
        assert_eq!(id(&[Some("bad id"), None, None, Some("good")]), "good");
    }

    #[test]
    fn liveness_windows() {
        let host = Liveness::host(None);
        assert_eq!(
            (host.stale_after_ms, host.offline_after_ms),
            (60_000, 180_000)
        );
        let host = Liveness::host(Some(5));
        assert_eq!(
            (host.stale_after_ms, host.offline_after_ms),
            (60_000, 60_000)
        );
        let host = Liveness::host(Some(300));
        assert_eq!(
            (host.stale_after_ms, host.offline_after_ms),
            (600_000, 600_000)
        );
        let docker = Liveness::container_platform(Some(0));
        assert_eq!(
            (docker.stale_after_ms, docker.offline_after_ms),
            (60_000, 120_000)
        );
        let docker = Liveness::container_platform(Some(5));
        assert_eq!(
            (docker.stale_after_ms, docker.offline_after_ms),
            (30_000, 30_000)
        );
        let docker = Liveness::container_platform(Some(u64::MAX));
        assert_eq!(
            (docker.stale_after_ms, docker.offline_after_ms),
            (600_000, 600_000)
        );
    }

    #[test]
    fn metrics_and_sums() {
        let m = bytes_metric(25, Some(100));
        assert_eq!(
            (m.used, m.total, m.percent),
            (Some(25), Some(100), Some(25.0))
        );
        let m = bytes_metric(25, Some(0));
        assert_eq!((m.total, m.percent), (None, None));
        assert_eq!(ratio_percent(200, 100), 100.0);
        assert_eq!(sum_rates([None, None]), None);
        assert_eq!(sum_rates([None, Some(1.5), Some(2.0)]), Some(3.5));
    }

    #[test]
    fn replica_status_mapping() {
        assert_eq!(replica_status(3, 3), Status::Online);
        assert_eq!(replica_status(4, 3), Status::Online);
        assert_eq!(replica_status(0, 0), Status::Online);
        assert_eq!(replica_status(0, 3), Status::Offline);
        assert_eq!(replica_status(1, 3), Status::Warning);
    }

    #[test]
    fn hostname_shapes() {
        assert!(looks_like_hostname("pve1"));
        assert!(looks_like_hostname("pve1.lan."));
        assert!(!looks_like_hostname("Living room PC"));
        assert!(!looks_like_hostname("a..b"));
        assert!(!looks_like_hostname(""));
    }
}
