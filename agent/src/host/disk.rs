//! Mounted filesystems: `/proc/self/mounts` plus `statfs(2)` for sizes.

use std::collections::HashSet;
use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::report::{percent, Disk};

/// One line of `/proc/self/mounts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Mount source (device or pseudo name).
    pub device: String,
    /// Mount point.
    pub mountpoint: String,
    /// Filesystem type.
    pub fstype: String,
}

/// Filesystems that hold no user data (kernel interfaces, memory-backed, container layers).
const PSEUDO: &[&str] = &[
    "autofs",
    "binfmt_misc",
    "bpf",
    "cgroup",
    "cgroup2",
    "configfs",
    "debugfs",
    "devfs",
    "devpts",
    "devtmpfs",
    "efivarfs",
    "fuse.gvfsd-fuse",
    "fuse.lxcfs",
    "fuse.portal",
    "fusectl",
    "hugetlbfs",
    "iso9660",
    "mqueue",
    "nsfs",
    "overlay",
    "aufs",
    "proc",
    "pstore",
    "ramfs",
    "rootfs",
    "rpc_pipefs",
    "securityfs",
    "selinuxfs",
    "squashfs",
    "sysfs",
    "tmpfs",
    "tracefs",
    "nfsd",
];

/// Network filesystems: skipped because `statfs` on a dead server blocks the collector.
const NETWORK: &[&str] = &[
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "smbfs",
    "ncpfs",
    "afs",
    "9p",
    "ceph",
    "glusterfs",
    "fuse.sshfs",
    "fuse.rclone",
    "fuse.s3fs",
];

/// Whether a filesystem type is skipped: pseudo, memory-backed or networked.
pub fn is_skipped_fstype(fstype: &str) -> bool {
    PSEUDO.contains(&fstype) || NETWORK.contains(&fstype) || fstype.starts_with("cgroup")
}

/// Parses `/proc/self/mounts`, decoding the octal escapes (`\040` for space) the kernel uses.
pub fn parse_mounts(mounts: &str) -> Vec<Mount> {
    mounts
        .lines()
        .filter_map(|line| {
            let mut f = line.split_ascii_whitespace();
            Some(Mount {
                device: unescape(f.next()?),
                mountpoint: unescape(f.next()?),
                fstype: f.next()?.to_string(),
            })
        })
        .collect()
}

fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match (bytes[i], octal) {
            (b'\\', Some(d)) => {
                let v = d.iter().fold(0u32, |acc, b| acc * 8 + u32::from(b - b'0'));
                out.push(u8::try_from(v).unwrap_or(b'?'));
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Keeps real filesystems, one mount per device (the first, normally the primary mount;
/// later ones are bind mounts or btrfs subvolumes of the same filesystem).
pub fn select_mounts(mounts: Vec<Mount>) -> Vec<Mount> {
    let mut seen = HashSet::new();
    mounts
        .into_iter()
        .filter(|m| !is_skipped_fstype(&m.fstype) && m.mountpoint.starts_with('/'))
        .filter(|m| seen.insert(m.device.clone()))
        .collect()
}

/// Sizes of a filesystem in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FsStats {
    /// Size.
    pub total: u64,
    /// Used (`blocks - bfree`).
    pub used: u64,
    /// Available to unprivileged users (`bavail`).
    pub avail: u64,
}

/// Calls `statfs(2)` on `path`.
pub fn statfs(path: &Path) -> io::Result<FsStats> {
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    // SAFETY: statfs is plain data; zeroed is valid and the call fills it in.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated path and `st` is live and writable.
    if unsafe { libc::statfs(c.as_ptr(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let frsize = if st.f_frsize > 0 {
        st.f_frsize as u64
    } else {
        st.f_bsize as u64
    };
    let blocks = st.f_blocks as u64;
    let bfree = st.f_bfree as u64;
    let bavail = st.f_bavail as u64;
    Ok(FsStats {
        total: blocks.saturating_mul(frsize),
        used: blocks.saturating_sub(bfree).saturating_mul(frsize),
        avail: bavail.saturating_mul(frsize),
    })
}

/// Builds the wire entry; usage is `used / (used + avail)` like `df`, so root reserve counts
/// as unavailable rather than free.
pub fn to_disk(mount: &Mount, st: FsStats) -> Disk {
    Disk {
        device: mount.device.clone(),
        mountpoint: mount.mountpoint.clone(),
        filesystem: mount.fstype.clone(),
        fs_type: mount.fstype.clone(),
        total_bytes: st.total,
        used_bytes: st.used,
        free_bytes: st.avail,
        usage: percent(st.used, st.used + st.avail),
    }
}

/// Reads the mount table under `root` and measures every selected filesystem.
///
/// Mount points are resolved below `root`, so a containerised agent with the host's `/`
/// mounted at `/host` can pass `/host`. Filesystems that vanish or deny access are left out.
pub fn collect(root: &Path) -> Vec<Disk> {
    let Ok(text) = std::fs::read_to_string(root.join("proc/self/mounts")) else {
        return Vec::new();
    };
    select_mounts(parse_mounts(&text))
        .into_iter()
        .filter_map(|m| {
            let st = statfs(&root.join(m.mountpoint.trim_start_matches('/'))).ok()?;
            (st.total > 0).then(|| to_disk(&m, st))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTS: &str = "sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0
proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
udev /dev devtmpfs rw,nosuid,relatime,size=8123456k,nr_inodes=2030864,mode=755 0 0
tmpfs /run tmpfs rw,nosuid,nodev,noexec,relatime,size=1632224k,mode=755 0 0
/dev/nvme0n1p2 / ext4 rw,relatime,errors=remount-ro 0 0
cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime 0 0
/dev/loop0 /snap/core22/1380 squashfs ro,nodev,relatime,errors=continue 0 0
/dev/nvme0n1p1 /boot/efi vfat rw,relatime,fmask=0077,dmask=0077 0 0
/dev/sda1 /mnt/backup\\040disk xfs rw,relatime,attr2,inode64 0 0
rpool/data /rpool/data zfs rw,xattr,noacl 0 0
nas:/export /mnt/nas nfs4 rw,relatime,vers=4.2 0 0
overlay /var/lib/docker/overlay2/abc/merged overlay rw,relatime,lowerdir=/x 0 0
/dev/nvme0n1p2 /var/lib/docker/volumes ext4 rw,relatime 0 0
";

    #[test]
    fn parses_and_unescapes() {
        let m = parse_mounts(MOUNTS);
        assert_eq!(m.len(), 13);
        assert_eq!(m[8].mountpoint, "/mnt/backup disk");
        assert_eq!(m[8].fstype, "xfs");
        assert_eq!(unescape("a\\134b\\011c"), "a\\b\tc");
        assert_eq!(unescape("trailing\\04"), "trailing\\04");
    }

    #[test]
    fn keeps_real_filesystems_once() {
        let picked: Vec<String> = select_mounts(parse_mounts(MOUNTS))
            .into_iter()
            .map(|m| m.mountpoint)
            .collect();
        assert_eq!(
            picked,
            ["/", "/boot/efi", "/mnt/backup disk", "/rpool/data"]
        );
    }

    #[test]
    fn computes_usage_like_df() {
        let m = Mount {
            device: "/dev/sda1".into(),
            mountpoint: "/".into(),
            fstype: "ext4".into(),
        };
        let d = to_disk(
            &m,
            FsStats {
                total: 1000,
                used: 450,
                avail: 450,
            },
        );
        assert_eq!(d.usage, 50.0);
        assert_eq!(d.free_bytes, 450);
        assert_eq!(d.filesystem, "ext4");
    }

    #[test]
    fn statfs_measures_the_root_filesystem() {
        let st = statfs(Path::new("/")).expect("statfs /");
        assert!(st.total > 0 && st.used <= st.total);
        assert!(statfs(Path::new("/definitely/not/here")).is_err());
    }
}
