//! The wire shapes Pulse reads from TrueNAS (reference §4.3), the same for JSON-RPC results and
//! REST bodies. Only the fields Pulse uses are declared; unknown fields are ignored, numbers may
//! be strings, ZFS properties may be objects, and nested lists are [`Listing`]s so one malformed
//! element is skipped and counted rather than failing its parent.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::sources::flex::{self, Listing};

use super::decode;

/// `system.info` / `GET /system/info`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct SystemInfo {
    /// Host name.
    #[serde(deserialize_with = "flex::string")]
    pub hostname: Option<String>,
    /// Release, e.g. `25.04.1`, `TrueNAS-SCALE-24.10.2`, `TrueNAS-13.0-U6.2`.
    #[serde(deserialize_with = "flex::string")]
    pub version: Option<String>,
    /// Build time (ms).
    #[serde(deserialize_with = "decode::date_ms")]
    pub buildtime: Option<i64>,
    /// Seconds since boot.
    #[serde(deserialize_with = "flex::f64")]
    pub uptime_seconds: Option<f64>,
    /// Chassis serial number (the appliance's machine identity).
    #[serde(deserialize_with = "flex::string")]
    pub system_serial: Option<String>,
    /// Manufacturer.
    #[serde(deserialize_with = "flex::string")]
    pub system_manufacturer: Option<String>,
    /// Product name.
    #[serde(deserialize_with = "flex::string")]
    pub system_product: Option<String>,
    /// CPU model.
    #[serde(deserialize_with = "flex::string")]
    pub model: Option<String>,
    /// Logical CPUs.
    #[serde(deserialize_with = "flex::u64")]
    pub cores: Option<u64>,
    /// Physical cores.
    #[serde(deserialize_with = "flex::u64")]
    pub physical_cores: Option<u64>,
    /// Physical memory in bytes.
    #[serde(deserialize_with = "flex::u64")]
    pub physmem: Option<u64>,
}

/// Read/write/checksum error counters of one vdev.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct VdevStats {
    /// Read errors.
    #[serde(deserialize_with = "flex::u64")]
    pub read_errors: Option<u64>,
    /// Write errors.
    #[serde(deserialize_with = "flex::u64")]
    pub write_errors: Option<u64>,
    /// Checksum errors.
    #[serde(deserialize_with = "flex::u64")]
    pub checksum_errors: Option<u64>,
}

/// One node of a pool's vdev tree: a top-level vdev (mirror, raidz…) or a device.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Vdev {
    /// Name (`mirror-0`, `raidz2-0`, a device name).
    #[serde(deserialize_with = "flex::string")]
    pub name: Option<String>,
    /// `DISK`, `MIRROR`, `RAIDZ1`, `RAIDZ2`, `STRIPE`, …
    #[serde(rename = "type", deserialize_with = "flex::string")]
    pub kind: Option<String>,
    /// ZFS state (`ONLINE`, `DEGRADED`, `FAULTED`, …).
    #[serde(deserialize_with = "flex::string")]
    pub status: Option<String>,
    /// The state under its other name (some releases).
    #[serde(deserialize_with = "flex::string")]
    pub state: Option<String>,
    /// ZFS guid.
    #[serde(deserialize_with = "flex::string")]
    pub guid: Option<String>,
    /// Device path, e.g. `/dev/disk/by-partuuid/…`.
    #[serde(deserialize_with = "flex::string")]
    pub path: Option<String>,
    /// Partition device, e.g. `sda1`.
    #[serde(deserialize_with = "flex::string")]
    pub device: Option<String>,
    /// Disk name, e.g. `sda`, `ada0`.
    #[serde(deserialize_with = "flex::string")]
    pub disk: Option<String>,
    /// Name of the disk that is missing (for an unavailable device).
    #[serde(deserialize_with = "flex::string")]
    pub unavail_disk: Option<String>,
    /// Error counters.
    pub stats: Option<VdevStats>,
    /// Children (devices of a mirror/raidz).
    pub children: Listing<Vdev>,
}

