//! What the simulated appliance holds — pools with their vdev trees, datasets, disks, alerts,
//! snapshots, replication tasks, apps, VMs and shares — and its JSON renderings as SCALE's
//! JSON-RPC methods and the legacy REST API answer them.
//!
//! Everything is deterministic from the scenario; only times are relative to when it is
//! rendered. Rendering happens once per change (not per request), so a 10,000-snapshot listing
//! costs one string copy per request.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Value};

/// One GiB.
const GIB: u64 = 1 << 30;
/// One TiB.
const TIB: u64 = 1 << 40;

/// Which product the simulator imitates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimFlavor {
    /// TrueNAS SCALE of this version (`25.04.2`, `TrueNAS-SCALE-24.10.2`, …): JSON-RPC at
    /// `/api/current` from 25.04 on, otherwise 404 there; REST always.
    Scale(String),
    /// TrueNAS CORE 13: `/api/current` redirects to the web UI; REST only.
    Core,
}

impl SimFlavor {
    /// The version `system.info` reports.
    pub fn version(&self) -> String {
        match self {
            SimFlavor::Scale(v) => v.clone(),
            SimFlavor::Core => "TrueNAS-13.0-U6.2".into(),
        }
    }

    /// `(major, minor)` of a SCALE version, `None` for CORE or an unreadable version.
    pub fn scale_release(&self) -> Option<(u32, u32)> {
        let SimFlavor::Scale(v) = self else {
            return None;
        };
        let digits = v.trim_start_matches(|c: char| !c.is_ascii_digit());
        let mut parts = digits.split(|c: char| !c.is_ascii_digit());
        Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
    }

    /// Whether the version serves JSON-RPC at `/api/current` (SCALE ≥ 25.04).
    pub fn has_jsonrpc(&self) -> bool {
        self.scale_release().is_some_and(|r| r >= (25, 4))
    }

    /// Whether the version has `zfs.resource.snapshot.query` (SCALE ≥ 25.10).
    pub fn has_zfs_resource(&self) -> bool {
        self.scale_release().is_some_and(|r| r >= (25, 10))
    }
}

/// A device of a vdev.
#[derive(Debug, Clone, PartialEq)]
pub struct SimLeaf {
    /// Disk name.
    pub disk: String,
    /// ZFS state.
    pub state: String,
    /// Read, write and checksum errors.
    pub errors: [u64; 3],
}

/// A top-level vdev.
#[derive(Debug, Clone, PartialEq)]
pub struct SimVdev {
    /// `MIRROR`, `RAIDZ1`, `RAIDZ2`, `STRIPE`.
    pub kind: String,
    /// ZFS state.
    pub state: String,
    /// Its devices.
    pub leaves: Vec<SimLeaf>,
}

/// A scrub or resilver.
#[derive(Debug, Clone, PartialEq)]
pub struct SimScan {
    /// `SCRUB` or `RESILVER`.
    pub function: String,
    /// `FINISHED` or `SCANNING`.
    pub state: String,
    /// Progress.
    pub percentage: f64,
    /// Errors found.
    pub errors: u64,
}

/// A pool.
#[derive(Debug, Clone, PartialEq)]
pub struct SimPool {
    /// Name.
    pub name: String,
    /// ZFS state.
    pub state: String,
    /// Size in bytes.
    pub size: u64,
    /// Allocated bytes.
    pub allocated: u64,
    /// Data vdevs.
    pub vdevs: Vec<SimVdev>,
    /// Last or current scan.
    pub scan: Option<SimScan>,
}

/// A dataset or volume.
#[derive(Debug, Clone, PartialEq)]
pub struct SimDataset {
    /// Full name.
    pub name: String,
    /// Bytes used.
    pub used: u64,
    /// Bytes available.
    pub available: u64,
    /// Read-only.
    pub readonly: bool,
    /// Encrypted with its key not loaded.
    pub locked: bool,
    /// Encrypted.
    pub encrypted: bool,
    /// `Some(false)` for an unmounted dataset; `None` leaves the field out (mounted).
    pub mounted: Option<bool>,
    /// A zvol rather than a filesystem.
    pub volume: bool,
    /// How many snapshots it has.
    pub snapshots: u32,
}

/// A disk.
#[derive(Debug, Clone, PartialEq)]
pub struct SimDisk {
    /// Device name.
    pub name: String,
    /// Serial.
    pub serial: String,
    /// Model.
    pub model: String,
    /// Size.
    pub size: u64,
    /// `HDD` or `SSD`.
    pub kind: String,
    /// `ATA`, `SCSI`, `NVME`.
    pub bus: String,
    /// Pool it belongs to.
    pub pool: Option<String>,
    /// Temperature, `None` when the sensor does not answer.
    pub temperature: Option<f64>,
    /// SMART overall result.
    pub smart: String,
}

/// A native alert.
#[derive(Debug, Clone, PartialEq)]
pub struct SimAlert {
    /// Id.
    pub id: String,
    /// Level.
    pub level: String,
    /// Text.
    pub text: String,
    /// Source.
    pub source: String,
    /// Class.
    pub klass: String,
    /// Dismissed.
    pub dismissed: bool,
    /// Raised this many seconds before rendering.
    pub age_secs: i64,
}

