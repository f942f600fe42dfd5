//! Proxmox VE poll → [`SourceSnapshot`] (source `proxmox`, scope `pve:<instance>`).
//!
//! | PVE thing         | record type        | source id                               | parent |
//! |-------------------|--------------------|-----------------------------------------|--------|
//! | node              | `agent`            | `<instance>-<node>`                     | —      |
//! | QEMU VM / LXC     | `vm` / `system-container` | `<instance>:<node>:<vmid>` (guest key `<instance>:<vmid>`) | node |
//! | storage           | `storage`          | `<instance>-<node>-storage-<id>`        | node   |
//! | ZFS pool          | `storage`          | `<instance>-<node>-zfs-<pool>`          | node   |
//! | physical disk     | `physical_disk`    | `<instance>-<node>-disk-<devpath>`      | node   |
//! | Ceph cluster      | `ceph`             | `<instance>-ceph-<fsid>`                | —      |
//!
//! Templates are skipped; tags are split on `;`; CPU fractions become percent; node memory follows
//! the cache-aware rule ([`node_memory`]); guest counters become byte rates keyed by
//! `pve:<instance>:<type>:<vmid>` so a migration keeps the baseline. Replication and vzdump
//! results are summarised onto the guest's `proxmox` facet (`replication`, `lastBackup`).
//!
//! **Node grace.** A node that stops being `online` in `/nodes` (or vanishes from it) is not
//! reported offline at once. For [`NODE_OFFLINE_GRACE_MS`] (60 s) after it was first seen down
//! the snapshot repeats its last-seen records — the node, its storages, pools, disks and guests —
//! with an `error` on the node saying since when it is not answering; a node never seen online
//! is `unknown` during that time. After the grace the node is reported `offline` without metrics,
//! its guests as PVE lists them, and its storages and disks are no longer reported. Slow-changing
//! parts (disks, backups, replication) that were not polled this cycle are carried over from the
//! last poll that had them.

use std::collections::{HashMap, HashSet};

use pulse_model::{
    FacetKey, Identity, MetricKind, Metrics, ParentRef, ResourceType, Source, SourceRecord,
    SourceSnapshot, Status, Timestamp,
};
use serde_json::{json, Value};

use crate::sources::proxmox::pve::types::{
    CephStatus, GuestResource, NodeStorage, PhysicalDisk, Task,
};
use crate::sources::proxmox::pve::{NodePoll, PvePoll, Replication, ZfsPoolReport};

use super::metrics::{bytes_metric, cpu_metric, node_memory, rate_metric, usage_metric};
use super::rates::GuestRates;

/// How long a node that stopped answering keeps its last-seen state before it is `offline`.
pub const NODE_OFFLINE_GRACE_MS: u64 = 60_000;

/// What is remembered about one node between polls.
#[derive(Debug, Default)]
struct NodeMemoryOfRecords {
    /// When it was first seen not online (cleared when it is online again).
    down_since: Option<Timestamp>,
    /// Its records (node first, then children and guests) from the last poll it was online.
    records: Vec<SourceRecord>,
    /// Its physical disks from the last poll that read them.
    disks: Vec<SourceRecord>,
}

/// Turns PVE polls into snapshots, keeping the state that needs history: counter baselines, the
/// node grace, and the slow-changing parts between the polls that read them.
#[derive(Debug)]
pub struct PveNormaliser {
    instance: String,
    rates: GuestRates,
    nodes: HashMap<String, NodeMemoryOfRecords>,
    last_backups: HashMap<u64, Value>,
    last_replication: HashMap<u64, Vec<Value>>,
}

impl PveNormaliser {
    /// A normaliser for the PVE instance (endpoint) named `instance`.
    pub fn new(instance: impl Into<String>) -> Self {
        PveNormaliser {
            instance: instance.into(),
            rates: GuestRates::new(),
            nodes: HashMap::new(),
            last_backups: HashMap::new(),
            last_replication: HashMap::new(),
        }
    }

    /// The snapshot scope, `pve:<instance>`.
    pub fn scope(&self) -> String {
        format!("pve:{}", self.instance)
    }