impl Vdev {
    /// The ZFS state word: `status`, else `state`.
    pub fn state_word(&self) -> Option<&str> {
        self.status.as_deref().or(self.state.as_deref())
    }

    /// The disk this device is, if it is one (`disk`, else `unavail_disk`).
    pub fn disk_name(&self) -> Option<&str> {
        self.disk
            .as_deref()
            .or(self.unavail_disk.as_deref())
            .filter(|d| !d.is_empty())
    }
}

/// A pool's vdev tree by role: `data`, `log`, `cache`, `spare`, `special`, `dedup` (SCALE and
/// CORE `pool.query`), or CORE `boot.get_state`'s `groups`. Roles whose value is not a list are
/// ignored; malformed vdevs are skipped and counted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Topology {
    /// Vdevs per role, roles in name order.
    pub roles: BTreeMap<String, Vec<Vdev>>,
    /// Malformed vdev entries left out.
    pub skipped: usize,
}

impl<'de> Deserialize<'de> for Topology {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Value::Object(map) = Value::deserialize(d)? else {
            return Ok(Topology::default());
        };
        let mut topology = Topology::default();
        for (role, value) in map {
            if let Ok(listing) = Listing::<Vdev>::deserialize(value) {
                topology.skipped += listing.skipped;
                topology.roles.insert(role, listing.items);
            }
        }
        Ok(topology)
    }
}

/// A pool's last or current scrub/resilver.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Scan {
    /// `SCRUB` or `RESILVER`.
    #[serde(deserialize_with = "flex::string")]
    pub function: Option<String>,
    /// `SCANNING`, `FINISHED`, `CANCELED`.
    #[serde(deserialize_with = "flex::string")]
    pub state: Option<String>,
    /// Progress in percent.
    #[serde(deserialize_with = "flex::f64")]
    pub percentage: Option<f64>,
    /// Errors found.
    #[serde(deserialize_with = "flex::u64")]
    pub errors: Option<u64>,
    /// Bytes examined so far.
    #[serde(deserialize_with = "flex::u64")]
    pub bytes_examined: Option<u64>,
    /// Bytes to examine.
    #[serde(deserialize_with = "flex::u64")]
    pub bytes_to_process: Option<u64>,
    /// Estimated seconds left.
    #[serde(deserialize_with = "flex::f64")]
    pub total_secs_left: Option<f64>,
    /// Start (ms).
    #[serde(deserialize_with = "decode::date_ms")]
    pub start_time: Option<i64>,
    /// End (ms).
    #[serde(deserialize_with = "decode::date_ms")]
    pub end_time: Option<i64>,
}

/// `pool.query` / `GET /pool` item, and `boot.get_state` / `GET /boot/get_state`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Pool {
    /// Pool name (required).
    pub name: String,
    /// Numeric id (absent for the boot pool).
    #[serde(default, deserialize_with = "flex::string")]
    pub id: Option<String>,
    /// ZFS guid.
    #[serde(default, deserialize_with = "flex::string")]
    pub guid: Option<String>,
    /// State (`ONLINE`, `DEGRADED`, `FAULTED`, …).
    #[serde(default, deserialize_with = "flex::string")]
    pub status: Option<String>,
    /// The state under its other name (CORE's boot pool).
    #[serde(default, deserialize_with = "flex::string")]
    pub state: Option<String>,
    /// Status code (`OK`, `CKSUM_ERRORS`, …).
    #[serde(default, deserialize_with = "flex::string")]
    pub status_code: Option<String>,
    /// Human status detail.
    #[serde(default, deserialize_with = "flex::string")]
    pub status_detail: Option<String>,
    /// Whether the middleware considers it healthy.
    #[serde(default, deserialize_with = "decode::prop_bool")]
    pub healthy: Option<bool>,
    /// Size in bytes.
    #[serde(default, deserialize_with = "decode::prop_u64")]
    pub size: Option<u64>,
    /// Allocated bytes.
    #[serde(default, deserialize_with = "decode::prop_u64")]
    pub allocated: Option<u64>,
    /// Free bytes.
    #[serde(default, deserialize_with = "decode::prop_u64")]
    pub free: Option<u64>,
    /// Fragmentation in percent.
    #[serde(default, deserialize_with = "decode::prop_u64")]
    pub fragmentation: Option<u64>,
    /// The vdev tree.
    #[serde(default)]
    pub topology: Option<Topology>,
    /// The vdev tree under CORE's boot-pool name.
    #[serde(default)]
    pub groups: Option<Topology>,
    /// Last or current scrub/resilver.
    #[serde(default)]
    pub scan: Option<Scan>,
}

