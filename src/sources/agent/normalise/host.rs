//! Host report → one `agent` record of source `agent` (platforms §18).
//!
//! - Disk usage sums real filesystems only: pseudo and in-memory filesystems and zero-sized
//!   mounts are skipped, a device mounted twice (bind mounts) counts once, and datasets of one
//!   ZFS/Btrfs pool count once (the largest), since they share the pool's space.
//! - Network rates sum the interfaces that carry host traffic (not loopback, veth, bridges of
//!   containers, VM taps; see [`is_virtual_interface`]); disk rates sum whole disks (not
//!   partitions of loop, RAM, device-mapper or MD devices, whose I/O is counted on the disks
//!   below them).
//! - Temperature is the hottest CPU sensor (package, die or core: names containing `package`,
//!   `tctl`, `tdie`, `cpu`, `coretemp`, `k10temp`) when there is one, else the hottest sensor;
//!   readings outside -50..=150 °C are ignored as sensor faults.

use std::collections::HashSet;

use pulse_model::{
    FacetKey, Identity, MetricKind, MetricValue, Metrics, ResourceType, SourceRecord, Status,
    Timestamp,
};
use serde_json::{json, Value};

use super::common::{
    add_interface_identity, bytes_metric, facet, is_virtual_interface, looks_like_hostname,
    percent_metric, rate_metric, sum_rates, text, Liveness, DEFAULT_INTERVAL_SECS,
};
use crate::sources::agent::wire::{DiskIo, Filesystem, HostReport, NetInterface};
use crate::sources::rates::CounterRates;

/// Filesystem types that do not hold data on a disk of the host.
const PSEUDO_FILESYSTEMS: [&str; 27] = [
    "tmpfs",
    "devtmpfs",
    "overlay",
    "overlayfs",
    "squashfs",
    "proc",
    "sysfs",
    "cgroup",
    "cgroup2",
    "devpts",
    "mqueue",
    "debugfs",
    "tracefs",
    "securityfs",
    "pstore",
    "bpf",
    "autofs",
    "fusectl",
    "configfs",
    "hugetlbfs",
    "ramfs",
    "nsfs",
    "efivarfs",
    "binfmt_misc",
    "rpc_pipefs",
    "iso9660",
    "nullfs",
];
/// Filesystems whose mounts are datasets of a shared pool named by the device's first segment.
const POOLED_FILESYSTEMS: [&str; 2] = ["zfs", "btrfs"];
/// Block devices whose I/O is also counted on other devices, or that are not disks.
const STACKED_DEVICES: [&str; 7] = ["loop", "ram", "zram", "dm-", "md", "sr", "fd"];
/// Plausible temperature range; other readings are sensor faults.
const PLAUSIBLE_CELSIUS: std::ops::RangeInclusive<f64> = -50.0..=150.0;

/// Maps a validated host report to the agent's host record.
pub(super) fn host_record(
    report: &HostReport,
    agent_id: &str,
    rates: &mut CounterRates,
    now: Timestamp,
) -> SourceRecord {
    let host = &report.host;
    let hostname = text(&host.hostname).unwrap_or(agent_id);
    let name = text(&host.display_name).unwrap_or(hostname);
    let mut record = SourceRecord::new(agent_id, ResourceType::Agent, name, Status::Online);
    record.identity = identity(report, hostname);
    record.metrics = metrics(report, agent_id, rates, now);
    record.tags = report.tags.to_vec();
    record.uptime = host.uptime_seconds;
    record.temperature = temperature(report);
    record
        .facets
        .insert(FacetKey::Agent, agent_facet(report, agent_id));
    Liveness::host(report.agent.interval_seconds).apply(&mut record);
    record
}

/// Machine id, hostname (and the display name when it is a hostname), addresses and MACs.
fn identity(report: &HostReport, hostname: &str) -> Identity {
    let host = &report.host;
    let mut identity = Identity {
        machine_id: text(&host.machine_id).map(str::to_owned),
        hostnames: vec![hostname.to_owned()],
        ..Identity::default()
    };
    if let Some(display) = text(&host.display_name).filter(|d| looks_like_hostname(d)) {
        identity.hostnames.push(display.to_owned());
    }
    if let Some(ip) = text(&host.report_ip).and_then(pulse_model::identity::normalise_ip) {
        identity.ip_addresses.push(ip);
    }
    add_interface_identity(&mut identity, &report.network);
    identity
}