/// A replication task.
#[derive(Debug, Clone, PartialEq)]
pub struct SimReplication {
    /// Id.
    pub id: u32,
    /// Name.
    pub name: String,
    /// `PUSH` or `PULL`.
    pub direction: String,
    /// `SSH` or `LOCAL`.
    pub transport: String,
    /// Source datasets.
    pub sources: Vec<String>,
    /// Target dataset.
    pub target: String,
    /// Last state.
    pub state: String,
    /// Error of the last run.
    pub error: Option<String>,
    /// Remote host.
    pub remote: Option<String>,
}

/// An app.
#[derive(Debug, Clone, PartialEq)]
pub struct SimApp {
    /// Id and name.
    pub name: String,
    /// State.
    pub state: String,
    /// Version.
    pub version: String,
    /// Upgrade available.
    pub upgrade: bool,
}

/// A VM.
#[derive(Debug, Clone, PartialEq)]
pub struct SimVm {
    /// Id.
    pub id: u32,
    /// Name.
    pub name: String,
    /// State.
    pub state: String,
    /// vCPUs.
    pub vcpus: u32,
    /// Memory in MiB.
    pub memory_mib: u64,
}

/// A share.
#[derive(Debug, Clone, PartialEq)]
pub struct SimShare {
    /// `smb` or `nfs`.
    pub protocol: String,
    /// Id.
    pub id: u32,
    /// Name (SMB).
    pub name: String,
    /// Path.
    pub path: String,
    /// Enabled.
    pub enabled: bool,
    /// Locked.
    pub locked: bool,
}

/// Everything the appliance holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Host name.
    pub hostname: String,
    /// Chassis serial.
    pub serial: String,
    /// Data pools.
    pub pools: Vec<SimPool>,
    /// The boot pool.
    pub boot_pool: SimPool,
    /// Datasets (their pool is the first path component).
    pub datasets: Vec<SimDataset>,
    /// Disks.
    pub disks: Vec<SimDisk>,
    /// Alerts.
    pub alerts: Vec<SimAlert>,
    /// Replication tasks.
    pub replication: Vec<SimReplication>,
    /// Apps.
    pub apps: Vec<SimApp>,
    /// VMs.
    pub vms: Vec<SimVm>,
    /// Shares.
    pub shares: Vec<SimShare>,
}

/// A leaf named `disk` in `state`.
fn leaf(disk: &str, state: &str) -> SimLeaf {
    SimLeaf {
        disk: disk.into(),
        state: state.into(),
        errors: [0; 3],
    }
}

/// A healthy vdev of `kind` over `disks`.
fn vdev(kind: &str, disks: &[&str]) -> SimVdev {
    SimVdev {
        kind: kind.into(),
        state: "ONLINE".into(),
        leaves: disks.iter().map(|d| leaf(d, "ONLINE")).collect(),
    }
}

/// A disk.
fn disk(
    name: &str,
    model: &str,
    size: u64,
    kind: &str,
    pool: &str,
    temperature: Option<f64>,
) -> SimDisk {
    SimDisk {
        name: name.into(),
        serial: format!("SN{}", name.to_ascii_uppercase()),
        model: model.into(),
        size,
        kind: kind.into(),
        bus: if name.starts_with("nv") {
            "NVME"
        } else {
            "ATA"
        }
        .into(),
        pool: Some(pool.into()),
        temperature,
        smart: "PASS".into(),
    }
}

/// A mounted read-write filesystem.
fn dataset(name: &str, used: u64, available: u64, snapshots: u32) -> SimDataset {
    SimDataset {
        name: name.into(),
        used,
        available,
        readonly: false,
        locked: false,
        encrypted: false,
        mounted: None,
        volume: false,
        snapshots,
    }
}