impl Pool {
    /// The ZFS state word: `status`, else `state`.
    pub fn state_word(&self) -> Option<&str> {
        self.status.as_deref().or(self.state.as_deref())
    }

    /// The vdev tree: `topology`, else `groups`.
    pub fn vdev_tree(&self) -> Option<&Topology> {
        self.topology.as_ref().or(self.groups.as_ref())
    }
}

/// `pool.dataset.query` / `GET /pool/dataset` item (a filesystem or a volume).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Dataset {
    /// Full name, `pool/path` (required).
    pub id: String,
    /// Pool name.
    #[serde(default, deserialize_with = "flex::string")]
    pub pool: Option<String>,
    /// `FILESYSTEM` or `VOLUME`.
    #[serde(default, rename = "type", deserialize_with = "flex::string")]
    pub kind: Option<String>,
    /// Bytes used.
    #[serde(default, deserialize_with = "decode::prop_u64")]
    pub used: Option<u64>,
    /// Bytes available.
    #[serde(default, deserialize_with = "decode::prop_u64")]
    pub available: Option<u64>,
    /// Whether it is read-only.
    #[serde(default, deserialize_with = "decode::prop_bool")]
    pub readonly: Option<bool>,
    /// Whether it is mounted (absent means mounted, as the middleware omits it for mounted ones).
    #[serde(default, deserialize_with = "decode::prop_bool")]
    pub mounted: Option<bool>,
    /// Whether it is encrypted and its key is not loaded.
    #[serde(default, deserialize_with = "decode::prop_bool")]
    pub locked: Option<bool>,
    /// Whether it is encrypted.
    #[serde(default, deserialize_with = "decode::prop_bool")]
    pub encrypted: Option<bool>,
    /// Mount point.
    #[serde(default, deserialize_with = "decode::prop_string")]
    pub mountpoint: Option<String>,
    /// Compression algorithm.
    #[serde(default, deserialize_with = "decode::prop_string")]
    pub compression: Option<String>,
    /// Nested children (listings that are not flat).
    #[serde(default)]
    pub children: Listing<Dataset>,
}

impl Dataset {
    /// The pool: `pool`, else the first path component of the id.
    pub fn pool_name(&self) -> &str {
        self.pool
            .as_deref()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| self.id.split('/').next().unwrap_or(&self.id))
    }
}