/// CPU, memory, disk usage and the four byte rates.
fn metrics(
    report: &HostReport,
    agent_id: &str,
    rates: &mut CounterRates,
    now: Timestamp,
) -> Metrics {
    let memory = &report.metrics.memory;
    let memory = match (memory.used_bytes, memory.usage) {
        (Some(used), usage) => {
            let mut metric = bytes_metric(used.0, memory.total_bytes.map(|t| t.0));
            metric.percent = metric.percent.or(usage.map(|u| u.0));
            Some(metric)
        }
        (None, Some(usage)) => Some(MetricValue {
            percent: Some(usage.0),
            unit: "bytes".into(),
            ..MetricValue::default()
        }),
        (None, None) => None,
    };
    let (net_in, net_out) = network_rates(&report.network, agent_id, rates, now);
    let (disk_read, disk_write) = disk_rates(&report.disk_io, agent_id, rates, now);
    Metrics::new()
        .with(
            MetricKind::Cpu,
            report
                .metrics
                .cpu_usage_percent
                .map(|p| percent_metric(p.0)),
        )
        .with(MetricKind::Memory, memory)
        .with(MetricKind::Disk, disk_usage(&report.disks))
        .with(MetricKind::NetIn, net_in.map(rate_metric))
        .with(MetricKind::NetOut, net_out.map(rate_metric))
        .with(MetricKind::DiskRead, disk_read.map(rate_metric))
        .with(MetricKind::DiskWrite, disk_write.map(rate_metric))
}

/// Used and total bytes over the real filesystems (see the module docs).
fn disk_usage(disks: &[Filesystem]) -> Option<MetricValue> {
    let mut seen = HashSet::new();
    let mut pools: Vec<(String, u64, u64)> = Vec::new();
    let (mut used, mut total) = (0u64, 0u64);
    for fs in disks {
        let fs_type = fs.fs_type().unwrap_or_default().to_ascii_lowercase();
        let size = fs.total_bytes.map_or(0, |b| b.0);
        if size == 0 || PSEUDO_FILESYSTEMS.contains(&fs_type.as_str()) {
            continue;
        }
        let device = text(&fs.device).unwrap_or_default();
        let fs_used = fs.used_bytes.map_or(0, |b| b.0).min(size);
        if POOLED_FILESYSTEMS.contains(&fs_type.as_str()) {
            let pool = device.split('/').next().unwrap_or(device).to_owned();
            match pools.iter_mut().find(|(name, ..)| *name == pool) {
                Some(entry) if entry.2 < size => *entry = (pool, fs_used, size),
                Some(_) => {}
                None => pools.push((pool, fs_used, size)),
            }
            continue;
        }
        if !device.is_empty() && !seen.insert(device) {
            continue;
        }
        used = used.saturating_add(fs_used);
        total = total.saturating_add(size);
    }
    for (_, pool_used, pool_total) in pools {
        used = used.saturating_add(pool_used);
        total = total.saturating_add(pool_total);
    }
    (total > 0).then(|| bytes_metric(used, Some(total)))
}

/// Receive and transmit rates summed over the host's real interfaces.
fn network_rates(
    interfaces: &[NetInterface],
    agent_id: &str,
    rates: &mut CounterRates,
    now: Timestamp,
) -> (Option<f64>, Option<f64>) {
    let mut seen = HashSet::new();
    let (mut rx, mut tx) = (Vec::new(), Vec::new());
    for nic in interfaces {
        let Some(name) = text(&nic.name) else {
            continue;
        };
        if is_virtual_interface(name) || !seen.insert(name) {
            continue;
        }
        if let Some(bytes) = nic.rx_bytes {
            rx.push(rates.observe(&format!("agent:{agent_id}:net:{name}:rx"), bytes.0, now));
        }
        if let Some(bytes) = nic.tx_bytes {
            tx.push(rates.observe(&format!("agent:{agent_id}:net:{name}:tx"), bytes.0, now));
        }
    }
    (sum_rates(rx), sum_rates(tx))
}

/// Read and write rates summed over whole disks.
fn disk_rates(
    devices: &[DiskIo],
    agent_id: &str,
    rates: &mut CounterRates,
    now: Timestamp,
) -> (Option<f64>, Option<f64>) {
    let mut seen = HashSet::new();
    let (mut read, mut write) = (Vec::new(), Vec::new());
    for io in devices {
        let Some(device) = text(&io.device) else {
            continue;
        };
        if STACKED_DEVICES.iter().any(|p| device.starts_with(p)) || !seen.insert(device) {
            continue;
        }
        if let Some(bytes) = io.read_bytes {
            read.push(rates.observe(
                &format!("agent:{agent_id}:disk:{device}:read"),
                bytes.0,
                now,
            ));
        }
        if let Some(bytes) = io.write_bytes {
            write.push(rates.observe(
                &format!("agent:{agent_id}:disk:{device}:write"),
                bytes.0,
                now,
            ));
        }
    }
    (sum_rates(read), sum_rates(write))
}