impl Scenario {
    /// The demo appliance `truenas-main`: pools `tank` (healthy raidz2), `fast` (NVMe mirror),
    /// `archive` (DEGRADED: a FAULTED disk failing SMART, checksum errors, a resilver running)
    /// and `vault` (FAULTED, its only disk unavailable); a locked encrypted dataset, read-only
    /// datasets (one a replication target), a zvol, snapshots, three replication tasks (one
    /// failing), apps, VMs, shares, and native alerts — CRITICAL for `archive` and `vault`, a
    /// WARNING, an INFO and a dismissed one. `core` uses CORE's disk and boot-pool names.
    pub fn demo(core: bool) -> Self {
        let d = |scale: &'static str, core_name: &'static str| if core { core_name } else { scale };
        let (sda, sdb, sdc, sdd) = (
            d("sda", "ada0"),
            d("sdb", "ada1"),
            d("sdc", "ada2"),
            d("sdd", "ada3"),
        );
        let (nv0, nv1) = (d("nvme0n1", "nvd0"), d("nvme1n1", "nvd1"));
        let (sde, sdf, sdg, sdh) = (
            d("sde", "ada4"),
            d("sdf", "ada5"),
            d("sdg", "ada6"),
            d("sdh", "ada7"),
        );
        let boot_disk = d("sdi", "ada8");
        let mut archive_vdev = vdev("RAIDZ1", &[sde, sdf, sdg]);
        archive_vdev.state = "DEGRADED".into();
        archive_vdev.leaves[1].errors = [0, 0, 3];
        archive_vdev.leaves[2] = SimLeaf {
            disk: sdg.into(),
            state: "FAULTED".into(),
            errors: [12, 4, 0],
        };
        let mut vault_vdev = vdev("STRIPE", &[sdh]);
        vault_vdev.state = "UNAVAIL".into();
        vault_vdev.leaves[0].state = "UNAVAIL".into();
        let pools = vec![
            SimPool {
                name: "tank".into(),
                state: "ONLINE".into(),
                size: 16 * TIB,
                allocated: 9 * TIB,
                vdevs: vec![vdev("RAIDZ2", &[sda, sdb, sdc, sdd])],
                scan: Some(SimScan {
                    function: "SCRUB".into(),
                    state: "FINISHED".into(),
                    percentage: 100.0,
                    errors: 0,
                }),
            },
            SimPool {
                name: "fast".into(),
                state: "ONLINE".into(),
                size: 1800 * GIB,
                allocated: 410 * GIB,
                vdevs: vec![vdev("MIRROR", &[nv0, nv1])],
                scan: None,
            },
            SimPool {
                name: "archive".into(),
                state: "DEGRADED".into(),
                size: 24 * TIB,
                allocated: 19 * TIB,
                vdevs: vec![archive_vdev],
                scan: Some(SimScan {
                    function: "RESILVER".into(),
                    state: "SCANNING".into(),
                    percentage: 42.5,
                    errors: 0,
                }),
            },
            SimPool {
                name: "vault".into(),
                state: "FAULTED".into(),
                size: 4 * TIB,
                allocated: 0,
                vdevs: vec![vault_vdev],
                scan: None,
            },
        ];
        let boot_pool = SimPool {
            name: if core { "freenas-boot" } else { "boot-pool" }.into(),
            state: "ONLINE".into(),
            size: 240 * GIB,
            allocated: 12 * GIB,
            vdevs: vec![vdev("STRIPE", &[boot_disk])],
            scan: None,
        };
        let mut disks = vec![
            disk(sda, "WDC WD80EFZX", 8 * TIB, "HDD", "tank", Some(34.0)),
            disk(sdb, "WDC WD80EFZX", 8 * TIB, "HDD", "tank", Some(35.0)),
            disk(sdc, "WDC WD80EFZX", 8 * TIB, "HDD", "tank", Some(36.0)),
            disk(sdd, "WDC WD80EFZX", 8 * TIB, "HDD", "tank", Some(35.5)),
            disk(nv0, "Samsung 980 PRO", 2 * TIB, "SSD", "fast", Some(41.0)),
            disk(nv1, "Samsung 980 PRO", 2 * TIB, "SSD", "fast", Some(43.0)),
            disk(sde, "ST12000VN0008", 12 * TIB, "HDD", "archive", Some(38.0)),
            disk(sdf, "ST12000VN0008", 12 * TIB, "HDD", "archive", Some(39.0)),
            disk(sdg, "ST12000VN0008", 12 * TIB, "HDD", "archive", None),
            disk(sdh, "WDC WD40EFRX", 4 * TIB, "HDD", "vault", None),
            disk(
                boot_disk,
                "Kingston A400",
                240 * GIB,
                "SSD",
                if core { "freenas-boot" } else { "boot-pool" },
                Some(31.0),
            ),
        ];
        disks[8].smart = "FAIL".into();
        let mut datasets = vec![
            dataset("tank", 9 * TIB, 7 * TIB, 14),
            dataset("tank/media", 5 * TIB, 7 * TIB, 30),
            dataset("tank/backups", 2 * TIB, 7 * TIB, 30),
            dataset("tank/home", 600 * GIB, 7 * TIB, 48),
            dataset("tank/secure", 200 * GIB, 7 * TIB, 0),
            dataset("tank/replica", 800 * GIB, 7 * TIB, 24),
            dataset("tank/iso", 150 * GIB, 7 * TIB, 0),
            dataset("tank/vm-disks", 120 * GIB, 7 * TIB, 7),
            dataset("fast", 410 * GIB, 1300 * GIB, 0),
            dataset("fast/apps", 380 * GIB, 1300 * GIB, 24),
            dataset("archive", 19 * TIB, 5 * TIB, 0),
            dataset("archive/old", 18 * TIB, 5 * TIB, 4),
            dataset("vault", 0, 0, 0),
        ];
        for ds in &mut datasets {
            match ds.name.as_str() {
                "tank/secure" => {
                    ds.locked = true;
                    ds.encrypted = true;
                    ds.mounted = Some(false);
                }
                "tank/replica" | "tank/iso" | "archive/old" => ds.readonly = true,
                "tank/vm-disks" => ds.volume = true,
                "vault" => ds.mounted = Some(false),
                "tank/media" => ds.mounted = Some(true),
                _ => {}
            }
        }
        let alert = |id: &str,
                     level: &str,
                     text: &str,
                     source: &str,
                     klass: &str,
                     dismissed: bool,
                     age_secs: i64| SimAlert {
            id: id.into(),
            level: level.into(),
            text: text.into(),
            source: source.into(),
            klass: klass.into(),
            dismissed,
            age_secs,
        };
        let alerts = vec![
            alert("c1a9f0e2-0001", "CRITICAL", "Pool archive state is DEGRADED: One or more devices are faulted in response to persistent errors. Sufficient replicas exist for the pool to continue functioning in a degraded state.", "VolumeStatus", "VolumeStatus", false, 3_600),
            alert("c1a9f0e2-0002", "CRITICAL", "Pool vault state is FAULTED: One or more devices could not be used because the label is missing or invalid.", "VolumeStatus", "VolumeStatus", false, 1_800),
            alert("c1a9f0e2-0003", "WARNING", "Replication \"tank/home - offsite\" failed: ssh: connect to host 10.0.20.50 port 22: Connection timed out", "ReplicationFailed", "ReplicationFailed", false, 900),
            alert("c1a9f0e2-0004", "INFO", "An update is available: 25.04.2.1", "HasUpdate", "HasUpdate", false, 86_400),
            alert("c1a9f0e2-0005", "WARNING", "Certificate \"truenas_default\" expires in 10 days.", "CertificateExpiring", "CertificateIsExpiring", true, 172_800),
        ];
        let replication = vec![
            SimReplication {
                id: 1,
                name: "tank/media - backup-nas".into(),
                direction: "PUSH".into(),
                transport: "SSH".into(),
                sources: vec!["tank/media".into()],
                target: "backup/media".into(),
                state: "FINISHED".into(),
                error: None,
                remote: Some("backup-nas.lan".into()),
            },
            SimReplication {
                id: 2,
                name: "tank/home - offsite".into(),
                direction: "PUSH".into(),
                transport: "SSH".into(),
                sources: vec!["tank/home".into()],
                target: "offsite/home".into(),
                state: "ERROR".into(),
                error: Some("ssh: connect to host 10.0.20.50 port 22: Connection timed out".into()),
                remote: Some("10.0.20.50".into()),
            },
            SimReplication {
                id: 3,
                name: "prod data - pull".into(),
                direction: "PULL".into(),
                transport: "SSH".into(),
                sources: vec!["prod/data".into()],
                target: "tank/replica".into(),
                state: "FINISHED".into(),
                error: None,
                remote: Some("prod-nas.lan".into()),
            },
        ];
        let app = |name: &str, state: &str, version: &str, upgrade: bool| SimApp {
            name: name.into(),
            state: state.into(),
            version: version.into(),
            upgrade,
        };
        let share =
            |protocol: &str, id: u32, name: &str, path: &str, enabled: bool, locked: bool| {
                SimShare {
                    protocol: protocol.into(),
                    id,
                    name: name.into(),
                    path: path.into(),
                    enabled,
                    locked,
                }
            };
        Scenario {
            hostname: "truenas-main".into(),
            serial: "A1-TN-204817".into(),
            pools,
            boot_pool,
            datasets,
            disks,
            alerts,
            replication,
            apps: if core {
                Vec::new()
            } else {
                vec![
                    app("plex", "RUNNING", "1.41.3", false),
                    app("nextcloud", "RUNNING", "31.0.2", true),
                    app("syncthing", "CRASHED", "1.29.2", false),
                ]
            },
            vms: vec![
                SimVm {
                    id: 1,
                    name: "ubuntu-dev".into(),
                    state: "RUNNING".into(),
                    vcpus: 4,
                    memory_mib: 8192,
                },
                SimVm {
                    id: 2,
                    name: "win11".into(),
                    state: "STOPPED".into(),
                    vcpus: 2,
                    memory_mib: 16384,
                },
            ],
            shares: vec![
                share("smb", 1, "media", "/mnt/tank/media", true, false),
                share("smb", 2, "secure", "/mnt/tank/secure", true, true),
                share("nfs", 1, "", "/mnt/tank/backups", false, false),
            ],
        }
    }