/// `disk.query` / `GET /disk` item.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Disk {
    /// Device name, `sda`, `ada0`, `nvme0n1` (required).
    pub name: String,
    /// Stable identifier, `{serial_lunid}…`.
    #[serde(default, deserialize_with = "flex::string")]
    pub identifier: Option<String>,
    /// Serial number.
    #[serde(default, deserialize_with = "flex::string")]
    pub serial: Option<String>,
    /// Size in bytes.
    #[serde(default, deserialize_with = "flex::u64")]
    pub size: Option<u64>,
    /// Model.
    #[serde(default, deserialize_with = "flex::string")]
    pub model: Option<String>,
    /// `HDD` or `SSD`.
    #[serde(default, rename = "type", deserialize_with = "flex::string")]
    pub kind: Option<String>,
    /// Pool the disk belongs to (with `extra.pools`).
    #[serde(default, deserialize_with = "flex::string")]
    pub pool: Option<String>,
    /// Bus (`ATA`, `SCSI`, `NVME`, `USB`).
    #[serde(default, deserialize_with = "flex::string")]
    pub bus: Option<String>,
    /// The disk's state where the middleware reports one.
    #[serde(default, deserialize_with = "flex::string")]
    pub status: Option<String>,
    /// SMART overall result (`PASS`, `FAIL`, …) where reported.
    #[serde(default, deserialize_with = "flex::string")]
    pub smart_status: Option<String>,
    /// Rotation rate (rpm; absent or null for SSDs).
    #[serde(default, deserialize_with = "flex::u64")]
    pub rotationrate: Option<u64>,
}

/// `alert.list` / `GET /alert/list` item.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Alert {
    /// Alert id, stable while the alert exists.
    #[serde(default, deserialize_with = "flex::string")]
    pub id: Option<String>,
    /// Alert uuid (the id on releases without `id`).
    #[serde(default, deserialize_with = "flex::string")]
    pub uuid: Option<String>,
    /// `CRITICAL`, `ERROR`, `ALERT`, `WARNING`, `NOTICE`, `INFO`.
    #[serde(default, deserialize_with = "flex::string")]
    pub level: Option<String>,
    /// The formatted text.
    #[serde(default, deserialize_with = "flex::string")]
    pub formatted: Option<String>,
    /// The unformatted text (used when `formatted` is absent).
    #[serde(default, deserialize_with = "flex::string")]
    pub text: Option<String>,
    /// Alert source, e.g. `VolumeStatus`.
    #[serde(default, deserialize_with = "flex::string")]
    pub source: Option<String>,
    /// Alert class, e.g. `ZpoolCapacityWarning`.
    #[serde(default, deserialize_with = "flex::string")]
    pub klass: Option<String>,
    /// Dismissed by a user.
    #[serde(default, deserialize_with = "flex::bool")]
    pub dismissed: bool,
    /// When it was raised (ms).
    #[serde(default, deserialize_with = "decode::date_ms")]
    pub datetime: Option<i64>,
}

impl Alert {
    /// The alert's id: `id`, else `uuid`.
    pub fn key(&self) -> Option<&str> {
        self.id
            .as_deref()
            .or(self.uuid.as_deref())
            .filter(|k| !k.is_empty())
    }

    /// The text shown: `formatted`, else `text`, else the class.
    pub fn message(&self) -> &str {
        self.formatted
            .as_deref()
            .or(self.text.as_deref())
            .or(self.klass.as_deref())
            .unwrap_or("")
    }
}

/// The state of a replication task's last run.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ReplicationState {
    /// `FINISHED`, `RUNNING`, `ERROR`, `PENDING`, `WAITING`.
    #[serde(deserialize_with = "flex::string")]
    pub state: Option<String>,
    /// When (ms).
    #[serde(deserialize_with = "decode::date_ms")]
    pub datetime: Option<i64>,
    /// The error of a failed run.
    #[serde(deserialize_with = "flex::string")]
    pub error: Option<String>,
    /// The last snapshot replicated.
    #[serde(deserialize_with = "flex::string")]
    pub last_snapshot: Option<String>,
}

