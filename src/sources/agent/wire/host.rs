//! Host report (`POST /api/agents/agent/report`, platforms §5.2). Only the members Pulse uses are
//! typed; the rest (`raid`, `ceph`, `libvirt`, `availabilityResults`, …) is skipped.

use pulse_model::Timestamp;
use serde::Deserialize;

use super::values::{nullable, time, Bytes, Dict, Gauge, List, Percent};
use super::{
    limit, required, MAX_ADDRESSES, MAX_DEVICES, MAX_HOSTNAME, MAX_ID, MAX_SENSORS, MAX_TAG,
    MAX_TAGS,
};
use crate::error::Result;

/// The agent process that reports (`agent`); shared by all three reports.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AgentInfo {
    /// Agent identifier.
    pub id: Option<String>,
    /// Agent version.
    pub version: Option<String>,
    /// `unified`, `host`, `docker`; empty for legacy agents.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Report interval in seconds; decides the liveness window (§5.6).
    pub interval_seconds: Option<u64>,
    /// Hostname the agent reports under.
    pub hostname: Option<String>,
}

/// Host identity and static facts (`host`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HostInfo {
    /// Explicit host id (first choice for the agent id, §18).
    pub id: Option<String>,
    /// Hostname; mandatory.
    pub hostname: Option<String>,
    /// Name to show instead of the hostname.
    pub display_name: Option<String>,
    /// `/etc/machine-id`.
    pub machine_id: Option<String>,
    /// `linux`, `windows`, `darwin`, `freebsd`.
    pub platform: Option<String>,
    /// OS name, e.g. `Ubuntu`.
    pub os_name: Option<String>,
    /// OS version, e.g. `24.04`.
    pub os_version: Option<String>,
    /// Kernel release.
    pub kernel_version: Option<String>,
    /// CPU architecture.
    pub architecture: Option<String>,
    /// CPU model name.
    pub cpu_model: Option<String>,
    /// Logical CPUs.
    pub cpu_count: Option<u64>,
    /// Seconds since boot.
    pub uptime_seconds: Option<u64>,
    /// 1, 5 and 15 minute load averages.
    pub load_average: List<Gauge, 3>,
    /// Address the agent was told to report as its own.
    pub report_ip: Option<String>,
}

/// Memory figures (`metrics.memory`; also the Docker report's `host.memory`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Memory {
    /// Total memory.
    pub total_bytes: Option<Bytes>,
    /// Memory in use.
    pub used_bytes: Option<Bytes>,
    /// Memory available.
    pub free_bytes: Option<Bytes>,
    /// Reclaimable cache.
    pub cache_bytes: Option<Bytes>,
    /// `used / total` in percent.
    pub usage: Option<Percent>,
    /// Total swap.
    pub swap_total_bytes: Option<Bytes>,
    /// Swap in use.
    pub swap_used_bytes: Option<Bytes>,
}

/// Headline metrics (`metrics`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HostMetrics {
    /// CPU busy share in percent.
    pub cpu_usage_percent: Option<Percent>,
    /// Memory figures.
    #[serde(deserialize_with = "nullable")]
    pub memory: Memory,
}

/// One mounted filesystem (`disks[]`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Filesystem {
    /// Mount source.
    pub device: Option<String>,
    /// Mount point.
    pub mountpoint: Option<String>,
    /// Filesystem type (newer field).
    pub filesystem: Option<String>,
    /// Filesystem type (older field).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Size.
    pub total_bytes: Option<Bytes>,
    /// Used space.
    pub used_bytes: Option<Bytes>,
    /// Free space.
    pub free_bytes: Option<Bytes>,
    /// Used share in percent.
    pub usage: Option<Percent>,
}

impl Filesystem {
    /// The filesystem type from whichever field carries it.
    pub fn fs_type(&self) -> Option<&str> {
        self.filesystem
            .as_deref()
            .filter(|t| !t.is_empty())
            .or(self.kind.as_deref())
    }
}

/// Cumulative I/O counters of one block device (`diskIO[]`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DiskIo {
    /// Kernel device name.
    pub device: Option<String>,
    /// Bytes read since boot.
    pub read_bytes: Option<Bytes>,
    /// Bytes written since boot.
    pub write_bytes: Option<Bytes>,
    /// Completed reads.
    pub read_ops: Option<u64>,
    /// Completed writes.
    pub write_ops: Option<u64>,
    /// Milliseconds the device was busy.
    pub io_time_ms: Option<u64>,
}