    /// A large appliance for measurements: `pools` healthy raidz2 pools of 4 disks,
    /// `datasets` datasets spread evenly over them (pool roots included), `snapshots` snapshots
    /// spread evenly over the datasets, a few alerts and no apps, VMs or shares.
    pub fn sized(pools: usize, datasets: usize, snapshots: usize) -> Self {
        let pools = pools.max(1);
        let mut scenario = Scenario {
            hostname: "truenas-large".into(),
            serial: "A1-TN-LARGE".into(),
            pools: Vec::with_capacity(pools),
            boot_pool: SimPool {
                name: "boot-pool".into(),
                state: "ONLINE".into(),
                size: 240 * GIB,
                allocated: 12 * GIB,
                vdevs: vec![vdev("STRIPE", &["boot0"])],
                scan: None,
            },
            datasets: Vec::with_capacity(datasets),
            disks: Vec::with_capacity(pools * 4),
            alerts: Vec::new(),
            replication: Vec::new(),
            apps: Vec::new(),
            vms: Vec::new(),
            shares: Vec::new(),
        };
        for p in 0..pools {
            let name = format!("pool{p:02}");
            let names: Vec<String> = (0..4).map(|d| format!("da{}", p * 4 + d)).collect();
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            scenario.pools.push(SimPool {
                name: name.clone(),
                state: "ONLINE".into(),
                size: 32 * TIB,
                allocated: (8 + (p as u64 % 16)) * TIB,
                vdevs: vec![vdev("RAIDZ2", &refs)],
                scan: Some(SimScan {
                    function: "SCRUB".into(),
                    state: "FINISHED".into(),
                    percentage: 100.0,
                    errors: 0,
                }),
            });
            for (i, d) in names.iter().enumerate() {
                scenario.disks.push(disk(
                    d,
                    "HGST HUH721212AL",
                    12 * TIB,
                    "HDD",
                    &name,
                    Some(30.0 + i as f64),
                ));
            }
        }
        for i in 0..datasets {
            let pool = i % pools;
            let index = i / pools;
            let name = if index == 0 {
                format!("pool{pool:02}")
            } else {
                format!("pool{pool:02}/share{index:04}")
            };
            let share = snapshots / datasets.max(1) + usize::from(i < snapshots % datasets.max(1));
            scenario.datasets.push(dataset(
                &name,
                (i as u64 % 500 + 1) * GIB,
                20 * TIB,
                u32::try_from(share).unwrap_or(u32::MAX),
            ));
        }
        scenario.alerts.push(SimAlert {
            id: "large-1".into(),
            level: "WARNING".into(),
            text: "Space usage for pool \"pool07\" is 81%.".into(),
            source: "ZpoolCapacity".into(),
            klass: "ZpoolCapacityWarning".into(),
            dismissed: false,
            age_secs: 600,
        });
        scenario
    }
}

