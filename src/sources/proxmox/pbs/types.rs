//! Wire shapes of the Proxmox Backup Server endpoints Pulse reads (reference §2), decoded
//! tolerantly like the PVE ones.

use serde::de::Deserializer;
use serde::Deserialize;
use serde_json::Value;

use crate::sources::proxmox::flex;

/// `GET /version`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Version {
    /// e.g. `3.2.7`.
    #[serde(default, deserialize_with = "flex::string")]
    pub version: Option<String>,
    /// e.g. `3.2`.
    #[serde(default, deserialize_with = "flex::string")]
    pub release: Option<String>,
    /// Git revision.
    #[serde(default, deserialize_with = "flex::string")]
    pub repoid: Option<String>,
}

/// `GET /nodes/localhost/status`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct NodeStatus {
    /// CPU use fraction.
    #[serde(default, deserialize_with = "flex::f64")]
    pub cpu: Option<f64>,
    /// Seconds since boot.
    #[serde(default, deserialize_with = "flex::u64")]
    pub uptime: Option<u64>,
    /// Load averages.
    #[serde(default, deserialize_with = "flex::loadavg")]
    pub loadavg: Vec<f64>,
    /// Memory.
    #[serde(default)]
    pub memory: Space,
    /// Swap.
    #[serde(default)]
    pub swap: Space,
    /// Root filesystem.
    #[serde(default)]
    pub root: Space,
    /// Kernel version.
    #[serde(default, deserialize_with = "flex::string")]
    pub kversion: Option<String>,
}

/// A total/used/free(/avail) set.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Space {
    /// Total bytes.
    #[serde(default, deserialize_with = "flex::u64")]
    pub total: Option<u64>,
    /// Used bytes.
    #[serde(default, deserialize_with = "flex::u64")]
    pub used: Option<u64>,
    /// Free bytes.
    #[serde(default, deserialize_with = "flex::u64")]
    pub free: Option<u64>,
    /// Available bytes.
    #[serde(default, deserialize_with = "flex::u64")]
    pub avail: Option<u64>,
}

/// One entry of `GET /admin/datastore`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Datastore {
    /// Datastore name.
    #[serde(alias = "name")]
    pub store: String,
    /// Comment.
    #[serde(default, deserialize_with = "flex::string")]
    pub comment: Option<String>,
}

/// `GET /admin/datastore/{store}/status` (both the current and the `*-space` field names).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct DatastoreStatus {
    /// Total bytes.
    #[serde(default, alias = "total-space", deserialize_with = "flex::u64")]
    pub total: Option<u64>,
    /// Used bytes.
    #[serde(default, alias = "used-space", deserialize_with = "flex::u64")]
    pub used: Option<u64>,
    /// Available bytes.
    #[serde(default, alias = "avail-space", deserialize_with = "flex::u64")]
    pub avail: Option<u64>,
    /// Deduplication factor, when the server reports it.
    #[serde(
        default,
        rename = "deduplication-factor",
        deserialize_with = "flex::f64"
    )]
    pub deduplication_factor: Option<f64>,
    /// Last garbage collection.
    #[serde(default, rename = "gc-status")]
    pub gc_status: Option<GcStatus>,
}

impl DatastoreStatus {
    /// The dedup factor: reported, else logical index bytes over disk bytes of the last GC.
    pub fn dedup_factor(&self) -> Option<f64> {
        self.deduplication_factor.filter(|f| *f > 0.0).or_else(|| {
            let gc = self.gc_status.as_ref()?;
            match (gc.index_data_bytes, gc.disk_bytes) {
                (Some(index), Some(disk)) if disk > 0 => Some(index as f64 / disk as f64),
                _ => None,
            }
        })
    }
}

/// Garbage collection figures.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct GcStatus {
    /// Bytes referenced by all indexes (logical).
    #[serde(default, rename = "index-data-bytes", deserialize_with = "flex::u64")]
    pub index_data_bytes: Option<u64>,
    /// Bytes on disk.
    #[serde(default, rename = "disk-bytes", deserialize_with = "flex::u64")]
    pub disk_bytes: Option<u64>,
    /// Task id of the last GC.
    #[serde(default, deserialize_with = "flex::string")]
    pub upid: Option<String>,
}

