//! Whole-disk I/O counters from `/proc/diskstats`.

use std::collections::HashSet;
use std::path::Path;

use crate::report::DiskIo;

/// `/proc/diskstats` counts sectors of 512 bytes whatever the device's real sector size.
const SECTOR: u64 = 512;

/// Virtual devices whose traffic is already counted on a physical disk, or that carry none.
const VIRTUAL_PREFIXES: &[&str] = &["loop", "ram", "zram", "dm-", "sr", "fd", "nbd"];

/// Whether a device name looks like a partition (`sda1`, `nvme0n1p2`, `mmcblk0p1`).
///
/// Only used when `/sys/block` cannot be listed to tell whole disks apart.
pub fn looks_like_partition(name: &str) -> bool {
    let digits = name.bytes().rev().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return false;
    }
    let stem = &name[..name.len() - digits];
    if name.starts_with("nvme") || name.starts_with("mmcblk") {
        return stem.ends_with('p');
    }
    ["sd", "vd", "hd", "xvd"]
        .iter()
        .any(|p| stem.starts_with(p))
}

/// Parses `/proc/diskstats`, keeping devices for which `is_whole_disk` holds, that are not
/// virtual, and that have done any I/O.
pub fn parse_diskstats(text: &str, is_whole_disk: impl Fn(&str) -> bool) -> Vec<DiskIo> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_ascii_whitespace().collect();
            let name = *f.get(2)?;
            if VIRTUAL_PREFIXES.iter().any(|p| name.starts_with(p)) || !is_whole_disk(name) {
                return None;
            }
            let n = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok());
            let io = DiskIo {
                device: name.to_string(),
                read_ops: n(3)?,
                read_bytes: n(5)?.saturating_mul(SECTOR),
                read_time_ms: n(6)?,
                write_ops: n(7)?,
                write_bytes: n(9)?.saturating_mul(SECTOR),
                write_time_ms: n(10)?,
                io_time_ms: n(12)?,
            };
            (io.read_ops + io.write_ops > 0).then_some(io)
        })
        .collect()
}

/// Reads `/proc/diskstats` under `root`, using `/sys/block` to recognise whole disks.
pub fn collect(root: &Path) -> Vec<DiskIo> {
    let Ok(text) = std::fs::read_to_string(root.join("proc/diskstats")) else {
        return Vec::new();
    };
    let whole: Option<HashSet<String>> =
        std::fs::read_dir(root.join("sys/block")).ok().map(|dir| {
            dir.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        });
    match whole {
        Some(set) if !set.is_empty() => parse_diskstats(&text, |n| set.contains(n)),
        _ => parse_diskstats(&text, |n| !looks_like_partition(n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DISKSTATS: &str = "   7       0 loop0 59 0 2476 20 0 0 0 0 0 40 20 0 0 0 0
 259       0 nvme0n1 183424 41326 11227406 46190 352915 242612 18906362 353651 0 168916 412131 0 0 0 0 24051 12289
 259       1 nvme0n1p1 390 1131 12844 63 2 0 2 0 0 72 63 0 0 0 0 0 0
 259       2 nvme0n1p2 182937 40195 11210898 46115 352913 242612 18906360 353651 0 168860 399766 0 0 0 0 0 0
   8       0 sda 1200 0 96000 500 30 0 2400 90 0 700 590
   8      16 sdb 0 0 0 0 0 0 0 0 0 0 0
 253       0 dm-0 100 0 800 5 0 0 0 0 0 5 5 0 0 0 0 0 0
";

    #[test]
    fn keeps_whole_physical_disks_with_activity() {
        let io = parse_diskstats(DISKSTATS, |n| !looks_like_partition(n));
        let names: Vec<&str> = io.iter().map(|d| d.device.as_str()).collect();
        assert_eq!(names, ["nvme0n1", "sda"]);
        let nvme = &io[0];
        assert_eq!(nvme.read_ops, 183_424);
        assert_eq!(nvme.read_bytes, 11_227_406 * 512);
        assert_eq!(nvme.read_time_ms, 46_190);
        assert_eq!(nvme.write_ops, 352_915);
        assert_eq!(nvme.write_bytes, 18_906_362 * 512);
        assert_eq!(nvme.write_time_ms, 353_651);
        assert_eq!(nvme.io_time_ms, 168_916);
        // Old kernels print 14 columns; still parsed.
        assert_eq!(io[1].io_time_ms, 700);
    }

    #[test]
    fn recognises_partitions() {
        for p in ["sda1", "vdb12", "nvme0n1p2", "mmcblk0p1", "xvda1"] {
            assert!(looks_like_partition(p), "{p}");
        }
        for d in ["sda", "nvme0n1", "mmcblk0", "md0", "vda"] {
            assert!(!looks_like_partition(d), "{d}");
        }
    }
}