/// The rendered answers, by JSON-RPC method name; REST answers under the same names where
/// their shape differs.
#[derive(Debug, Default)]
pub struct Rendered {
    /// JSON-RPC results.
    pub rpc: HashMap<&'static str, Arc<str>>,
    /// REST bodies.
    pub rest: HashMap<&'static str, Arc<str>>,
}

/// Renders `scenario` as `flavor` answers it, with times relative to `now_ms`.
pub fn render(scenario: &Scenario, flavor: &SimFlavor, now_ms: i64) -> Rendered {
    let core = *flavor == SimFlavor::Core;
    let mut out = Rendered::default();
    let mut both = |method: &'static str, value: Value| {
        let text: Arc<str> = Arc::from(value.to_string());
        out.rpc.insert(method, Arc::clone(&text));
        out.rest.insert(method, text);
    };
    both("system.info", system_info(scenario, flavor, now_ms));
    both(
        "pool.query",
        Value::Array(
            scenario
                .pools
                .iter()
                .enumerate()
                .map(|(i, p)| pool(p, i + 1, now_ms))
                .collect(),
        ),
    );
    let mut boot = pool(&scenario.boot_pool, 0, now_ms);
    if let Some(object) = boot.as_object_mut() {
        object.remove("id");
        if core {
            if let Some(topology) = object.remove("topology") {
                object.insert("groups".into(), topology);
            }
        }
    }
    both("boot.get_state", boot);
    both(
        "disk.query",
        Value::Array(scenario.disks.iter().map(disk_json).collect()),
    );
    both(
        "alert.list",
        Value::Array(
            scenario
                .alerts
                .iter()
                .map(|a| alert_json(a, now_ms))
                .collect(),
        ),
    );
    both(
        "replication.query",
        Value::Array(
            scenario
                .replication
                .iter()
                .map(|r| replication_json(r, now_ms))
                .collect(),
        ),
    );
    both(
        "vm.query",
        Value::Array(scenario.vms.iter().map(vm_json).collect()),
    );
    for (method, protocol) in [("sharing.smb.query", "smb"), ("sharing.nfs.query", "nfs")] {
        both(
            method,
            Value::Array(
                scenario
                    .shares
                    .iter()
                    .filter(|s| s.protocol == protocol)
                    .map(|s| share_json(s, core))
                    .collect(),
            ),
        );
    }
    if !core {
        both(
            "app.query",
            Value::Array(scenario.apps.iter().map(app_json).collect()),
        );
    }
    let flat: Vec<Value> = scenario
        .datasets
        .iter()
        .map(|d| dataset_json(d, Vec::new()))
        .collect();
    out.rpc.insert(
        "pool.dataset.query",
        Arc::from(Value::Array(flat).to_string()),
    );
    out.rest.insert(
        "pool.dataset.query",
        Arc::from(nested_datasets(&scenario.datasets).to_string()),
    );
    let temps_agg: serde_json::Map<String, Value> = scenario
        .disks
        .iter()
        .map(|d| {
            let value = d.temperature.map_or(
                Value::Null,
                |t| json!({"min": t - 2.0, "max": t + 3.0, "avg": t}),
            );
            (d.name.clone(), value)
        })
        .collect();
    out.rpc.insert(
        "disk.temperature_agg",
        Arc::from(Value::Object(temps_agg).to_string()),
    );
    let temps: serde_json::Map<String, Value> = scenario
        .disks
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let value = match d.temperature {
                // One reading as a string, as some releases send it.
                Some(t) if i == 1 => Value::String(format!("{t}")),
                Some(t) => json!(t),
                None => Value::Null,
            };
            (d.name.clone(), value)
        })
        .collect();
    out.rest.insert(
        "disk.temperatures",
        Arc::from(Value::Object(temps).to_string()),
    );
    out.rpc.insert(
        "pool.snapshot.query",
        snapshots(scenario, now_ms, SnapshotShape::PoolSnapshot),
    );
    if flavor.has_zfs_resource() {
        out.rpc.insert(
            "zfs.resource.snapshot.query",
            snapshots(scenario, now_ms, SnapshotShape::ZfsResource),
        );
    }
    out.rest.insert(
        "zfs.snapshot",
        snapshots(scenario, now_ms, SnapshotShape::Rest),
    );
    out
}

