//! The metrics history knows: their API names, Prometheus series names, and how one is read from a
//! resource (pure functions, no I/O).
//!
//! Values are quantised to the precision their sources have before they are stored, which is what
//! lets the store's decimal coding keep a sample near one byte: percentages and temperatures come
//! from sources with two decimals at most (agents round to 0.01, Proxmox fractions are shown to
//! 0.1), rates are derived from byte counters between two polls whose timestamps jitter by
//! milliseconds over a 10 s+ interval, so digits beyond the fourth significant one are noise.

use pulse_model::{MetricValue, Metrics, Resource, ResourceType, Status};

/// One metric of the history API (SPEC §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    /// CPU utilisation, percent.
    Cpu,
    /// Memory utilisation, percent.
    Memory,
    /// Disk utilisation, percent.
    Disk,
    /// Network receive rate, bytes per second.
    NetIn,
    /// Network transmit rate, bytes per second.
    NetOut,
    /// Disk read rate, bytes per second.
    DiskRead,
    /// Disk write rate, bytes per second.
    DiskWrite,
    /// Temperature, degrees Celsius.
    Temperature,
    /// Storage utilisation, percent (storage resources; their `disk` percent).
    Usage,
}

impl Metric {
    /// Every metric, in API order.
    pub const ALL: [Metric; 9] = [
        Metric::Cpu,
        Metric::Memory,
        Metric::Disk,
        Metric::NetIn,
        Metric::NetOut,
        Metric::DiskRead,
        Metric::DiskWrite,
        Metric::Temperature,
        Metric::Usage,
    ];

    /// The name in the API and in series keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Cpu => "cpu",
            Metric::Memory => "memory",
            Metric::Disk => "disk",
            Metric::NetIn => "netIn",
            Metric::NetOut => "netOut",
            Metric::DiskRead => "diskRead",
            Metric::DiskWrite => "diskWrite",
            Metric::Temperature => "temperature",
            Metric::Usage => "usage",
        }
    }

    /// Parses an API name (exact, case-sensitive).
    pub fn parse(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.as_str() == name)
    }

    /// The Prometheus series name (SPEC §9). `usage` is a storage resource's disk percent, so it
    /// shares `pulse_resource_disk_percent`.
    pub fn prometheus_name(self) -> &'static str {
        match self {
            Metric::Cpu => "pulse_resource_cpu_percent",
            Metric::Memory => "pulse_resource_memory_percent",
            Metric::Disk | Metric::Usage => "pulse_resource_disk_percent",
            Metric::NetIn => "pulse_resource_net_in_bytes_per_second",
            Metric::NetOut => "pulse_resource_net_out_bytes_per_second",
            Metric::DiskRead => "pulse_resource_disk_read_bytes_per_second",
            Metric::DiskWrite => "pulse_resource_disk_write_bytes_per_second",
            Metric::Temperature => "pulse_resource_temperature_celsius",
        }
    }

    /// Help text of the Prometheus series.
    pub fn prometheus_help(self) -> &'static str {
        match self {
            Metric::Cpu => "CPU utilisation of a resource in percent",
            Metric::Memory => "Memory utilisation of a resource in percent",
            Metric::Disk | Metric::Usage => "Disk or storage utilisation of a resource in percent",
            Metric::NetIn => "Network receive rate of a resource in bytes per second",
            Metric::NetOut => "Network transmit rate of a resource in bytes per second",
            Metric::DiskRead => "Disk read rate of a resource in bytes per second",
            Metric::DiskWrite => "Disk write rate of a resource in bytes per second",
            Metric::Temperature => "Temperature of a resource in degrees Celsius",
        }
    }

    /// Rounds a value to the precision its source has (see the module docs).
    pub fn quantise(self, v: f64) -> f64 {
        match self {
            Metric::Cpu | Metric::Memory | Metric::Disk | Metric::Usage | Metric::Temperature => {
                (v * 100.0).round() / 100.0
            }
            Metric::NetIn | Metric::NetOut | Metric::DiskRead | Metric::DiskWrite => {
                significant(v, 4)
            }
        }
    }
}

/// `v` rounded to `digits` significant decimal digits (integers stay integers when they are at
/// most that long). Non-finite values are returned unchanged.
pub fn significant(v: f64, digits: i32) -> f64 {
    if !v.is_finite() || v == 0.0 {
        return v;
    }
    let magnitude = v.abs().log10().floor() as i32;
    let decimals = digits - 1 - magnitude;
    if decimals >= 0 {
        let scale = 10f64.powi(decimals);
        (v * scale).round() / scale
    } else {
        let scale = 10f64.powi(-decimals);
        (v / scale).round() * scale
    }
}

/// A utilisation in percent: `percent`, else `used / total`.
fn percent_of(m: &MetricValue) -> Option<f64> {
    m.percent.or_else(|| match (m.used, m.total) {
        (Some(used), Some(total)) if total > 0 => Some(used as f64 * 100.0 / total as f64),
        _ => None,
    })
}

/// The samples a resource carries now: `(metric, quantised value)`, finite values only.
pub fn samples_of(resource: &Resource) -> Vec<(Metric, f64)> {
    samples_of_parts(
        resource.resource_type,
        &resource.metrics,
        resource.temperature,
    )
}

/// [`samples_of`] from the parts of a resource (or of a source record, for measurements).
pub fn samples_of_parts(
    resource_type: ResourceType,
    m: &Metrics,
    temperature: Option<f64>,
) -> Vec<(Metric, f64)> {
    let storage = resource_type == ResourceType::Storage;
    let disk_metric = if storage { Metric::Usage } else { Metric::Disk };
    let candidates = [
        (Metric::Cpu, m.cpu().and_then(percent_of)),
        (Metric::Memory, m.memory().and_then(percent_of)),
        (disk_metric, m.disk().and_then(percent_of)),
        (Metric::NetIn, m.net_in().and_then(|v| v.value)),
        (Metric::NetOut, m.net_out().and_then(|v| v.value)),
        (Metric::DiskRead, m.disk_read().and_then(|v| v.value)),
        (Metric::DiskWrite, m.disk_write().and_then(|v| v.value)),
        (Metric::Temperature, temperature),
    ];
    candidates
        .into_iter()
        .filter_map(|(metric, v)| {
            v.filter(|v| v.is_finite())
                .map(|v| (metric, metric.quantise(v)))
        })
        .collect()
}

/// `pulse_resource_status`: 1 online, 0.5 warning, 0 offline; unknown has no value.
pub fn status_value(status: Status) -> Option<f64> {
    match status {
        Status::Online => Some(1.0),
        Status::Warning => Some(0.5),
        Status::Offline => Some(0.0),
        Status::Unknown => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_is_none() {
        for m in Metric::ALL {
            assert_eq!(Metric::parse(m.as_str()), Some(m));
        }
        assert_eq!(Metric::parse("CPU"), None);
        assert_eq!(Metric::parse(""), None);
    }

    #[test]
    fn quantisation_keeps_source_precision() {
        assert_eq!(Metric::Cpu.quantise(12.345_678), 12.35);
        assert_eq!(Metric::NetIn.quantise(3_012_345.678), 3_012_000.0);
        assert_eq!(Metric::NetIn.quantise(12.3456), 12.35);
        assert_eq!(Metric::NetIn.quantise(0.0), 0.0);
        assert_eq!(significant(999.96, 4), 1000.0);
        assert_eq!(significant(-1234.5, 3), -1230.0);
        assert!(significant(f64::NAN, 4).is_nan());
    }
}
