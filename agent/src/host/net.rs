//! Network interfaces: counters from `/proc/net/dev`, MAC and speed from `/sys/class/net`,
//! addresses from `getifaddrs(3)`.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;

use crate::report::NetworkInterface;

/// Byte counters of one interface from `/proc/net/dev`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevCounters {
    /// Interface name.
    pub name: String,
    /// Received bytes.
    pub rx_bytes: u64,
    /// Transmitted bytes.
    pub tx_bytes: u64,
}

/// Parses `/proc/net/dev` (two header lines, then `name: 8 rx columns 8 tx columns`).
pub fn parse_net_dev(text: &str) -> Vec<DevCounters> {
    text.lines()
        .filter_map(|line| {
            let (name, rest) = line.split_once(':')?;
            let cols: Vec<u64> = rest
                .split_ascii_whitespace()
                .map(|v| v.parse().ok())
                .collect::<Option<_>>()?;
            Some(DevCounters {
                name: name.trim().to_string(),
                rx_bytes: *cols.first()?,
                tx_bytes: *cols.get(8)?,
            })
        })
        .collect()
}

/// Interfaces left out: loopback and the per-container veth ends, which come and go with
/// containers and whose traffic also crosses a bridge that is reported.
pub fn is_skipped_interface(name: &str) -> bool {
    name == "lo" || name.starts_with("veth")
}

/// Normalises a `/sys/class/net/*/address` value; all-zero and empty addresses mean "none".
pub fn parse_mac(text: &str) -> String {
    let mac = text.trim().to_ascii_lowercase();
    if mac.is_empty() || mac.bytes().all(|b| b == b'0' || b == b':') {
        String::new()
    } else {
        mac
    }
}

/// Parses `/sys/class/net/*/speed`; virtual links report -1 or fail, which means "unknown".
pub fn parse_speed(text: &str) -> Option<u64> {
    text.trim()
        .parse::<i64>()
        .ok()
        .and_then(|v| u64::try_from(v).ok())
        .filter(|&v| v > 0)
}

/// Prefix length of a netmask given as raw bytes.
fn prefix_len(mask: &[u8]) -> u32 {
    mask.iter().map(|b| b.count_ones()).sum()
}

/// Addresses of every interface in CIDR notation, from `getifaddrs(3)`.
///
/// Empty if the call fails; an agent without addresses still reports counters.
pub fn interface_addresses() -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs writes a list head we free below with freeifaddrs.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return out;
    }
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list returned by getifaddrs, valid until freeifaddrs.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        if ifa.ifa_addr.is_null() || ifa.ifa_name.is_null() {
            continue;
        }
        // SAFETY: ifa_name is a NUL-terminated string owned by the list.
        let name = unsafe { std::ffi::CStr::from_ptr(ifa.ifa_name) }
            .to_string_lossy()
            .into_owned();
        // SAFETY: ifa_addr is non-null and points at a sockaddr whose family says its layout.
        let family = i32::from(unsafe { (*ifa.ifa_addr).sa_family });
        let cidr = match family {
            libc::AF_INET => {
                // SAFETY: family AF_INET means the sockaddr is a sockaddr_in.
                let sin = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in) };
                let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
                let mask = if ifa.ifa_netmask.is_null() {
                    32
                } else {
                    // SAFETY: the netmask of an AF_INET address is a sockaddr_in.
                    let m = unsafe { &*(ifa.ifa_netmask as *const libc::sockaddr_in) };
                    prefix_len(&m.sin_addr.s_addr.to_ne_bytes())
                };
                format!("{ip}/{mask}")
            }
            libc::AF_INET6 => {
                // SAFETY: family AF_INET6 means the sockaddr is a sockaddr_in6.
                let sin6 = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in6) };
                let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
                let mask = if ifa.ifa_netmask.is_null() {
                    128
                } else {
                    // SAFETY: the netmask of an AF_INET6 address is a sockaddr_in6.
                    let m = unsafe { &*(ifa.ifa_netmask as *const libc::sockaddr_in6) };
                    prefix_len(&m.sin6_addr.s6_addr)
                };
                format!("{ip}/{mask}")
            }
            _ => continue,
        };
        out.entry(name).or_default().push(cidr);
    }
    // SAFETY: `head` came from a successful getifaddrs and is freed exactly once.
    unsafe { libc::freeifaddrs(head) };
    out
}

/// Builds the interface list from `/proc/net/dev` under `root`, enriching each entry with
/// MAC and speed from `root/sys/class/net` and with `addresses`.
pub fn collect(root: &Path, addresses: &BTreeMap<String, Vec<String>>) -> Vec<NetworkInterface> {
    let Ok(text) = std::fs::read_to_string(root.join("proc/net/dev")) else {
        return Vec::new();
    };
    let sys = root.join("sys/class/net");
    parse_net_dev(&text)
        .into_iter()
        .filter(|c| !is_skipped_interface(&c.name))
        .map(|c| {
            let dir = sys.join(&c.name);
            NetworkInterface {
                mac: std::fs::read_to_string(dir.join("address"))
                    .map(|s| parse_mac(&s))
                    .unwrap_or_default(),
                speed_mbps: std::fs::read_to_string(dir.join("speed"))
                    .ok()
                    .and_then(|s| parse_speed(&s)),
                addresses: addresses.get(&c.name).cloned().unwrap_or_default(),
                rx_bytes: c.rx_bytes,
                tx_bytes: c.tx_bytes,
                name: c.name,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NET_DEV: &str = "Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 2776770   11307    0    0    0     0          0         0  2776770   11307    0    0    0     0       0          0
enp3s0: 1215426781 1109237    0  120    0     0          0     43213 98765432  652417    0    0    0     0       0          0
docker0:  123456     789    0    0    0     0          0         0   654321     987    0    0    0     0       0          0
vethab12cd: 1000 10 0 0 0 0 0 0 2000 20 0 0 0 0 0 0
";

    #[test]
    fn parses_counters() {
        let c = parse_net_dev(NET_DEV);
        assert_eq!(c.len(), 4);
        assert_eq!(
            c[1],
            DevCounters {
                name: "enp3s0".into(),
                rx_bytes: 1_215_426_781,
                tx_bytes: 98_765_432
            }
        );
        let kept: Vec<&str> = c
            .iter()
            .map(|d| d.name.as_str())
            .filter(|n| !is_skipped_interface(n))
            .collect();
        assert_eq!(kept, ["enp3s0", "docker0"]);
    }

    #[test]
    fn parses_mac_and_speed() {
        assert_eq!(parse_mac("52:54:00:AB:cd:01\n"), "52:54:00:ab:cd:01");
        assert_eq!(parse_mac("00:00:00:00:00:00\n"), "");
        assert_eq!(parse_speed("1000\n"), Some(1000));
        assert_eq!(parse_speed("-1\n"), None);
        assert_eq!(parse_speed(""), None);
    }

    #[test]
    fn reads_loopback_address() {
        let addrs = interface_addresses();
        if let Some(lo) = addrs.get("lo") {
            assert!(lo.iter().any(|a| a == "127.0.0.1/8"), "{lo:?}");
        }
    }
}