/// `system.info`.
fn system_info(scenario: &Scenario, flavor: &SimFlavor, now_ms: i64) -> Value {
    json!({
        "version": flavor.version(),
        "buildtime": {"$date": now_ms - 40 * 86_400_000},
        "hostname": scenario.hostname,
        "physmem": 68_719_476_736_u64,
        "model": "AMD Ryzen 7 5700G with Radeon Graphics",
        "cores": 16,
        "physical_cores": 8,
        "loadavg": [0.42, 0.51, 0.48],
        "uptime": "12 days, 3:04:05",
        "uptime_seconds": 1_047_845.25,
        "system_serial": scenario.serial,
        "system_product": "TrueNAS Mini R",
        "system_manufacturer": "iXsystems",
        "timezone": "Europe/Berlin",
        "datetime": {"$date": now_ms},
    })
}

/// One pool (`id` 0 for the boot pool).
fn pool(p: &SimPool, id: usize, now_ms: i64) -> Value {
    let children: Vec<Value> = p
        .vdevs
        .iter()
        .enumerate()
        .flat_map(|(i, v)| {
            let leaves: Vec<Value> = v
                .leaves
                .iter()
                .map(|l| {
                    let unavailable = l.state == "UNAVAIL" || l.state == "REMOVED";
                    json!({
                        "type": "DISK",
                        "name": format!("{}-part2", l.disk),
                        "path": format!("/dev/disk/by-partuuid/{}-{}", p.name, l.disk),
                        "guid": format!("{}", 1_000_000 + i * 100 + l.disk.len()),
                        "status": l.state,
                        "disk": if unavailable { Value::Null } else { json!(l.disk) },
                        "unavail_disk": if unavailable { json!(l.disk) } else { Value::Null },
                        "device": format!("{}2", l.disk),
                        "stats": {"read_errors": l.errors[0], "write_errors": l.errors[1], "checksum_errors": l.errors[2]},
                        "children": [],
                    })
                })
                .collect();
            if v.kind == "STRIPE" {
                return leaves;
            }
            vec![json!({
                "type": v.kind,
                "name": format!("{}-{i}", v.kind.to_ascii_lowercase()),
                "status": v.state,
                "guid": format!("{}", 2_000_000 + i),
                "stats": {"read_errors": 0, "write_errors": 0, "checksum_errors": 0},
                "children": leaves,
            })]
        })
        .collect();
    let healthy = p.state == "ONLINE";
    let scan = p.scan.as_ref().map(|s| {
        json!({
            "function": s.function,
            "state": s.state,
            "percentage": s.percentage,
            "errors": s.errors,
            "bytes_examined": (p.allocated as f64 * s.percentage / 100.0) as u64,
            "bytes_to_process": p.allocated,
            "total_secs_left": if s.state == "SCANNING" { json!(5400) } else { Value::Null },
            "start_time": {"$date": now_ms - 7_200_000},
            "end_time": if s.state == "FINISHED" { json!({"$date": now_ms - 3_600_000}) } else { Value::Null },
        })
    });
    json!({
        "id": id,
        "name": p.name,
        "guid": format!("{}", 9_000_000_000_u64 + id as u64),
        "path": format!("/mnt/{}", p.name),
        "status": p.state,
        "status_code": if healthy { "OK" } else { "POOL_DEGRADED" },
        "status_detail": if healthy { Value::Null } else { json!(format!("pool {} is {}", p.name, p.state)) },
        "healthy": healthy,
        "warning": !healthy,
        "size": p.size,
        "allocated": p.allocated,
        "free": p.size.saturating_sub(p.allocated),
        "fragmentation": "7",
        "topology": {"data": children, "log": [], "cache": [], "spare": [], "special": [], "dedup": []},
        "scan": scan,
    })
}