/// One network interface (`network[]`; also the Docker report's `host.network[]`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NetInterface {
    /// Interface name.
    pub name: Option<String>,
    /// MAC address.
    pub mac: Option<String>,
    /// Addresses in CIDR notation.
    pub addresses: List<String, MAX_ADDRESSES>,
    /// Bytes received since boot.
    pub rx_bytes: Option<Bytes>,
    /// Bytes sent since boot.
    pub tx_bytes: Option<Bytes>,
    /// Link speed.
    pub speed_mbps: Option<u64>,
}

/// Sensor readings (`sensors`); only temperatures are used.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Sensors {
    /// Temperatures by sensor name, in °C.
    pub temperature_celsius: Dict<f64, MAX_SENSORS>,
}

/// The host report.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HostReport {
    /// Reporting agent.
    #[serde(deserialize_with = "nullable")]
    pub agent: AgentInfo,
    /// Host identity and facts.
    #[serde(deserialize_with = "nullable")]
    pub host: HostInfo,
    /// CPU and memory.
    #[serde(deserialize_with = "nullable")]
    pub metrics: HostMetrics,
    /// Mounted filesystems.
    pub disks: List<Filesystem, MAX_DEVICES>,
    /// Block device counters.
    #[serde(rename = "diskIO")]
    pub disk_io: List<DiskIo, MAX_DEVICES>,
    /// Network interfaces.
    pub network: List<NetInterface, MAX_DEVICES>,
    /// Sensor readings.
    #[serde(deserialize_with = "nullable")]
    pub sensors: Sensors,
    /// Free-form tags.
    pub tags: List<String, MAX_TAGS>,
    /// Collection time.
    #[serde(deserialize_with = "time::optional")]
    pub timestamp: Option<Timestamp>,
}

impl HostReport {
    /// Checks what the schema cannot: a hostname (mandatory, §18) and bounded identifiers, names
    /// and tags.
    pub fn validate(&self) -> Result<()> {
        required(
            self.host.hostname.as_deref(),
            || "host.hostname".into(),
            MAX_HOSTNAME,
        )?;
        validate_agent(&self.agent)?;
        limit(self.host.id.as_deref(), || "host.id".into(), MAX_ID)?;
        limit(
            self.host.machine_id.as_deref(),
            || "host.machineId".into(),
            MAX_ID,
        )?;
        validate_interfaces(&self.network, "network")?;
        for (i, io) in self.disk_io.iter().enumerate() {
            limit(
                io.device.as_deref(),
                || format!("diskIO[{i}].device"),
                MAX_ID,
            )?;
        }
        for (i, tag) in self.tags.iter().enumerate() {
            limit(Some(tag), || format!("tags[{i}]"), MAX_TAG)?;
        }
        Ok(())
    }
}

/// Checks the bounded members of an `agent` block.
pub(super) fn validate_agent(agent: &AgentInfo) -> Result<()> {
    limit(agent.id.as_deref(), || "agent.id".into(), MAX_ID)?;
    limit(
        agent.hostname.as_deref(),
        || "agent.hostname".into(),
        MAX_HOSTNAME,
    )
}