/// The headline temperature (see the module docs).
fn temperature(report: &HostReport) -> Option<f64> {
    let readings = report
        .sensors
        .temperature_celsius
        .iter()
        .filter(|(_, c)| PLAUSIBLE_CELSIUS.contains(*c));
    let (cpu, other): (Vec<_>, Vec<_>) = readings.partition(|(name, _)| is_cpu_sensor(name));
    let hottest = |list: Vec<(&String, &f64)>| list.into_iter().map(|(_, c)| *c).reduce(f64::max);
    hottest(cpu).or_else(|| hottest(other))
}

/// Whether a sensor name denotes a CPU package, die or core temperature.
fn is_cpu_sensor(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["package", "tctl", "tdie", "cpu", "coretemp", "k10temp"]
        .iter()
        .any(|marker| name.contains(marker))
}

/// The `agent` facet: agent and OS facts, filesystems, interfaces and temperatures.
fn agent_facet(report: &HostReport, agent_id: &str) -> Value {
    let (agent, host) = (&report.agent, &report.host);
    let filesystems: Vec<Value> = report
        .disks
        .iter()
        .map(|fs| {
            facet(json!({
                "mountpoint": text(&fs.mountpoint),
                "device": text(&fs.device),
                "type": fs.fs_type(),
                "totalBytes": fs.total_bytes.map(|b| b.0),
                "usedBytes": fs.used_bytes.map(|b| b.0),
                "usage": fs.usage.map(|p| p.0),
            }))
        })
        .collect();
    let interfaces: Vec<Value> = report
        .network
        .iter()
        .map(|nic| {
            facet(json!({
                "name": text(&nic.name),
                "mac": text(&nic.mac),
                "addresses": &*nic.addresses,
                "rxBytes": nic.rx_bytes.map(|b| b.0),
                "txBytes": nic.tx_bytes.map(|b| b.0),
            }))
        })
        .collect();
    let load: Vec<f64> = host.load_average.iter().map(|g| g.0).collect();
    facet(json!({
        "agentId": agent_id,
        "version": text(&agent.version),
        "type": text(&agent.kind),
        "intervalSeconds": agent
            .interval_seconds
            .filter(|&s| s > 0)
            .unwrap_or(DEFAULT_INTERVAL_SECS),
        "hostname": text(&host.hostname),
        "displayName": text(&host.display_name),
        "platform": text(&host.platform),
        "osName": text(&host.os_name),
        "osVersion": text(&host.os_version),
        "kernelVersion": text(&host.kernel_version),
        "architecture": text(&host.architecture),
        "cpuModel": text(&host.cpu_model),
        "cpuCount": host.cpu_count,
        "loadAverage": (!load.is_empty()).then_some(load),
        "filesystems": filesystems,
        "interfaces": interfaces,
        "sensors": { "temperatures": &*report.sensors.temperature_celsius },
        "reportedAt": report.timestamp,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::agent::wire::parse_host;

    fn report(json: &str) -> HostReport {
        parse_host(json.as_bytes()).expect("valid report")
    }

    #[test]
    fn disk_usage_counts_real_filesystems_once() {
        let r = report(
            r#"{"host":{"hostname":"a"},"disks":[
              {"device":"/dev/sda1","type":"ext4","totalBytes":1000,"usedBytes":400},
              {"device":"/dev/sda1","type":"ext4","totalBytes":1000,"usedBytes":400},
              {"device":"tmpfs","type":"tmpfs","totalBytes":50,"usedBytes":1},
              {"device":"rpool/ROOT/pve-1","filesystem":"zfs","totalBytes":900,"usedBytes":100},
              {"device":"rpool/data","filesystem":"zfs","totalBytes":850,"usedBytes":50},
              {"device":"/dev/sdb1","type":"xfs","totalBytes":0}
            ]}"#,
        );
        let disk = disk_usage(&r.disks).expect("disk metric");
        assert_eq!((disk.used, disk.total), (Some(500), Some(1900)));
        let percent = disk.percent.expect("percent");
        assert!((percent - 26.315).abs() < 0.01, "{percent}");
        assert!(disk_usage(&report(r#"{"host":{"hostname":"a"}}"#).disks).is_none());
    }

    #[test]
    fn temperature_prefers_the_cpu_package() {
        let r = report(
            r#"{"host":{"hostname":"a"},"sensors":{"temperatureCelsius":{
                "coretemp_package_id_0":48.5,"coretemp_core_1":51,
                "nvme_composite":55,"bogus":-127}}}"#,
        );
        assert_eq!(
            temperature(&r),
            Some(51.0),
            "hottest CPU sensor (core counts as cpu)"
        );
        let r = report(
            r#"{"host":{"hostname":"a"},
                "sensors":{"temperatureCelsius":{"nvme":41,"acpitz":39,"broken":255}}}"#,
        );
        assert_eq!(temperature(&r), Some(41.0));
        assert_eq!(temperature(&report(r#"{"host":{"hostname":"a"}}"#)), None);
    }
}
