//! CPU: usage from two `/proc/stat` samples, CPU count and model name.

/// Aggregate CPU time counters from one `/proc/stat` read, in clock ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuTimes {
    /// Ticks spent doing work (everything but idle and iowait).
    pub busy: u64,
    /// All ticks.
    pub total: u64,
}

/// Parses the aggregate `cpu` line and counts the per-CPU `cpuN` lines of `/proc/stat`.
///
/// Guest time is already part of user and nice time, so only the first eight columns are
/// summed. Returns `None` when the aggregate line is missing or malformed.
pub fn parse_stat(stat: &str) -> Option<(CpuTimes, u32)> {
    let mut times = None;
    let mut count = 0u32;
    for line in stat.lines() {
        let mut fields = line.split_ascii_whitespace();
        match fields.next() {
            Some("cpu") => {
                let cols: Vec<u64> = fields
                    .take(8)
                    .map(str::parse)
                    .collect::<Result<_, _>>()
                    .ok()?;
                if cols.len() < 4 {
                    return None;
                }
                let total: u64 = cols.iter().sum();
                let idle = cols[3] + cols.get(4).copied().unwrap_or(0);
                times = Some(CpuTimes {
                    busy: total.saturating_sub(idle),
                    total,
                });
            }
            Some(name)
                if name.starts_with("cpu") && name[3..].bytes().all(|b| b.is_ascii_digit()) =>
            {
                count += 1;
            }
            _ => {}
        }
    }
    times.map(|t| (t, count))
}

/// Busy share of the CPU time elapsed between two samples, in percent (0–100).
///
/// Returns 0 when no time passed or the counters went backwards (e.g. CPU hot-unplug).
pub fn usage_percent(prev: CpuTimes, cur: CpuTimes) -> f64 {
    let total = cur.total.saturating_sub(prev.total);
    let busy = cur.busy.saturating_sub(prev.busy);
    if total == 0 {
        return 0.0;
    }
    (busy as f64 * 100.0 / total as f64).clamp(0.0, 100.0)
}

/// CPU model name from `/proc/cpuinfo`.
///
/// x86 has `model name`; ARM boards vary, so `Model`, `Hardware` and `cpu model` (MIPS) are
/// tried in that order. Empty when none is present.
pub fn parse_model(cpuinfo: &str) -> String {
    for key in ["model name", "Model", "Hardware", "cpu model", "Processor"] {
        let found = cpuinfo.lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            (k.trim() == key && !v.trim().is_empty()).then(|| v.trim().to_string())
        });
        if let Some(model) = found {
            return model;
        }
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "cpu  25061 10 6423 50137 331 0 39 30 120 0\n\
cpu0 12275 5 2988 25650 96 0 5 14 60 0\n\
cpu1 12786 5 3435 24487 235 0 33 16 60 0\n\
intr 1906421 36 9 0 0 0\n\
ctxt 3442851\n\
btime 1714550400\n\
processes 11873\n\
procs_running 2\n\
procs_blocked 0\n\
softirq 912233 1 226711 17 4106 0 0 4 381112 0 300282\n";

    #[test]
    fn parses_aggregate_and_counts_cpus() {
        let (t, n) = parse_stat(STAT).expect("valid");
        assert_eq!(n, 2);
        // user..steal; guest (120) is not added again.
        assert_eq!(t.total, 25061 + 10 + 6423 + 50137 + 331 + 39 + 30);
        assert_eq!(t.busy, t.total - 50137 - 331);
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(parse_stat(""), None);
        assert_eq!(parse_stat("cpu  a b c d\n"), None);
        assert_eq!(parse_stat("cpu 1 2\n"), None);
    }

    #[test]
    fn computes_usage_between_samples() {
        let a = CpuTimes {
            busy: 100,
            total: 1000,
        };
        let b = CpuTimes {
            busy: 150,
            total: 1200,
        };
        assert!((usage_percent(a, b) - 25.0).abs() < 1e-9);
        assert_eq!(usage_percent(b, a), 0.0);
        assert_eq!(usage_percent(a, a), 0.0);
    }

    #[test]
    fn finds_model_on_x86_and_arm() {
        let x86 = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz\n";
        assert_eq!(
            parse_model(x86),
            "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz"
        );
        let pi = "processor\t: 0\nBogoMIPS\t: 108.00\nCPU part\t: 0xd08\n\nHardware\t: BCM2835\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n";
        assert_eq!(parse_model(pi), "Raspberry Pi 4 Model B Rev 1.4");
        assert_eq!(parse_model("processor : 0\n"), "");
    }
}