    /// The snapshot for `poll`, observed at `now`.
    pub fn normalise(&mut self, poll: &PvePoll, now: Timestamp) -> SourceSnapshot {
        if poll.backups_polled {
            self.last_backups =
                summarise_backups(poll.nodes.iter().filter_map(|n| n.backup_tasks.as_deref()));
        }
        if let Some(replication) = &poll.replication {
            self.last_replication = summarise_replication(replication);
        }
        let mut records = Vec::with_capacity(poll.guests.len() + poll.nodes.len() * 8);
        let listed: HashSet<&str> = poll.nodes.iter().map(|n| n.entry.node.as_str()).collect();
        let mut online_nodes = HashSet::new();
        let mut grace_nodes = Vec::new();
        let mut node_ids = HashMap::new();

        for node in &poll.nodes {
            let name = node.entry.node.as_str();
            node_ids.insert(name, self.node_id(name));
            if node.entry.is_online() {
                online_nodes.insert(name);
                continue;
            }
            let memory = self.nodes.entry(name.to_owned()).or_default();
            let since = *memory.down_since.get_or_insert(now);
            if now.millis_since(since) < NODE_OFFLINE_GRACE_MS {
                grace_nodes.push((name.to_owned(), since, node.entry.status.clone()));
            } else {
                memory.records.clear();
                memory.disks.clear();
                records.push(self.offline_node(poll, node, Status::Offline, None));
            }
        }
        // Nodes that vanished from /nodes: remembered records within the grace, then forgotten.
        let vanished: Vec<String> = self
            .nodes
            .keys()
            .filter(|n| !listed.contains(n.as_str()))
            .cloned()
            .collect();
        for name in vanished {
            let Some(memory) = self.nodes.get_mut(&name) else {
                continue;
            };
            let since = *memory.down_since.get_or_insert(now);
            if now.millis_since(since) < NODE_OFFLINE_GRACE_MS && !memory.records.is_empty() {
                grace_nodes.push((name, since, None));
            } else {
                self.nodes.remove(&name);
            }
        }

        // Guests on nodes that answer (or whose grace is over) come from this poll.
        let mut emitted_guests = HashSet::new();
        let grace_names: HashSet<&str> = grace_nodes.iter().map(|(n, _, _)| n.as_str()).collect();
        let mut guest_records = Vec::with_capacity(poll.guests.len());
        for guest in &poll.guests {
            if guest.template || grace_names.contains(guest.node.as_str()) {
                continue;
            }
            let record = self.guest_record(guest, node_ids.get(guest.node.as_str()), now);
            if record
                .guest_key
                .as_ref()
                .is_some_and(|key| emitted_guests.insert(key.clone()))
            {
                guest_records.push((guest.node.as_str(), record));
            }
        }

        for node in &poll.nodes {
            let name = node.entry.node.as_str();
            if !online_nodes.contains(name) {
                continue;
            }
            let node_records = self.online_node_records(poll, node);
            let memory = self.nodes.entry(name.to_owned()).or_default();
            memory.down_since = None;
            memory.records.clear();
            memory.records.extend(node_records.iter().cloned());
            memory.records.extend(
                guest_records
                    .iter()
                    .filter(|(n, _)| *n == name)
                    .map(|(_, r)| r.clone()),
            );
            records.extend(node_records);
        }

        for (name, since, reported) in &grace_nodes {
            let remembered: Vec<SourceRecord> = self
                .nodes
                .get(name)
                .map(|m| m.records.clone())
                .unwrap_or_default();
            if remembered.is_empty() {
                if let Some(node) = poll.nodes.iter().find(|n| &n.entry.node == name) {
                    records.push(self.offline_node(poll, node, Status::Unknown, Some(*since)));
                }
            }
            for (i, mut record) in remembered.into_iter().enumerate() {
                if let Some(key) = &record.guest_key {
                    if !emitted_guests.insert(key.clone()) {
                        continue;
                    }
                }
                if i == 0 {
                    record.error = Some(format!(
                        "node {name} not answering (reported {}) since {since}; showing its last-seen state",
                        reported.as_deref().unwrap_or("missing")
                    ));
                }
                records.push(record);
            }
            // Guests PVE lists on this node that were not remembered (new since it went down).
            for guest in poll
                .guests
                .iter()
                .filter(|g| &g.node == name && !g.template)
            {
                let record = self.guest_record(guest, node_ids.get(name.as_str()), now);
                if record
                    .guest_key
                    .as_ref()
                    .is_some_and(|k| emitted_guests.insert(k.clone()))
                {
                    records.push(record);
                }
            }
        }
        records.extend(guest_records.into_iter().map(|(_, r)| r));

        if let Some(ceph) = &poll.ceph {
            records.push(self.ceph_record(ceph));
        }
        self.rates.sweep(now);
        SourceSnapshot {
            source: Source::Proxmox,
            scope: self.scope(),
            observed_at: now,
            records,
        }
    }

