//! Metric building blocks shared by the Proxmox normalisers, and the node memory rule of
//! reference §1.4/§17.8 (cache-aware "used" memory).

use pulse_model::MetricValue;

use crate::sources::proxmox::pve::types::{NodeEntry, NodeStatus};
use crate::sources::proxmox::pve::RrdMemory;

/// A CPU metric from a Proxmox CPU fraction (0..1 of the allocated CPUs), in percent.
pub fn cpu_metric(fraction: f64) -> Option<MetricValue> {
    fraction.is_finite().then(|| {
        let percent = (fraction * 100.0).clamp(0.0, 100.0);
        MetricValue {
            value: Some(percent),
            percent: Some(percent),
            unit: "percent".into(),
            ..MetricValue::default()
        }
    })
}

/// A usage metric in bytes; the percentage is set when the total is known and non-zero.
pub fn bytes_metric(used: u64, total: Option<u64>) -> MetricValue {
    let total = total.filter(|&t| t > 0);
    MetricValue {
        value: Some(used as f64),
        used: Some(used),
        total,
        percent: total.map(|t| ratio_percent(used, t)),
        unit: "bytes".into(),
    }
}

/// A usage metric when both figures are known and the total is non-zero.
pub fn usage_metric(used: Option<u64>, total: Option<u64>) -> Option<MetricValue> {
    match (used, total) {
        (Some(used), Some(total)) if total > 0 => Some(bytes_metric(used.min(total), Some(total))),
        _ => None,
    }
}

/// A rate metric in bytes per second.
pub fn rate_metric(bytes_per_second: f64) -> MetricValue {
    MetricValue {
        value: Some(bytes_per_second),
        unit: "bytes/s".into(),
        ..MetricValue::default()
    }
}

/// `part / whole` in percent, clamped to 0..=100; `whole` must not be zero.
pub fn ratio_percent(part: u64, whole: u64) -> f64 {
    (part as f64 * 100.0 / whole as f64).clamp(0.0, 100.0)
}

/// Where a node's memory figure came from (shown in the facet, useful when numbers look odd).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemorySource {
    /// Node status `memory.available`.
    Available,
    /// Node status `memory.avail` (older name).
    Avail,
    /// `free + buffers + cached` from the node status.
    FreeBuffersCached,
    /// RRD `memavailable`.
    RrdAvailable,
    /// RRD `memused` (cache included).
    RrdUsed,
    /// Node status `used` (cache included).
    StatusUsed,
    /// The `/nodes` listing's `mem` (cache included).
    Listing,
}

impl MemorySource {
    /// Wire name for the facet.
    pub fn as_str(self) -> &'static str {
        match self {
            MemorySource::Available => "available",
            MemorySource::Avail => "avail",
            MemorySource::FreeBuffersCached => "free-buffers-cached",
            MemorySource::RrdAvailable => "rrd-available",
            MemorySource::RrdUsed => "rrd-used",
            MemorySource::StatusUsed => "status-used",
            MemorySource::Listing => "listing",
        }
    }
}

/// A node's memory: used bytes (excluding reclaimable cache when any source knows it), total
/// bytes, and the source of the figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeMemoryReading {
    /// Used bytes.
    pub used: u64,
    /// Total bytes.
    pub total: u64,
    /// Which figure it came from.
    pub source: MemorySource,
}

