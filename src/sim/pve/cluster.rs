//! The simulated PVE cluster: deterministic nodes and guests derived from the configured size,
//! counters that grow with wall time, and the JSON of each endpoint — including the quirks real
//! clusters show (numbers as strings, `loadavg` as strings, `mhz` as a string, optional fields
//! missing, `vmid` as a string, `wearout` as `"N/A"`, memory with or without `available`).

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use serde_json::{json, Map, Value};

/// One GiB.
const GIB: u64 = 1 << 30;
/// Role names guests are named after.
const ROLES: [&str; 8] = ["web", "db", "cache", "mail", "ci", "dns", "proxy", "app"];
/// Tag sets, `None` meaning no `tags` field at all.
const TAGS: [Option<&str>; 5] = [
    Some("prod;web"),
    Some("dev"),
    None,
    Some("prod;db;backup"),
    Some(" monitoring ; ops;"),
];

/// A guest's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestKind {
    /// QEMU VM.
    Qemu,
    /// LXC container.
    Lxc,
}

/// One simulated guest.
#[derive(Debug, Clone)]
pub struct SimGuest {
    /// Guest id.
    pub vmid: u64,
    /// Kind.
    pub kind: GuestKind,
    /// Name, `None` for the guest that has none.
    pub name: Option<String>,
    /// Index of its node.
    pub node: usize,
    /// `running`, `stopped` or `paused`.
    pub status: &'static str,
    /// Template flag.
    pub template: bool,
    /// Tags as PVE sends them.
    pub tags: Option<&'static str>,
    /// vCPUs.
    pub cpus: u64,
    /// Memory size.
    pub maxmem: u64,
    /// Disk size.
    pub maxdisk: u64,
    /// Bytes per second its counters grow by (net in, net out, disk read, disk write).
    pub rates: [u64; 4],
    /// When its counters last started from zero (start or restart).
    pub counter_epoch: Instant,
}

/// The mutable part of the cluster, behind one lock.
#[derive(Debug)]
struct Dynamic {
    guests: Vec<SimGuest>,
    down_node: Option<usize>,
    malformed_guest: bool,
}

/// A simulated cluster.
#[derive(Debug)]
pub struct SimCluster {
    /// Cluster name.
    pub name: String,
    /// Node names.
    pub nodes: Vec<String>,
    /// Whether Ceph is configured.
    pub ceph: bool,
    started: Instant,
    started_unix: i64,
    dynamic: Mutex<Dynamic>,
}

impl SimCluster {
    /// A cluster of `nodes` nodes (at least 1) and `guests` guests named after `name`.
    pub fn new(name: &str, nodes: usize, guests: usize, ceph: bool) -> Self {
        let nodes: Vec<String> = (1..=nodes.max(1)).map(|i| format!("pve{i}")).collect();
        let now = Instant::now();
        let guests = (0..guests)
            .map(|i| {
                let i64_ = i as u64;
                let kind = if i % 3 == 2 {
                    GuestKind::Lxc
                } else {
                    GuestKind::Qemu
                };
                let template = kind == GuestKind::Qemu && i % 20 == 19;
                let status = if template || i % 7 == 3 {
                    "stopped"
                } else if i == 5 {
                    "paused"
                } else {
                    "running"
                };
                SimGuest {
                    vmid: 100 + i64_,
                    kind,
                    name: (i != 11).then(|| format!("{}-{:02}", ROLES[i % ROLES.len()], i)),
                    node: i % nodes.len(),
                    status,
                    template,
                    tags: TAGS[i % TAGS.len()],
                    cpus: 1 + i64_ % 8,
                    maxmem: (1 + i64_ % 16) * GIB,
                    maxdisk: (8 + i64_ % 64) * GIB,
                    rates: [
                        1_000 + (i64_ * 7_919) % 50_000,
                        500 + (i64_ * 104_729) % 20_000,
                        2_000 + (i64_ * 1_299) % 80_000,
                        1_000 + (i64_ * 15_485) % 60_000,
                    ],
                    counter_epoch: now,
                }
            })
            .collect();
        SimCluster {
            name: name.to_owned(),
            nodes,
            ceph,
            started: now,
            started_unix: unix_now(),
            dynamic: Mutex::new(Dynamic {
                guests,
                down_node: None,
                malformed_guest: false,
            }),
        }
    }