/// `replication.query` / `GET /replication` item.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ReplicationTask {
    /// Task id.
    #[serde(deserialize_with = "decode::id_string")]
    pub id: String,
    /// Name.
    #[serde(default, deserialize_with = "flex::string")]
    pub name: Option<String>,
    /// `PUSH` or `PULL`.
    #[serde(default, deserialize_with = "flex::string")]
    pub direction: Option<String>,
    /// `SSH`, `SSH+NETCAT`, `LOCAL`.
    #[serde(default, deserialize_with = "flex::string")]
    pub transport: Option<String>,
    /// Source datasets.
    #[serde(default, deserialize_with = "string_list")]
    pub source_datasets: Vec<String>,
    /// Target dataset.
    #[serde(default, deserialize_with = "flex::string")]
    pub target_dataset: Option<String>,
    /// Whether it is enabled (absent: enabled).
    #[serde(default, deserialize_with = "decode::prop_bool")]
    pub enabled: Option<bool>,
    /// Whether the target is kept read-only.
    #[serde(default, deserialize_with = "flex::string")]
    pub readonly: Option<String>,
    /// Last run.
    #[serde(default)]
    pub state: Option<ReplicationState>,
    /// The SSH connection (its `attributes.host` is the remote).
    #[serde(default)]
    pub ssh_credentials: Option<Value>,
}

impl ReplicationTask {
    /// Whether the target dataset is on this appliance (a pull, or a local replication).
    pub fn targets_local(&self) -> bool {
        let is = |v: &Option<String>, word: &str| {
            v.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(word))
        };
        is(&self.direction, "PULL") || is(&self.transport, "LOCAL")
    }

    /// The remote host of an SSH replication.
    pub fn remote_host(&self) -> Option<&str> {
        self.ssh_credentials
            .as_ref()?
            .get("attributes")?
            .get("host")?
            .as_str()
    }
}

/// `app.query` / `GET /app` item.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct App {
    /// App id (its release name).
    #[serde(default, deserialize_with = "flex::string")]
    pub id: Option<String>,
    /// Display name (the id where there is none).
    #[serde(default, deserialize_with = "flex::string")]
    pub name: Option<String>,
    /// `RUNNING`, `DEPLOYING`, `STOPPING`, `STOPPED`, `CRASHED`.
    #[serde(default, deserialize_with = "flex::string")]
    pub state: Option<String>,
    /// App version.
    #[serde(default, deserialize_with = "flex::string")]
    pub version: Option<String>,
    /// Upstream version.
    #[serde(default, deserialize_with = "flex::string")]
    pub human_version: Option<String>,
    /// Whether an upgrade is available.
    #[serde(default, deserialize_with = "flex::bool")]
    pub upgrade_available: bool,
}

impl App {
    /// The app's id: `id`, else `name`.
    pub fn key(&self) -> Option<&str> {
        self.id
            .as_deref()
            .or(self.name.as_deref())
            .filter(|k| !k.is_empty())
    }
}

/// `vm.query` / `GET /vm` item.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Vm {
    /// VM id.
    #[serde(deserialize_with = "decode::id_string")]
    pub id: String,
    /// Name.
    #[serde(default, deserialize_with = "flex::string")]
    pub name: Option<String>,
    /// State from `status.state` (SCALE and CORE) or a bare `status` string.
    #[serde(default, deserialize_with = "vm_state")]
    pub status: Option<String>,
    /// A top-level `state` (some releases).
    #[serde(default, deserialize_with = "flex::string")]
    pub state: Option<String>,
    /// Virtual CPUs (sockets).
    #[serde(default, deserialize_with = "flex::u64")]
    pub vcpus: Option<u64>,
    /// Cores per socket.
    #[serde(default, deserialize_with = "flex::u64")]
    pub cores: Option<u64>,
    /// Threads per core.
    #[serde(default, deserialize_with = "flex::u64")]
    pub threads: Option<u64>,
    /// Memory in MiB.
    #[serde(default, deserialize_with = "flex::u64")]
    pub memory: Option<u64>,
    /// Whether it starts with the appliance.
    #[serde(default, deserialize_with = "flex::bool")]
    pub autostart: bool,
}

impl Vm {
    /// The VM's state word: `status.state`, else `state`.
    pub fn state_word(&self) -> Option<&str> {
        self.status.as_deref().or(self.state.as_deref())
    }
}

