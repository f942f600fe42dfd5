//! Memory figures from `/proc/meminfo`.

use crate::report::{percent, Memory};

/// Parses `/proc/meminfo` (values in kB) into byte figures.
///
/// `used = MemTotal - MemAvailable`; kernels older than 3.14 lack `MemAvailable`, so it is
/// estimated as `MemFree + Buffers + Cached` there. Returns `None` without `MemTotal`.
pub fn parse_meminfo(meminfo: &str) -> Option<Memory> {
    let mut total = None;
    let (mut available, mut free, mut buffers, mut cached) = (None, 0, 0, 0);
    let (mut reclaimable, mut shmem, mut swap_total, mut swap_free) = (0, 0, 0, 0);
    for line in meminfo.lines() {
        let Some((key, rest)) = line.split_once(':') else {
            continue;
        };
        let Some(kib) = rest
            .split_ascii_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
        else {
            continue;
        };
        let bytes = kib.saturating_mul(1024);
        match key {
            "MemTotal" => total = Some(bytes),
            "MemFree" => free = bytes,
            "MemAvailable" => available = Some(bytes),
            "Buffers" => buffers = bytes,
            "Cached" => cached = bytes,
            "SReclaimable" => reclaimable = bytes,
            "Shmem" => shmem = bytes,
            "SwapTotal" => swap_total = bytes,
            "SwapFree" => swap_free = bytes,
            _ => {}
        }
    }
    let total = total?;
    let available = available.unwrap_or(free + buffers + cached).min(total);
    let used = total - available;
    Some(Memory {
        total_bytes: total,
        used_bytes: used,
        free_bytes: available,
        cache_bytes: (buffers + cached + reclaimable).saturating_sub(shmem),
        usage: percent(used, total),
        swap_total_bytes: swap_total,
        swap_used_bytes: swap_total.saturating_sub(swap_free),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MEMINFO: &str = "MemTotal:       16318800 kB
MemFree:         1024000 kB
MemAvailable:    8159400 kB
Buffers:          204800 kB
Cached:          6144000 kB
SwapCached:         1024 kB
Active:          7340032 kB
Inactive:        5242880 kB
Shmem:            409600 kB
SReclaimable:     512000 kB
SUnreclaim:       128000 kB
SwapTotal:       2097148 kB
SwapFree:        1048574 kB
HugePages_Total:       0
Hugepagesize:       2048 kB
";

    #[test]
    fn derives_used_cache_and_swap() {
        let m = parse_meminfo(MEMINFO).expect("valid");
        assert_eq!(m.total_bytes, 16_318_800 * 1024);
        assert_eq!(m.free_bytes, 8_159_400 * 1024);
        assert_eq!(m.used_bytes, (16_318_800 - 8_159_400) * 1024);
        assert_eq!(
            m.cache_bytes,
            (204_800 + 6_144_000 + 512_000 - 409_600) * 1024
        );
        assert_eq!(m.usage, 50.0);
        assert_eq!(m.swap_total_bytes, 2_097_148 * 1024);
        assert_eq!(m.swap_used_bytes, 1_048_574 * 1024);
    }

    #[test]
    fn estimates_available_on_old_kernels() {
        let m =
            parse_meminfo("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 250 kB\n")
                .expect("valid");
        assert_eq!(m.free_bytes, 400 * 1024);
        assert_eq!(m.used_bytes, 600 * 1024);
        assert_eq!(m.swap_total_bytes, 0);
    }

    #[test]
    fn requires_total() {
        assert_eq!(parse_meminfo("MemFree: 1 kB\n"), None);
        assert_eq!(parse_meminfo(""), None);
    }
}