    /// Source id of a node record.
    fn node_id(&self, node: &str) -> String {
        format!("{}-{node}", self.instance)
    }

    /// The node record plus its storages, pools and disks, for a node that is online.
    fn online_node_records(&mut self, poll: &PvePoll, node: &NodePoll) -> Vec<SourceRecord> {
        let name = node.entry.node.as_str();
        let node_id = self.node_id(name);
        let mut record = self.node_base(poll, node, Status::Online);
        let status = node.status.as_ref();
        record.metrics.set(
            MetricKind::Cpu,
            status
                .and_then(|s| s.cpu)
                .or(node.entry.cpu)
                .and_then(cpu_metric),
        );
        let memory = node_memory(status, node.rrd.as_ref(), &node.entry);
        record.metrics.set(
            MetricKind::Memory,
            memory.map(|m| bytes_metric(m.used, Some(m.total))),
        );
        record.metrics.set(
            MetricKind::Disk,
            status
                .and_then(|s| usage_metric(s.rootfs.used, s.rootfs.total))
                .or_else(|| usage_metric(node.entry.disk, node.entry.maxdisk)),
        );
        record.uptime = status.and_then(|s| s.uptime).or(node.entry.uptime);
        if let (Some(facet), Some(memory)) = (record.facets.get_mut(&FacetKey::Proxmox), memory) {
            facet["memorySource"] = json!(memory.source.as_str());
        }
        if !node.warnings.is_empty() {
            record.error = Some(node.warnings.join("; "));
        }
        let mut records = vec![record];
        let parent = || Some(ParentRef::SourceId(node_id.clone()));
        for storage in &node.storage {
            let mut r = self.storage_record(name, storage);
            r.parent = parent();
            records.push(r);
        }
        for pool in &node.zfs {
            let mut r = self.zfs_record(name, pool);
            r.parent = parent();
            records.push(r);
        }
        let disks = match &node.disks {
            Some(disks) => {
                let built: Vec<SourceRecord> = disks
                    .iter()
                    .map(|d| {
                        let mut r = self.disk_record(name, d);
                        r.parent = parent();
                        r
                    })
                    .collect();
                let memory = self.nodes.entry(name.to_owned()).or_default();
                memory.disks = built.clone();
                built
            }
            None => self
                .nodes
                .get(name)
                .map(|m| m.disks.clone())
                .unwrap_or_default(),
        };
        records.extend(disks);
        records
    }

    /// The node record without metrics: name, identity, `proxmox` facet.
    fn node_base(&self, poll: &PvePoll, node: &NodePoll, status: Status) -> SourceRecord {
        let name = node.entry.node.as_str();
        let mut record = SourceRecord::new(self.node_id(name), ResourceType::Agent, name, status);
        record.identity = Identity {
            hostnames: vec![name.to_owned()],
            ip_addresses: node.ip.iter().cloned().collect(),
            cluster_name: poll.cluster_name.clone(),
            ..Identity::default()
        };
        let s = node.status.as_ref();
        record.facets.insert(
            FacetKey::Proxmox,
            json!({
                "node": name,
                "instance": self.instance,
                "clusterName": poll.cluster_name,
                "quorate": poll.quorate,
                "ip": node.ip,
                "level": node.entry.level,
                "pveVersion": s.and_then(|s| s.pveversion.as_deref()),
                "kernelVersion": s.and_then(|s| s.kversion.as_deref()),
                "cpuModel": s.and_then(|s| s.cpuinfo.model.as_deref()),
                "cores": s.and_then(|s| s.cpuinfo.cores),
                "sockets": s.and_then(|s| s.cpuinfo.sockets),
                "cpus": s.and_then(|s| s.cpuinfo.cpus).or(node.entry.maxcpu),
                "mhz": s.and_then(|s| s.cpuinfo.mhz),
                "ioWait": s.and_then(|s| s.wait),
                "loadAverage": s.map(|s| s.loadavg.clone()).filter(|l| !l.is_empty()),
                "rootfs": s.map(|s| json!({
                    "total": s.rootfs.total, "used": s.rootfs.used,
                    "free": s.rootfs.avail.or(s.rootfs.free),
                })),
                "swap": s.map(|s| json!({
                    "total": s.swap.total, "used": s.swap.used, "free": s.swap.free,
                })),
            }),
        );
        record
    }