/// One entry of `GET /admin/datastore/{store}/namespace`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Namespace {
    /// Namespace path (`""` is the root).
    #[serde(default, deserialize_with = "flex::string")]
    pub ns: Option<String>,
}

/// One entry of `GET /admin/datastore/{store}/groups`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Group {
    /// `vm`, `ct` or `host`.
    #[serde(rename = "backup-type")]
    pub backup_type: String,
    /// Guest id or host name.
    #[serde(rename = "backup-id", deserialize_with = "string_or_number")]
    pub backup_id: String,
    /// Newest snapshot (unix s).
    #[serde(default, rename = "last-backup", deserialize_with = "flex::i64")]
    pub last_backup: Option<i64>,
    /// Snapshots in the group.
    #[serde(default, rename = "backup-count", deserialize_with = "flex::u64")]
    pub backup_count: Option<u64>,
    /// Owner.
    #[serde(default, deserialize_with = "flex::string")]
    pub owner: Option<String>,
}

/// One entry of `GET /admin/datastore/{store}/snapshots`. Only what the summary needs is kept;
/// `files` and the other fields are skipped while parsing, without being stored.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Snapshot {
    /// `vm`, `ct` or `host`.
    #[serde(rename = "backup-type")]
    pub backup_type: String,
    /// Guest id or host name.
    #[serde(rename = "backup-id", deserialize_with = "string_or_number")]
    pub backup_id: String,
    /// Snapshot time (unix s).
    #[serde(rename = "backup-time", deserialize_with = "flex::required_i64")]
    pub backup_time: i64,
    /// Size in bytes.
    #[serde(default, deserialize_with = "flex::u64")]
    pub size: Option<u64>,
    /// Whether it is protected from pruning.
    #[serde(default, deserialize_with = "flex::bool")]
    pub protected: bool,
    /// Verification state (`ok`, `failed`), from a string or `{state, upid}`.
    #[serde(default, deserialize_with = "verification_state")]
    pub verification: Option<String>,
}

/// A required string that may arrive as a number (`backup-id` of VMs).
fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    flex::string(d)?.ok_or_else(|| serde::de::Error::custom("expected a string"))
}

/// The verification state from `"ok"` or `{"state": "ok", "upid": …}`.
fn verification_state<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        Value::Object(map) => map.get("state").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    })
}

/// One entry of `GET /nodes/localhost/tasks`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Task {
    /// Unique task id.
    pub upid: String,
    /// `backup`, `syncjob`, `verificationjob`, `prunejob`, `garbage_collection`, …
    #[serde(default, alias = "type", deserialize_with = "flex::string")]
    pub worker_type: Option<String>,
    /// What the task worked on (store, job id, `store:ns:type/id`, …).
    #[serde(default, alias = "id", deserialize_with = "flex::string")]
    pub worker_id: Option<String>,
    /// Start (unix s).
    #[serde(default, deserialize_with = "flex::i64")]
    pub starttime: Option<i64>,
    /// End (unix s), absent while running.
    #[serde(default, deserialize_with = "flex::i64")]
    pub endtime: Option<i64>,
    /// `OK`, `WARNINGS: n`, an error text, or absent while running.
    #[serde(default, deserialize_with = "flex::string")]
    pub status: Option<String>,
}

/// One configured job of `GET /config/{sync,verify,prune}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct JobConfig {
    /// Job id.
    pub id: String,
    /// Local datastore.
    #[serde(default, deserialize_with = "flex::string")]
    pub store: Option<String>,
    /// Remote (sync jobs).
    #[serde(default, deserialize_with = "flex::string")]
    pub remote: Option<String>,
    /// Namespace.
    #[serde(default, deserialize_with = "flex::string")]
    pub ns: Option<String>,
    /// Schedule.
    #[serde(default, deserialize_with = "flex::string")]
    pub schedule: Option<String>,
    /// Whether the job is disabled.
    #[serde(default, deserialize_with = "flex::bool")]
    pub disable: bool,
}