    /// The mutable state.
    fn state(&self) -> MutexGuard<'_, Dynamic> {
        self.dynamic.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Seconds since the simulator started.
    fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Index of a node by name.
    pub fn node_index(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n == name)
    }

    /// Whether the node at `index` is the one taken down.
    pub fn is_down(&self, index: usize) -> bool {
        self.state().down_node == Some(index)
    }

    /// Takes a node down (or brings all back with `None`).
    pub fn set_down_node(&self, index: Option<usize>) {
        self.state().down_node = index;
    }

    /// Moves a guest to another node (live migration); false if either is unknown.
    pub fn migrate(&self, vmid: u64, node: usize) -> bool {
        if node >= self.nodes.len() {
            return false;
        }
        let mut state = self.state();
        match state.guests.iter_mut().find(|g| g.vmid == vmid) {
            Some(guest) => {
                guest.node = node;
                true
            }
            None => false,
        }
    }

    /// Restarts a guest: its counters start again from zero.
    pub fn restart(&self, vmid: u64) -> bool {
        let mut state = self.state();
        match state.guests.iter_mut().find(|g| g.vmid == vmid) {
            Some(guest) => {
                guest.counter_epoch = Instant::now();
                true
            }
            None => false,
        }
    }

    /// Adds (or removes) one malformed entry in the guest listing.
    pub fn set_malformed_guest(&self, on: bool) {
        self.state().malformed_guest = on;
    }

    /// A snapshot of the guests.
    pub fn guests(&self) -> Vec<SimGuest> {
        self.state().guests.clone()
    }

    /// `GET /version`.
    pub fn version(&self) -> Value {
        json!({"version": "8.2.4", "release": "8.2", "repoid": "faa83925c9641325"})
    }

    /// `GET /nodes`.
    pub fn nodes_json(&self) -> Value {
        let t = self.elapsed();
        let down = self.state().down_node;
        let entries: Vec<Value> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, name)| {
                if down == Some(i) {
                    return json!({"node": name, "status": "unknown", "id": format!("node/{name}"), "type": "node"});
                }
                let (total, used) = self.node_memory(i, t);
                let mut entry = json!({
                    "node": name, "status": "online", "id": format!("node/{name}"), "type": "node",
                    "cpu": self.node_cpu(i, t), "maxcpu": self.node_cores(i),
                    "mem": used, "maxmem": total,
                    "disk": 20 * GIB + i as u64 * GIB, "maxdisk": 100 * GIB,
                    "uptime": self.node_uptime(i, t), "level": if i == 0 { "c" } else { "" },
                    "ssl_fingerprint": "00:11:22",
                });
                if i == 1 {
                    entry["mem"] = json!(used.to_string());
                }
                entry
            })
            .collect();
        Value::Array(entries)
    }

    /// `GET /nodes/{node}/status` with the per-node memory variants.
    pub fn node_status(&self, i: usize) -> Value {
        let t = self.elapsed();
        let (total, used) = self.node_memory(i, t);
        let free = total - used;
        let load = [0.15 + i as f64 * 0.1, 0.2, 0.18];
        let (memory, loadavg, mhz) = match i % 3 {
            // Modern: `available`, loadavg as strings, mhz as a string.
            0 => (
                json!({"total": total, "used": used, "free": free, "available": free + 6 * GIB}),
                json!(load.map(|l| format!("{l:.2}"))),
                json!("2994.372"),
            ),
            // Numbers as strings, buffers/cached instead of available, loadavg as numbers.
            1 => (
                json!({
                    "total": total.to_string(), "used": used.to_string(), "free": free.to_string(),
                    "buffers": (GIB / 2).to_string(), "cached": (4 * GIB).to_string(),
                }),
                json!(load),
                json!(3400.0),
            ),
            // Old: no cache-aware figure at all (clients need the RRD).
            _ => (
                json!({"total": total, "used": used, "free": free}),
                json!(load.map(|l| format!("{l:.2}"))),
                json!("2100"),
            ),
        };
        json!({
            "cpu": self.node_cpu(i, t), "wait": 0.0012, "idle": 0,
            "uptime": self.node_uptime(i, t),
            "loadavg": loadavg,
            "kversion": "Linux 6.8.12-1-pve #1 SMP PREEMPT_DYNAMIC PMX 6.8.12-1",
            "pveversion": "pve-manager/8.2.4/faa83925c9641325",
            "cpuinfo": {
                "model": "AMD EPYC 7302P 16-Core Processor", "cores": self.node_cores(i) / 2,
                "sockets": 1, "cpus": self.node_cores(i), "mhz": mhz, "flags": "fpu vme de",
            },
            "memory": memory,
            "swap": {"total": 8 * GIB, "used": 0, "free": 8 * GIB},
            "rootfs": {"total": 100 * GIB, "used": 20 * GIB + i as u64 * GIB, "avail": 80 * GIB - i as u64 * GIB, "free": 80 * GIB},
            "ksm": {"shared": 0},
        })
    }

    /// `GET /nodes/{node}/rrddata`: an hour of points, the newest one still empty (as on PVE).
    pub fn node_rrd(&self, i: usize) -> Value {
        let t = self.elapsed();
        let (total, used) = self.node_memory(i, t);
        let now = unix_now();
        let mut points: Vec<Value> = (0..70)
            .map(|k| {
                json!({
                    "time": now - (70 - k) * 60,
                    "memtotal": total as f64, "memused": used as f64,
                    "memavailable": (total - used) as f64 + 5.0 * GIB as f64,
                    "netin": 1200.5, "netout": 900.25, "cpu": 0.05,
                })
            })
            .collect();
        points.push(json!({"time": now}));
        Value::Array(points)
    }

    /// `GET /cluster/status`.
    pub fn cluster_status(&self) -> Value {
        let down = self.state().down_node;
        let mut entries = vec![json!({
            "type": "cluster", "id": "cluster", "name": self.name, "nodes": self.nodes.len(),
            "quorate": 1, "version": 7,
        })];
        for (i, name) in self.nodes.iter().enumerate() {
            entries.push(json!({
                "type": "node", "id": format!("node/{name}"), "name": name,
                "ip": format!("10.10.0.{}", 10 + i), "nodeid": i + 1,
                "online": u8::from(down != Some(i)), "local": u8::from(i == 0), "level": "",
            }));
        }
        Value::Array(entries)
    }

    /// `GET /cluster/resources[?type=vm]`.
    pub fn resources(&self, only_guests: bool) -> Value {
        let t = self.elapsed();
        let state = self.state();
        let mut entries: Vec<Value> = state
            .guests
            .iter()
            .map(|g| self.guest_json(g, state.down_node == Some(g.node), t))
            .collect();
        if state.malformed_guest {
            entries.insert(
                entries.len() / 2,
                json!({"id": "qemu/999", "type": "qemu", "vmid": {"broken": true}, "node": "pve1"}),
            );
        }
        if !only_guests {
            drop(state);
            if let Value::Array(nodes) = self.nodes_json() {
                entries.extend(nodes);
            }
        }
        Value::Array(entries)
    }

    /// One guest entry of `/cluster/resources`.
    fn guest_json(&self, g: &SimGuest, node_down: bool, t: f64) -> Value {
        let node = &self.nodes[g.node];
        let kind = match g.kind {
            GuestKind::Qemu => "qemu",
            GuestKind::Lxc => "lxc",
        };
        let running = g.status == "running" && !node_down;
        let status = if node_down { "unknown" } else { g.status };
        let since = g.counter_epoch.elapsed().as_secs_f64();
        let counter = |k: usize| {
            if running {
                (g.rates[k] as f64 * since) as u64 + 4096
            } else {
                0
            }
        };
        let cpu = if running {
            0.02 + 0.4 * ((t / 60.0 + g.vmid as f64).sin().abs())
        } else {
            0.0
        };
        let mut entry = Map::new();
        entry.insert("id".into(), json!(format!("{kind}/{}", g.vmid)));
        entry.insert("type".into(), json!(kind));
        entry.insert("node".into(), json!(node));
        entry.insert("status".into(), json!(status));
        // LXC ids sometimes arrive as strings.
        entry.insert(
            "vmid".into(),
            if g.kind == GuestKind::Lxc && g.vmid % 2 == 0 {
                json!(g.vmid.to_string())
            } else {
                json!(g.vmid)
            },
        );
        if let Some(name) = &g.name {
            entry.insert("name".into(), json!(name));
        }
        entry.insert("cpu".into(), json!(cpu));
        entry.insert("maxcpu".into(), json!(g.cpus));
        let mem = if running {
            (g.maxmem as f64 * (0.3 + 0.4 * cpu)) as u64
        } else {
            0
        };
        entry.insert("mem".into(), json!(mem));
        entry.insert("maxmem".into(), json!(g.maxmem));
        let disk = match (g.kind, running) {
            (GuestKind::Lxc, true) => g.maxdisk / 3,
            _ => 0,
        };
        entry.insert("disk".into(), json!(disk));
        entry.insert("maxdisk".into(), json!(g.maxdisk));
        let netin = counter(0);
        entry.insert(
            "netin".into(),
            if g.vmid % 4 == 1 {
                json!(netin.to_string())
            } else {
                json!(netin)
            },
        );
        entry.insert("netout".into(), json!(counter(1)));
        entry.insert("diskread".into(), json!(counter(2)));
        entry.insert("diskwrite".into(), json!(counter(3)));
        entry.insert(
            "uptime".into(),
            json!(if running {
                since as u64 + g.vmid * 60
            } else {
                0
            }),
        );
        if g.template {
            entry.insert("template".into(), json!(1));
        } else if g.vmid % 2 == 0 {
            entry.insert("template".into(), json!(0));
        }
        if let Some(tags) = g.tags {
            entry.insert("tags".into(), json!(tags));
        }
        if g.vmid % 10 == 0 {
            entry.insert("pool".into(), json!("production"));
        }
        if g.vmid % 9 == 0 {
            entry.insert("hastate".into(), json!("started"));
        }
        Value::Object(entry)
    }

    /// `GET /nodes/{node}/storage`.
    pub fn storage(&self, i: usize) -> Value {
        let mut list = vec![
            json!({"storage": "local", "type": "dir", "content": "iso,vztmpl,backup", "active": 1, "enabled": 1, "shared": 0,
                   "total": 100 * GIB, "used": 20 * GIB, "avail": 80 * GIB}),
            json!({"storage": "local-lvm", "type": "lvmthin", "content": "images,rootdir", "active": 1, "enabled": 1, "shared": 0,
                   "total": (900 * GIB).to_string(), "used": (300 * GIB + i as u64 * 10 * GIB).to_string(), "avail": (600 * GIB).to_string()}),
            json!({"storage": "nfs-backup", "type": "nfs", "content": "backup", "active": 1, "shared": 1,
                   "total": 4096 * GIB, "used": 3500 * GIB, "avail": 596 * GIB}),
        ];
        if i + 1 == self.nodes.len() {
            list.push(json!({"storage": "old-nfs", "type": "nfs", "content": "images", "active": 0, "enabled": 0, "shared": 1}));
        }
        Value::Array(list)
    }

    /// `GET /nodes/{node}/disks/zfs`: `rpool` on the first node, a degraded `tank` on the second.
    pub fn zfs(&self, i: usize) -> Value {
        match i {
            0 => {
                json!([{"name": "rpool", "health": "ONLINE", "size": 960 * GIB, "alloc": 300 * GIB, "free": 660 * GIB, "frag": 12, "dedup": 1.0}])
            }
            1 => {
                json!([{"name": "tank", "health": "DEGRADED", "size": (8192 * GIB).to_string(), "alloc": 5000 * GIB, "free": 3192 * GIB, "frag": "31", "dedup": "1.00"}])
            }
            _ => json!([]),
        }
    }

    /// `GET /nodes/{node}/disks/zfs/{pool}`.
    pub fn zfs_detail(&self, i: usize, pool: &str) -> Option<Value> {
        match (i, pool) {
            (0, "rpool") => Some(
                json!({"name": "rpool", "state": "ONLINE", "errors": "No known data errors", "children": []}),
            ),
            (1, "tank") => Some(json!({
                "name": "tank", "state": "DEGRADED",
                "status": "One or more devices has been removed by the administrator.",
                "action": "Online the device using zpool online' or replace it with 'zpool replace'.",
                "scan": "scrub repaired 0B in 02:11:45 with 0 errors",
                "errors": "No known data errors",
                "children": [{"name": "raidz1-0", "state": "DEGRADED", "read": 0, "write": 0, "cksum": 0,
                              "children": [{"name": "sdb", "state": "REMOVED", "leaf": 1, "msg": "removed"}]}],
            })),
            _ => None,
        }
    }

    /// `GET /nodes/{node}/disks/list`: NVMe, SSD and HDD, one failing SMART on the second node.
    pub fn disks(&self, i: usize) -> Value {
        let serial = |d: &str| format!("SIM{:02}{d}", i);
        json!([
            {"devpath": "/dev/nvme0n1", "model": "Samsung SSD 980 PRO 1TB", "serial": serial("N0"), "type": "nvme",
             "health": "PASSED", "wearout": 3, "size": 1_000_204_886_016u64, "rpm": 0, "used": "ZFS",
             "vendor": "Samsung", "wwn": format!("eui.0025385{i:04}b40a1")},
            {"devpath": "/dev/sda", "model": "INTEL SSDSC2KB480G8", "serial": serial("S0"), "type": "ssd",
             "health": "OK", "wearout": "97", "size": "480103981056", "rpm": 0, "used": "LVM", "vendor": "ATA"},
            {"devpath": "/dev/sdb", "model": "WDC WD80EFZZ", "serial": serial("H0"), "type": "hdd",
             "health": if i == 1 { "FAILED" } else { "PASSED" }, "wearout": "N/A", "size": 8_001_563_222_016u64,
             "rpm": 5400, "used": "ZFS", "vendor": "ATA", "wwn": format!("0x5000cca2{i:08x}")},
        ])
    }

    /// `GET /cluster/ceph/status`.
    pub fn ceph_status(&self) -> Option<Value> {
        self.ceph.then(|| {
            json!({
                "fsid": "5d4a8b8c-1b2e-4f21-9b55-2c1d2a7d9e01",
                "health": {"status": "HEALTH_WARN", "checks": {
                    "OSD_NEARFULL": {"severity": "HEALTH_WARN", "summary": {"message": "1 nearfull osd(s)", "count": 1}},
                }},
                "osdmap": {"num_osds": 6, "num_up_osds": 6, "num_in_osds": 6, "epoch": 412},
                "pgmap": {"num_pgs": 129, "bytes_total": 12 * 1024 * GIB, "bytes_used": (9 * 1024 * GIB).to_string(), "bytes_avail": 3 * 1024 * GIB},
                "quorum_names": self.nodes.iter().take(3).collect::<Vec<_>>(),
                "monmap": {"mons": []},
            })
        })
    }

    /// `GET /cluster/replication`: two jobs, without `source` (clients use the guest's node).
    pub fn replication(&self) -> Value {
        let guests = self.guests();
        let jobs: Vec<Value> = guests
            .iter()
            .filter(|g| g.kind == GuestKind::Qemu && g.status == "running")
            .take(2)
            .map(|g| {
                let target = &self.nodes[(g.node + 1) % self.nodes.len()];
                json!({"id": format!("{}-0", g.vmid), "type": "local", "guest": g.vmid, "target": target,
                       "schedule": "*/15", "jobnum": 0})
            })
            .collect();
        Value::Array(jobs)
    }

    /// `GET /nodes/{node}/replication/{id}/status`; the second job fails.
    pub fn replication_status(&self, id: &str) -> Option<Value> {
        let vmid: u64 = id.split('-').next()?.parse().ok()?;
        let first = self
            .guests()
            .iter()
            .find(|g| g.kind == GuestKind::Qemu && g.status == "running")
            .map(|g| g.vmid);
        let now = unix_now();
        Some(if first == Some(vmid) {
            json!({"id": id, "guest": vmid, "last_sync": now - 300, "next_sync": now + 600, "fail_count": 0,
                   "duration": 4.21, "state": "ok"})
        } else {
            json!({"id": id, "guest": vmid, "last_sync": now - 86_400, "next_sync": now + 300, "fail_count": "3",
                   "duration": 1.5, "state": "error", "error": "could not connect to target node"})
        })
    }

    /// `GET /nodes/{node}/tasks?typefilter=vzdump`: one backup per guest with a vmid divisible by
    /// four on this node, every fifth of them failed.
    pub fn backup_tasks(&self, i: usize, limit: usize) -> Value {
        let node = &self.nodes[i];
        let tasks: Vec<Value> = self
            .guests()
            .iter()
            .filter(|g| g.node == i && g.vmid % 4 == 0 && !g.template)
            .take(limit)
            .map(|g| {
                let start = self.started_unix - 3600 - g.vmid as i64;
                let failed = (g.vmid / 4) % 5 == 3;
                json!({
                    "upid": format!("UPID:{node}:0000{:04X}:00{:06X}:{start:08X}:vzdump:{}:root@pam:", g.vmid, g.vmid, g.vmid),
                    "node": node, "pid": 1000 + g.vmid, "pstart": 12345, "starttime": start,
                    "endtime": start + 120, "type": "vzdump", "id": g.vmid.to_string(), "user": "root@pam",
                    "status": if failed { "ERROR: job failed with err -5 - Input/output error" } else { "OK" },
                })
            })
            .collect();
        Value::Array(tasks)
    }

    /// Node CPU fraction at time `t`.
    fn node_cpu(&self, i: usize, t: f64) -> f64 {
        0.05 + 0.3 * ((t / 30.0 + i as f64).sin().abs())
    }

    /// Node logical CPUs.
    fn node_cores(&self, i: usize) -> u64 {
        16 + (i as u64 % 3) * 16
    }

    /// Node memory `(total, used)` at time `t` (used includes cache).
    fn node_memory(&self, i: usize, t: f64) -> (u64, u64) {
        let total = (64 + (i as u64 % 3) * 64) * GIB;
        let used = (total as f64 * (0.55 + 0.1 * (t / 45.0 + i as f64).sin())) as u64;
        (total, used)
    }

    /// Node uptime at time `t`.
    fn node_uptime(&self, i: usize, t: f64) -> u64 {
        86_400 * (3 + i as u64) + t as u64
    }
}

/// Unix seconds now.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