    /// A node that is not online: `unknown` in its grace when never seen, `offline` after it.
    fn offline_node(
        &self,
        poll: &PvePoll,
        node: &NodePoll,
        status: Status,
        since: Option<Timestamp>,
    ) -> SourceRecord {
        let mut record = self.node_base(poll, node, status);
        let reported = node.entry.status.as_deref().unwrap_or("unknown");
        record.error = Some(match since {
            Some(since) => format!("node reported {reported} since {since}"),
            None => format!("node reported {reported}"),
        });
        record
    }

    /// A VM or container record, with rates from its counters.
    fn guest_record(
        &mut self,
        guest: &GuestResource,
        node_id: Option<&String>,
        now: Timestamp,
    ) -> SourceRecord {
        let (resource_type, kind, label) = if guest.is_lxc() {
            (ResourceType::SystemContainer, "lxc", "CT")
        } else {
            (ResourceType::Vm, "qemu", "VM")
        };
        let running = guest.status.as_deref() == Some("running");
        let status = match guest.status.as_deref() {
            Some("running") => Status::Online,
            Some("stopped" | "paused") => Status::Offline,
            _ => Status::Unknown,
        };
        let name = guest
            .name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| format!("{label} {}", guest.vmid));
        let mut record = SourceRecord::new(
            format!("{}:{}:{}", self.instance, guest.node, guest.vmid),
            resource_type,
            name,
            status,
        );
        record.guest_key = Some(format!("{}:{}", self.instance, guest.vmid));
        record.parent = node_id.map(|id| ParentRef::SourceId(id.clone()));
        record.tags = split_tags(guest.tags.as_deref());
        let rates = self.rates.observe(
            &GuestRates::key(&self.instance, kind, guest.vmid),
            now,
            [guest.netin, guest.netout, guest.diskread, guest.diskwrite],
        );
        let mut disk_reason = None;
        if running {
            record.uptime = guest.uptime;
            record.metrics = Metrics::new()
                .with(MetricKind::Cpu, guest.cpu.and_then(cpu_metric))
                .with(MetricKind::Memory, usage_metric(guest.mem, guest.maxmem))
                .with(
                    MetricKind::Disk,
                    match (guest.is_lxc(), guest.disk) {
                        (true, _) | (false, Some(1..)) => usage_metric(guest.disk, guest.maxdisk),
                        (false, _) => None,
                    },
                )
                .with(MetricKind::NetIn, rates[0].map(rate_metric))
                .with(MetricKind::NetOut, rates[1].map(rate_metric))
                .with(MetricKind::DiskRead, rates[2].map(rate_metric))
                .with(MetricKind::DiskWrite, rates[3].map(rate_metric));
            if record.metrics.disk().is_none() {
                disk_reason = Some("no-guest-agent-data");
            }
        } else if !guest.is_lxc() {
            disk_reason = Some("vm-stopped");
        }
        record.facets.insert(
            FacetKey::Proxmox,
            json!({
                "vmid": guest.vmid,
                "node": guest.node,
                "instance": self.instance,
                "type": kind,
                "pveStatus": guest.status,
                "pool": guest.pool,
                "lock": guest.lock,
                "haState": guest.hastate,
                "cpus": guest.maxcpu,
                "maxMemory": guest.maxmem,
                "maxDisk": guest.maxdisk,
                "diskStatusReason": disk_reason,
                "lastBackup": self.last_backups.get(&guest.vmid),
                "replication": self.last_replication.get(&guest.vmid),
            }),
        );
        record
    }

    /// A PVE storage record.
    fn storage_record(&self, node: &str, storage: &NodeStorage) -> SourceRecord {
        let status = if !storage.is_enabled() {
            Status::Warning
        } else if storage.active {
            Status::Online
        } else {
            Status::Offline
        };
        let mut record = SourceRecord::new(
            format!("{}-{node}-storage-{}", self.instance, storage.storage),
            ResourceType::Storage,
            storage.storage.as_str(),
            status,
        );
        record
            .metrics
            .set(MetricKind::Disk, usage_metric(storage.used, storage.total));
        record.facets.insert(
            FacetKey::Proxmox,
            json!({"node": node, "instance": self.instance, "storage": storage.storage}),
        );
        record.facets.insert(
            FacetKey::Storage,
            json!({
                "kind": "pve-storage",
                "type": storage.kind,
                "content": storage.content.as_deref().map(split_list),
                "shared": storage.shared,
                "enabled": storage.is_enabled(),
                "active": storage.active,
                "total": storage.total,
                "used": storage.used,
                "avail": storage.avail,
            }),
        );
        record
    }

    /// A ZFS pool record.
    fn zfs_record(&self, node: &str, report: &ZfsPoolReport) -> SourceRecord {
        let pool = &report.pool;
        let health = pool.health.as_deref().unwrap_or("UNKNOWN");
        let status = match health {
            "ONLINE" => Status::Online,
            "DEGRADED" => Status::Warning,
            "FAULTED" | "UNAVAIL" | "OFFLINE" | "REMOVED" | "SUSPENDED" => Status::Offline,
            _ => Status::Unknown,
        };
        let mut record = SourceRecord::new(
            format!("{}-{node}-zfs-{}", self.instance, pool.name),
            ResourceType::Storage,
            pool.name.as_str(),
            status,
        );
        record
            .metrics
            .set(MetricKind::Disk, usage_metric(pool.alloc, pool.size));
        let detail = report.detail.as_ref();
        record.facets.insert(
            FacetKey::Proxmox,
            json!({"node": node, "instance": self.instance}),
        );
        record.facets.insert(
            FacetKey::Storage,
            json!({
                "kind": "zfs-pool",
                "health": health,
                "state": detail.and_then(|d| d.state.as_deref()).unwrap_or(health),
                "status": detail.and_then(|d| d.status.as_deref()),
                "action": detail.and_then(|d| d.action.as_deref()),
                "scan": detail.and_then(|d| d.scan.as_deref()),
                "errors": detail.and_then(|d| d.errors.as_deref()),
                "fragmentation": pool.frag,
                "dedupRatio": pool.dedup,
                "size": pool.size,
                "alloc": pool.alloc,
                "free": pool.free,
            }),
        );
        record
    }

    /// A physical disk record; the WWN (else the serial) identifies it across sources.
    fn disk_record(&self, node: &str, disk: &PhysicalDisk) -> SourceRecord {
        let health = disk.health.as_deref().unwrap_or("UNKNOWN");
        let status = match health.to_ascii_uppercase().as_str() {
            "PASSED" | "OK" => Status::Online,
            "FAILED" => Status::Offline,
            _ => Status::Unknown,
        };
        let name = match &disk.model {
            Some(model) => format!("{} ({model})", disk.devpath),
            None => disk.devpath.clone(),
        };
        let mut record = SourceRecord::new(
            format!("{}-{node}-disk-{}", self.instance, disk.devpath),
            ResourceType::PhysicalDisk,
            name,
            status,
        );
        record.identity.machine_id = disk
            .wwn
            .clone()
            .or_else(|| disk.serial.clone())
            .filter(|id| !id.trim().is_empty());
        record.facets.insert(
            FacetKey::Proxmox,
            json!({"node": node, "instance": self.instance}),
        );
        record.facets.insert(
            FacetKey::PhysicalDisk,
            json!({
                "devpath": disk.devpath,
                "model": disk.model,
                "serial": disk.serial,
                "type": disk.kind,
                "health": health,
                "wearout": disk.wearout,
                "size": disk.size,
                "rpm": disk.rpm,
                "used": disk.used,
                "vendor": disk.vendor,
                "wwn": disk.wwn,
                "node": node,
            }),
        );
        record
    }

    /// The Ceph cluster record.
    fn ceph_record(&self, ceph: &CephStatus) -> SourceRecord {
        let health = ceph.health.status.as_deref().unwrap_or("UNKNOWN");
        let status = match health {
            "HEALTH_OK" => Status::Online,
            "HEALTH_WARN" => Status::Warning,
            "HEALTH_ERR" => Status::Offline,
            _ => Status::Unknown,
        };
        let fsid = ceph.fsid.as_deref().unwrap_or("cluster");
        let mut record = SourceRecord::new(
            format!("{}-ceph-{fsid}", self.instance),
            ResourceType::Ceph,
            format!("Ceph ({})", self.instance),
            status,
        );
        record.metrics.set(
            MetricKind::Disk,
            usage_metric(ceph.pgmap.bytes_used, ceph.pgmap.bytes_total),
        );
        let (osds, up, inn) = ceph.osdmap.counts();
        let checks: Vec<Value> = ceph
            .health
            .checks
            .iter()
            .map(|(name, check)| {
                json!({"name": name, "severity": check.severity, "summary": check.summary.message})
            })
            .collect();
        record.facets.insert(
            FacetKey::Proxmox,
            json!({
                "instance": self.instance,
                "fsid": ceph.fsid,
                "health": health,
                "checks": checks,
                "numOsds": osds,
                "numUpOsds": up,
                "numInOsds": inn,
                "numPgs": ceph.pgmap.num_pgs,
                "monitors": ceph.quorum_names,
            }),
        );
        record
    }
}