/// Checks interface names (they become counter keys) under `field`.
pub(super) fn validate_interfaces(
    interfaces: &List<NetInterface, MAX_DEVICES>,
    field: &str,
) -> Result<()> {
    for (i, nic) in interfaces.iter().enumerate() {
        limit(nic.name.as_deref(), || format!("{field}[{i}].name"), MAX_ID)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::parse_host;
    use crate::error::Error;
    use crate::sources::agent::fixtures;

    fn rejects(json: &str) -> (String, String) {
        match parse_host(json.as_bytes()) {
            Err(Error::InvalidReport { field, message }) => (field, message),
            other => panic!("expected invalid_report, got {other:?}"),
        }
    }

    #[test]
    fn parses_a_real_report_with_unknown_members() {
        let report = parse_host(fixtures::HOST.as_bytes()).expect("valid");
        assert_eq!(report.host.hostname.as_deref(), Some("pve1.lan"));
        assert_eq!(report.disks.len(), 4);
        assert_eq!(report.network.len(), 3);
        assert_eq!(
            report.metrics.memory.total_bytes.map(|b| b.0),
            Some(34_359_738_368)
        );
        assert_eq!(report.sensors.temperature_celsius.len(), 3);
        assert!(report.timestamp.is_some());
    }

    #[test]
    fn accepts_nulls_and_a_minimal_report() {
        let report = parse_host(
            br#"{"agent":null,"host":{"hostname":"a","loadAverage":null},"metrics":null,
                "disks":null,"diskIO":null,"network":null,"sensors":null,"tags":null,
                "timestamp":null}"#,
        )
        .expect("nulls are absent");
        assert!(report.disks.is_empty());
        parse_host(br#"{"host":{"hostname":"a"}}"#).expect("minimal");
    }

    #[test]
    fn hostname_is_mandatory() {
        for json in [
            r#"{}"#,
            r#"{"host":null}"#,
            r#"{"host":{"hostname":""}}"#,
            r#"{"host":{"hostname":"   "}}"#,
            r#"{"agent":{"hostname":"x"},"host":{"id":"y"}}"#,
        ] {
            let (field, message) = rejects(json);
            assert_eq!(field, "host.hostname", "{json}");
            assert_eq!(message, "is required");
        }
        let long = format!(r#"{{"host":{{"hostname":"{}"}}}}"#, "a".repeat(254));
        assert_eq!(rejects(&long).0, "host.hostname");
    }

    #[test]
    fn wrong_types_name_the_field() {
        let (field, message) =
            rejects(r#"{"host":{"hostname":"a"},"metrics":{"cpuUsagePercent":"high"}}"#);
        assert_eq!(field, "metrics.cpuUsagePercent");
        assert_eq!(
            message,
            r#"expected a percentage between 0 and 100, got string "high""#
        );
        let (field, _) = rejects(r#"{"host":{"hostname":"a","cpuCount":"8"}}"#);
        assert_eq!(field, "host.cpuCount");
        let (field, _) = rejects(r#"{"host":{"hostname":"a"},"network":[{"addresses":"x"}]}"#);
        assert_eq!(field, "network[0].addresses");
        let (field, _) = rejects(r#"{"host":{"hostname":"a"},"timestamp":"noon"}"#);
        assert_eq!(field, "timestamp");
        let (field, _) = rejects(r#"{"host":{"hostname":"a"},"disks":{}}"#);
        assert_eq!(field, "disks");
    }

    #[test]
    fn negative_and_absurd_bytes_are_rejected() {
        let (field, message) =
            rejects(r#"{"host":{"hostname":"a"},"metrics":{"memory":{"totalBytes":-1}}}"#);
        assert_eq!(field, "metrics.memory.totalBytes");
        assert!(message.contains("negative"), "{message}");
        let (field, message) =
            rejects(r#"{"host":{"hostname":"a"},"disks":[{},{"usedBytes":2e18}]}"#);
        assert_eq!(field, "disks[1].usedBytes");
        assert!(message.contains("implausibly large"), "{message}");
    }

    #[test]
    fn percentages_out_of_range_are_rejected() {
        for (json, path) in [
            (
                r#"{"metrics":{"cpuUsagePercent":101}}"#,
                "metrics.cpuUsagePercent",
            ),
            (
                r#"{"metrics":{"memory":{"usage":-3}}}"#,
                "metrics.memory.usage",
            ),
            (r#"{"disks":[{"usage":250}]}"#, "disks[0].usage"),
        ] {
            let json = json.replacen('{', r#"{"host":{"hostname":"a"},"#, 1);
            assert_eq!(rejects(&json).0, path);
        }
        let ok = parse_host(br#"{"host":{"hostname":"a"},"metrics":{"cpuUsagePercent":100.3}}"#)
            .expect("tolerated overshoot");
        assert_eq!(ok.metrics.cpu_usage_percent.map(|p| p.0), Some(100.0));
    }

    #[test]
    fn oversized_arrays_are_rejected() {
        let disks = vec!["{}"; super::MAX_DEVICES + 1].join(",");
        let json = format!(r#"{{"host":{{"hostname":"a"}},"disks":[{disks}]}}"#);
        let (field, message) = rejects(&json);
        assert_eq!(field, "disks");
        assert!(message.contains("at most 4096"), "{message}");
    }

    #[test]
    fn key_names_are_bounded() {
        let json = format!(
            r#"{{"host":{{"hostname":"a"}},"network":[{{"name":"{}"}}]}}"#,
            "e".repeat(300)
        );
        assert_eq!(rejects(&json).0, "network[0].name");
    }

    #[test]
    fn syntax_errors_are_invalid_json() {
        match parse_host(b"{\"host\": {\"hostname\": \"a\",}}") {
            Err(Error::InvalidJson { line: 1, .. }) => {}
            other => panic!("unexpected {other:?}"),
        }
        for body in [&b"[]"[..], b"", b"  ", b"\"x\""] {
            match parse_host(body) {
                Err(Error::InvalidReport { field, .. }) => assert_eq!(field, "body"),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}