/// A ZFS property object.
fn prop(value: &str, raw: &str, parsed: Value) -> Value {
    json!({"value": value, "rawvalue": raw, "parsed": parsed, "source": "LOCAL"})
}

/// One dataset with `children` as given.
fn dataset_json(d: &SimDataset, children: Vec<Value>) -> Value {
    let pool = d.name.split('/').next().unwrap_or(&d.name);
    let onoff = |b: bool| {
        prop(
            if b { "ON" } else { "OFF" },
            if b { "on" } else { "off" },
            json!(b),
        )
    };
    let mut value = json!({
        "id": d.name,
        "name": d.name,
        "pool": pool,
        "type": if d.volume { "VOLUME" } else { "FILESYSTEM" },
        "used": prop(&format!("{}", d.used), &d.used.to_string(), json!(d.used)),
        // The raw value only, as a string: numbers arrive as strings.
        "available": {"rawvalue": d.available.to_string(), "value": format!("{}", d.available)},
        "readonly": onoff(d.readonly),
        "compression": prop("LZ4", "lz4", json!("lz4")),
        "encrypted": d.encrypted,
        "locked": d.locked,
        "key_loaded": !d.locked,
        "mountpoint": if d.volume { Value::Null } else { json!(format!("/mnt/{}", d.name)) },
        "children": children,
    });
    if let (Some(mounted), Some(object)) = (d.mounted, value.as_object_mut()) {
        object.insert("mounted".into(), json!(mounted));
    }
    value
}

/// Datasets as a tree (each root with its descendants nested), as legacy listings send them.
fn nested_datasets(datasets: &[SimDataset]) -> Value {
    fn build(name: &str, all: &[SimDataset]) -> Vec<Value> {
        all.iter()
            .filter(|d| {
                d.name
                    .strip_prefix(name)
                    .and_then(|rest| rest.strip_prefix('/'))
                    .is_some_and(|rest| !rest.contains('/'))
            })
            .map(|d| dataset_json(d, build(&d.name, all)))
            .collect()
    }
    Value::Array(
        datasets
            .iter()
            .filter(|d| !d.name.contains('/'))
            .map(|d| dataset_json(d, build(&d.name, datasets)))
            .collect(),
    )
}

/// One disk.
fn disk_json(d: &SimDisk) -> Value {
    json!({
        "identifier": format!("{{serial_lunid}}{}_5000c500a1b2c3d4", d.serial),
        "name": d.name,
        "devname": d.name,
        "serial": d.serial,
        "size": d.size.to_string(),
        "model": d.model,
        "type": d.kind,
        "bus": d.bus,
        "rotationrate": if d.kind == "HDD" { json!(7200) } else { Value::Null },
        "pool": d.pool,
        "smart_status": d.smart,
        "togglesmart": true,
    })
}

/// One alert.
fn alert_json(a: &SimAlert, now_ms: i64) -> Value {
    json!({
        "uuid": a.id,
        "id": a.id,
        "source": a.source,
        "klass": a.klass,
        "args": null,
        "node": "A",
        "key": a.id,
        "datetime": {"$date": now_ms - a.age_secs * 1000},
        "last_occurrence": {"$date": now_ms - 60_000},
        "dismissed": a.dismissed,
        "mail": null,
        "text": a.text,
        "level": a.level,
        "formatted": a.text,
        "one_shot": false,
    })
}

/// One replication task.
fn replication_json(r: &SimReplication, now_ms: i64) -> Value {
    json!({
        "id": r.id,
        "name": r.name,
        "direction": r.direction,
        "transport": r.transport,
        "ssh_credentials": r.remote.as_ref().map(|h| json!({"id": r.id, "name": h, "attributes": {"host": h, "port": 22}})),
        "source_datasets": r.sources,
        "target_dataset": r.target,
        "recursive": false,
        "auto": true,
        "enabled": true,
        "readonly": "SET",
        "state": {
            "state": r.state,
            "datetime": {"$date": now_ms - 1_800_000},
            "error": r.error,
            "last_snapshot": format!("{}@auto-2025-05-01_00-00", r.sources.first().map_or("", String::as_str)),
        },
    })
}

/// One app.
fn app_json(a: &SimApp) -> Value {
    json!({
        "name": a.name,
        "id": a.name,
        "state": a.state,
        "upgrade_available": a.upgrade,
        "human_version": format!("{}_1.0.0", a.version),
        "version": "1.0.0",
        "metadata": {"app_version": a.version, "train": "community"},
        "portals": {},
    })
}

/// One VM.
fn vm_json(v: &SimVm) -> Value {
    json!({
        "id": v.id,
        "name": v.name,
        "description": "",
        "vcpus": v.vcpus,
        "cores": 1,
        "threads": 1,
        "memory": v.memory_mib,
        "min_memory": null,
        "autostart": v.state == "RUNNING",
        "status": {"state": v.state, "pid": if v.state == "RUNNING" { json!(4242 + v.id) } else { Value::Null }, "domain_state": v.state},
    })
}