/// `sharing.smb.query` / `sharing.nfs.query` item (and their REST twins).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Share {
    /// Share id.
    #[serde(deserialize_with = "decode::id_string")]
    pub id: String,
    /// Share name (SMB).
    #[serde(default, deserialize_with = "flex::string")]
    pub name: Option<String>,
    /// Exported path (SMB and newer NFS).
    #[serde(default, deserialize_with = "flex::string")]
    pub path: Option<String>,
    /// Exported paths (older NFS).
    #[serde(default, deserialize_with = "string_list")]
    pub paths: Vec<String>,
    /// Whether it is enabled (absent: enabled).
    #[serde(default, deserialize_with = "decode::prop_bool")]
    pub enabled: Option<bool>,
    /// Whether its dataset is locked.
    #[serde(default, deserialize_with = "flex::bool")]
    pub locked: bool,
}

impl Share {
    /// The exported path: `path`, else the first of `paths`.
    pub fn export_path(&self) -> Option<&str> {
        self.path
            .as_deref()
            .or_else(|| self.paths.first().map(String::as_str))
            .filter(|p| !p.is_empty())
    }
}

/// A list of strings; non-string members are left out, a non-list is empty.
fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s),
                _ => None,
            })
            .collect(),
        Value::String(s) if !s.is_empty() => vec![s],
        _ => Vec::new(),
    })
}

/// A VM state from `{"state": "RUNNING", …}` or a bare string.
fn vm_state<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        Value::Object(map) => map
            .get("state")
            .or_else(|| map.get("domain_state"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        _ => None,
    })
}

/// Disk temperatures by disk name: numbers (`disk.temperatures`, REST), `{avg, max, min}`
/// aggregates (`disk.temperature_agg`, the average is used) or `null` for disks without a sensor.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiskTemperatures(pub BTreeMap<String, f64>);