/// Splits PVE tags (`;`-separated); blanks dropped.
pub fn split_tags(tags: Option<&str>) -> Vec<String> {
    tags.map(|t| {
        t.split(';')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect()
    })
    .unwrap_or_default()
}

/// Splits a comma-separated list.
fn split_list(list: &str) -> Vec<&str> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// The newest finished vzdump task per guest: `{time, status, error?, node, upid}`.
fn summarise_backups<'a>(tasks: impl Iterator<Item = &'a [Task]>) -> HashMap<u64, Value> {
    let mut newest: HashMap<u64, &Task> = HashMap::new();
    for task in tasks.flatten() {
        let Some(vmid) = task
            .id
            .as_deref()
            .and_then(|id| id.trim().parse::<u64>().ok())
        else {
            continue;
        };
        if task.status.is_none() || task.kind.as_deref().is_some_and(|k| k != "vzdump") {
            continue;
        }
        let time = |t: &Task| t.endtime.or(t.starttime).unwrap_or(0);
        let slot = newest.entry(vmid).or_insert(task);
        if time(task) > time(slot) {
            *slot = task;
        }
    }
    newest
        .into_iter()
        .map(|(vmid, task)| {
            let ok = task.status.as_deref() == Some("OK");
            let at = task.endtime.or(task.starttime).unwrap_or(0);
            let value = json!({
                "time": Timestamp::from_millis(at.saturating_mul(1000)).to_string(),
                "status": if ok { "ok" } else { "error" },
                "error": (!ok).then_some(task.status.as_deref()).flatten(),
                "node": task.node,
                "upid": task.upid,
            });
            (vmid, value)
        })
        .collect()
}

/// Replication jobs per guest: `[{id, target, lastSync, nextSync, failCount, duration, state, error}]`.
fn summarise_replication(replication: &[Replication]) -> HashMap<u64, Vec<Value>> {
    let mut by_guest: HashMap<u64, Vec<Value>> = HashMap::new();
    let time = |t: Option<i64>| {
        t.filter(|&t| t > 0)
            .map(|t| Timestamp::from_millis(t.saturating_mul(1000)).to_string())
    };
    for r in replication {
        let status = r.status.clone().unwrap_or_default();
        by_guest.entry(r.job.guest).or_default().push(json!({
            "id": r.job.id,
            "target": r.job.target,
            "schedule": r.job.schedule,
            "enabled": !r.job.disable,
            "lastSync": time(status.last_sync),
            "nextSync": time(status.next_sync),
            "failCount": status.fail_count,
            "duration": status.duration,
            "state": status.state,
            "error": status.error,
        }));
    }
    by_guest
}

#[cfg(test)]
mod tests;