/// The cache-aware memory rule: status `available` (if > 0 and ≤ total) → `avail` →
/// `free + buffers + cached` (only when buffers or cached are reported) → RRD `memavailable` →
/// RRD `memused` → status `used` → the listing's `mem`.
pub fn node_memory(
    status: Option<&NodeStatus>,
    rrd: Option<&RrdMemory>,
    entry: &NodeEntry,
) -> Option<NodeMemoryReading> {
    let memory = status.map(|s| &s.memory);
    let total = memory
        .and_then(|m| m.total)
        .filter(|&t| t > 0)
        .or(entry.maxmem.filter(|&t| t > 0))
        .or(rrd.and_then(|r| r.total).filter(|&t| t > 0))?;
    let from_available = |available: Option<u64>, source| {
        available
            .filter(|&a| a > 0 && a <= total)
            .map(|a| NodeMemoryReading {
                used: total - a,
                total,
                source,
            })
    };
    let from_used = |used: Option<u64>, source| {
        used.map(|u| NodeMemoryReading {
            used: u.min(total),
            total,
            source,
        })
    };
    let free_buffers_cached = memory.and_then(|m| {
        (m.buffers.is_some() || m.cached.is_some()).then(|| {
            m.free
                .unwrap_or(0)
                .saturating_add(m.buffers.unwrap_or(0))
                .saturating_add(m.cached.unwrap_or(0))
        })
    });
    from_available(memory.and_then(|m| m.available), MemorySource::Available)
        .or_else(|| from_available(memory.and_then(|m| m.avail), MemorySource::Avail))
        .or_else(|| from_available(free_buffers_cached, MemorySource::FreeBuffersCached))
        .or_else(|| from_available(rrd.and_then(|r| r.available), MemorySource::RrdAvailable))
        .or_else(|| from_used(rrd.and_then(|r| r.used), MemorySource::RrdUsed))
        .or_else(|| from_used(memory.and_then(|m| m.used), MemorySource::StatusUsed))
        .or_else(|| from_used(entry.mem, MemorySource::Listing))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::proxmox::pve::types::NodeMemory;

    const GIB: u64 = 1 << 30;

    fn entry() -> NodeEntry {
        NodeEntry {
            node: "pve1".into(),
            status: Some("online".into()),
            cpu: None,
            maxcpu: None,
            mem: Some(30 * GIB),
            maxmem: Some(32 * GIB),
            disk: None,
            maxdisk: None,
            uptime: None,
            level: None,
        }
    }

    fn status(memory: NodeMemory) -> NodeStatus {
        NodeStatus {
            memory,
            ..NodeStatus::default()
        }
    }

    #[test]
    fn memory_rule_prefers_cache_aware_figures() {
        let base = NodeMemory {
            total: Some(32 * GIB),
            used: Some(30 * GIB),
            free: Some(2 * GIB),
            ..NodeMemory::default()
        };
        let available = status(NodeMemory {
            available: Some(20 * GIB),
            ..base.clone()
        });
        let reading = node_memory(Some(&available), None, &entry()).expect("memory");
        assert_eq!(
            (reading.used, reading.total, reading.source),
            (12 * GIB, 32 * GIB, MemorySource::Available)
        );
        let avail = status(NodeMemory {
            available: Some(0),
            avail: Some(16 * GIB),
            ..base.clone()
        });
        assert_eq!(
            node_memory(Some(&avail), None, &entry()).map(|r| (r.used, r.source)),
            Some((16 * GIB, MemorySource::Avail))
        );
        let buffers = status(NodeMemory {
            buffers: Some(GIB),
            cached: Some(5 * GIB),
            ..base.clone()
        });
        assert_eq!(
            node_memory(Some(&buffers), None, &entry()).map(|r| (r.used, r.source)),
            Some((24 * GIB, MemorySource::FreeBuffersCached))
        );
        let plain = status(base);
        let rrd = RrdMemory {
            available: Some(8 * GIB),
            used: Some(29 * GIB),
            total: Some(32 * GIB),
        };
        assert_eq!(
            node_memory(Some(&plain), Some(&rrd), &entry()).map(|r| (r.used, r.source)),
            Some((24 * GIB, MemorySource::RrdAvailable))
        );
        let rrd_used = RrdMemory {
            available: None,
            ..rrd
        };
        assert_eq!(
            node_memory(Some(&plain), Some(&rrd_used), &entry()).map(|r| r.source),
            Some(MemorySource::RrdUsed)
        );
        assert_eq!(
            node_memory(Some(&plain), None, &entry()).map(|r| (r.used, r.source)),
            Some((30 * GIB, MemorySource::StatusUsed))
        );
        assert_eq!(
            node_memory(None, None, &entry()).map(|r| r.source),
            Some(MemorySource::Listing)
        );
        let too_big = status(NodeMemory {
            total: Some(GIB),
            available: Some(2 * GIB),
            used: Some(GIB / 2),
            ..NodeMemory::default()
        });
        assert_eq!(
            node_memory(Some(&too_big), None, &entry()).map(|r| r.source),
            Some(MemorySource::StatusUsed)
        );
    }

    #[test]
    fn metric_helpers() {
        let cpu = cpu_metric(0.125).expect("cpu");
        assert_eq!(cpu.percent, Some(12.5));
        assert_eq!(cpu_metric(f64::NAN), None);
        assert_eq!(cpu_metric(3.0).and_then(|c| c.percent), Some(100.0));
        assert_eq!(bytes_metric(5, Some(0)).percent, None);
        assert_eq!(
            usage_metric(Some(50), Some(200)).and_then(|m| m.percent),
            Some(25.0)
        );
        assert_eq!(usage_metric(Some(1), Some(0)), None);
    }
}