impl<'de> Deserialize<'de> for DiskTemperatures {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Value::Object(map) = Value::deserialize(d)? else {
            return Err(serde::de::Error::custom(
                "expected an object of temperatures by disk",
            ));
        };
        let reading = |v: &Value| match v {
            Value::Object(agg) => ["avg", "max", "min"]
                .iter()
                .find_map(|k| agg.get(*k).and_then(Value::as_f64)),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            other => other.as_f64(),
        };
        Ok(DiskTemperatures(
            map.iter()
                .filter_map(|(name, v)| {
                    reading(v)
                        .filter(|t| t.is_finite() && (-50.0..=150.0).contains(t))
                        .map(|t| (name.clone(), t))
                })
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pool_with_topology_and_quirks() {
        let pool: Pool = serde_json::from_value(json!({
            "id": 1, "name": "tank", "guid": "123", "status": "DEGRADED", "healthy": false,
            "size": "1000", "allocated": 400, "free": {"parsed": 600},
            "topology": {
                "data": [{
                    "type": "RAIDZ1", "name": "raidz1-0", "status": "DEGRADED",
                    "stats": {"read_errors": 0, "write_errors": "1", "checksum_errors": 2},
                    "children": [
                        {"type": "DISK", "disk": "sda", "status": "ONLINE", "stats": {}},
                        {"type": "DISK", "unavail_disk": "sdb", "status": "FAULTED"},
                        "garbage"
                    ]
                }],
                "cache": null, "log": [], "comment": "not a list"
            },
            "scan": {"function": "SCRUB", "state": "FINISHED", "errors": "0",
                     "end_time": {"$date": 1_700_000_000_000_i64}}
        }))
        .expect("pool");
        assert_eq!(
            (pool.size, pool.allocated, pool.free),
            (Some(1000), Some(400), Some(600))
        );
        let topology = pool.topology.expect("topology");
        let data = &topology.roles["data"];
        assert_eq!(data[0].children.items.len(), 2);
        assert_eq!(data[0].children.skipped, 1);
        assert_eq!(data[0].children.items[1].disk_name(), Some("sdb"));
        assert_eq!(data[0].stats.and_then(|s| s.write_errors), Some(1));
        assert!(!topology.roles.contains_key("comment"));
        assert_eq!(pool.scan.and_then(|s| s.end_time), Some(1_700_000_000_000));
        let core_boot: Pool = serde_json::from_value(json!({
            "name": "freenas-boot", "state": "ONLINE",
            "groups": {"data": [{"type": "DISK", "disk": "ada4", "status": "ONLINE"}]}
        }))
        .expect("boot");
        assert_eq!(core_boot.state_word(), Some("ONLINE"));
        assert_eq!(
            core_boot.vdev_tree().map(|t| t.roles["data"].len()),
            Some(1)
        );
    }

    #[test]
    fn dataset_properties() {
        let ds: Dataset = serde_json::from_value(json!({
            "id": "tank/media", "type": "FILESYSTEM",
            "used": {"parsed": 100, "rawvalue": "100"}, "available": {"rawvalue": "900"},
            "readonly": {"value": "ON", "rawvalue": "on", "parsed": true},
            "locked": false, "mountpoint": "/mnt/tank/media",
            "children": [{"id": "tank/media/tv"}, {"bad": 1}]
        }))
        .expect("dataset");
        assert_eq!((ds.used, ds.available), (Some(100), Some(900)));
        assert_eq!(
            (ds.readonly, ds.mounted, ds.locked),
            (Some(true), None, Some(false))
        );
        assert_eq!(ds.pool_name(), "tank");
        assert_eq!((ds.children.items.len(), ds.children.skipped), (1, 1));
    }

    #[test]
    fn alerts_tasks_apps_vms_shares_temperatures() {
        let alert: Alert = serde_json::from_value(json!({
            "uuid": "a-1", "id": "a-1", "level": "CRITICAL", "formatted": "Pool tank is DEGRADED",
            "source": "VolumeStatus", "dismissed": false, "datetime": {"$date": 1_700_000_000_000_i64}
        }))
        .expect("alert");
        assert_eq!(
            (alert.key(), alert.message()),
            (Some("a-1"), "Pool tank is DEGRADED")
        );
        let task: ReplicationTask = serde_json::from_value(json!({
            "id": 3, "name": "pull", "direction": "PULL", "transport": "SSH",
            "source_datasets": ["prod/data", 5], "target_dataset": "tank/replica",
            "ssh_credentials": {"attributes": {"host": "10.0.0.9"}},
            "state": {"state": "ERROR", "error": "boom", "datetime": {"$date": 5}}
        }))
        .expect("task");
        assert!(task.targets_local());
        assert_eq!(task.source_datasets, ["prod/data"]);
        assert_eq!(task.remote_host(), Some("10.0.0.9"));
        let app: App =
            serde_json::from_value(json!({"name": "plex", "state": "RUNNING"})).expect("app");
        assert_eq!(app.key(), Some("plex"));
        let vm: Vm = serde_json::from_value(json!({"id": 1, "name": "dev",
            "status": {"state": "RUNNING", "pid": 42}, "memory": "2048"}))
        .expect("vm");
        assert_eq!(
            (vm.id.as_str(), vm.state_word(), vm.memory),
            ("1", Some("RUNNING"), Some(2048))
        );
        let share: Share =
            serde_json::from_value(json!({"id": 2, "paths": ["/mnt/tank/a"], "enabled": false}))
                .expect("share");
        assert_eq!(
            (share.export_path(), share.enabled),
            (Some("/mnt/tank/a"), Some(false))
        );
        let temps: DiskTemperatures = serde_json::from_value(json!({
            "ada0": 33, "ada1": null, "sda": {"min": 30, "avg": 35.5, "max": 40}, "sdb": "41", "sdc": 900
        }))
        .expect("temps");
        assert_eq!(
            temps.0.into_iter().collect::<Vec<_>>(),
            vec![
                ("ada0".into(), 33.0),
                ("sda".into(), 35.5),
                ("sdb".into(), 41.0)
            ]
        );
    }
}