/// One share (CORE's NFS shares list `paths`).
fn share_json(s: &SimShare, core: bool) -> Value {
    if s.protocol == "nfs" && core {
        json!({"id": s.id, "paths": [s.path], "enabled": s.enabled, "locked": s.locked})
    } else if s.protocol == "nfs" {
        json!({"id": s.id, "path": s.path, "enabled": s.enabled, "locked": s.locked})
    } else {
        json!({"id": s.id, "name": s.name, "path": s.path, "enabled": s.enabled, "locked": s.locked})
    }
}

/// How a snapshot listing is shaped.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SnapshotShape {
    /// `pool.snapshot.query`: property objects with `parsed` dates.
    PoolSnapshot,
    /// `zfs.resource.snapshot.query`: `{raw, value}` properties.
    ZfsResource,
    /// `GET /zfs/snapshot`: `rawvalue` strings only.
    Rest,
}

/// Every snapshot, written directly as text (a 10,000-entry listing is rendered per change).
fn snapshots(scenario: &Scenario, now_ms: i64, shape: SnapshotShape) -> Arc<str> {
    use std::fmt::Write as _;
    let total: usize = scenario.datasets.iter().map(|d| d.snapshots as usize).sum();
    let mut out = String::with_capacity(total * 300 + 2);
    out.push('[');
    let mut first = true;
    for d in &scenario.datasets {
        let pool = d.name.split('/').next().unwrap_or(&d.name);
        for k in 0..d.snapshots {
            let created_s = now_ms / 1000 - i64::from(k) * 3_600 - 600;
            let used = 1_048_576 + u64::from(k) * 4096;
            let snap = format!("auto-{created_s}");
            if !first {
                out.push(',');
            }
            first = false;
            let name = &d.name;
            let _ = match shape {
                SnapshotShape::PoolSnapshot => write!(
                    out,
                    "{{\"id\":\"{name}@{snap}\",\"name\":\"{name}@{snap}\",\"pool\":\"{pool}\",\"type\":\"SNAPSHOT\",\
                     \"dataset\":\"{name}\",\"snapshot_name\":\"{snap}\",\"properties\":{{\
                     \"creation\":{{\"value\":\"{created_s}\",\"rawvalue\":\"{created_s}\",\"parsed\":{{\"$date\":{}}},\"source\":\"NONE\"}},\
                     \"used\":{{\"value\":\"{used}B\",\"rawvalue\":\"{used}\",\"parsed\":{used},\"source\":\"NONE\"}}}}}}",
                    created_s * 1000
                ),
                SnapshotShape::ZfsResource => write!(
                    out,
                    "{{\"name\":\"{name}@{snap}\",\"pool\":\"{pool}\",\"dataset\":\"{name}\",\"snapshot_name\":\"{snap}\",\
                     \"createtxg\":{},\"properties\":{{\"creation\":{{\"raw\":\"{created_s}\",\"value\":{created_s}}},\
                     \"used\":{{\"raw\":\"{used}\",\"value\":{used}}}}}}}",
                    1000 + k
                ),
                SnapshotShape::Rest => write!(
                    out,
                    "{{\"id\":\"{name}@{snap}\",\"name\":\"{name}@{snap}\",\"pool\":\"{pool}\",\"type\":\"SNAPSHOT\",\
                     \"snapshot_name\":\"{snap}\",\"properties\":{{\"creation\":{{\"value\":\"Mon\",\"rawvalue\":\"{created_s}\"}},\
                     \"used\":{{\"value\":\"{used}B\",\"rawvalue\":\"{used}\"}}}}}}"
                ),
            };
        }
    }
    out.push(']');
    Arc::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        let scale = |v: &str| SimFlavor::Scale(v.into());
        assert!(scale("25.04.2").has_jsonrpc() && !scale("25.04.2").has_zfs_resource());
        assert!(scale("TrueNAS-25.10.0").has_zfs_resource());
        assert!(!scale("TrueNAS-SCALE-24.10.2").has_jsonrpc());
        assert!(!SimFlavor::Core.has_jsonrpc());
    }

    #[test]
    fn renderings_are_json() {
        for (scenario, flavor) in [
            (Scenario::demo(false), SimFlavor::Scale("25.10.1".into())),
            (Scenario::demo(true), SimFlavor::Core),
            (
                Scenario::sized(3, 30, 100),
                SimFlavor::Scale("25.04.2".into()),
            ),
        ] {
            let rendered = render(&scenario, &flavor, 1_700_000_000_000);
            for text in rendered.rpc.values().chain(rendered.rest.values()) {
                assert!(serde_json::from_str::<Value>(text).is_ok(), "{text}");
            }
        }
        let sized = Scenario::sized(50, 2000, 10_000);
        assert_eq!(sized.pools.len(), 50);
        assert_eq!(sized.datasets.len(), 2000);
        assert_eq!(
            sized
                .datasets
                .iter()
                .map(|d| d.snapshots as usize)
                .sum::<usize>(),
            10_000
        );
    }
}
