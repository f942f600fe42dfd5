//! Identity normalisation and matching (upstream §6.4).
//!
//! Normalised forms: hostnames lower case without trailing dot (matching compares the short
//! name, the first label); MACs lower-case colon form; IPs without CIDR suffix or zone. Matching
//! yields a [`MatchReason`] with a confidence; only [`AUTO_MERGE_CONFIDENCE`] and above merge, and
//! only for the types in [`type_auto_merges`]. Hostname or IP alone never merges.

use std::net::IpAddr;

use crate::names::ResourceType;
use crate::types::Identity;

/// Minimum confidence at which two resources are merged automatically.
pub const AUTO_MERGE_CONFIDENCE: f64 = 0.85;

/// Why two identities look like the same machine, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchReason {
    /// Same machine id.
    MachineId,
    /// Same DMI UUID.
    DmiUuid,
    /// Same short hostname and a shared MAC address.
    HostnameMac,
    /// Same short hostname and a shared (matchable) IP address.
    HostnameIp,
    /// Same short hostname only.
    Hostname,
    /// A shared (matchable) IP address only.
    Ip,
}

impl MatchReason {
    /// The upstream confidence of this kind of match.
    pub const fn confidence(self) -> f64 {
        match self {
            MatchReason::MachineId => 1.00,
            MatchReason::DmiUuid => 0.99,
            MatchReason::HostnameMac => 0.90,
            MatchReason::HostnameIp => 0.80,
            MatchReason::Hostname => 0.50,
            MatchReason::Ip => 0.40,
        }
    }

    /// Whether this match is strong enough to merge without an operator.
    pub fn auto_merges(self) -> bool {
        self.confidence() >= AUTO_MERGE_CONFIDENCE
    }
}

/// Whether resources of this type are ever merged by identity (hosts and physical disks only).
pub const fn type_auto_merges(resource_type: ResourceType) -> bool {
    matches!(
        resource_type,
        ResourceType::Agent | ResourceType::PhysicalDisk
    )
}

/// The strongest reason `a` and `b` may be the same machine, or `None`.
///
/// Two different machine ids (or two different DMI UUIDs) are proof of different machines and veto
/// every weaker match.
pub fn match_identities(a: &Identity, b: &Identity) -> Option<MatchReason> {
    if let (Some(x), Some(y)) = (&a.machine_id, &b.machine_id) {
        return (x == y).then_some(MatchReason::MachineId);
    }
    if let (Some(x), Some(y)) = (&a.dmi_uuid, &b.dmi_uuid) {
        return (x == y).then_some(MatchReason::DmiUuid);
    }
    let same_host = a.hostnames.iter().any(|h| {
        b.hostnames
            .iter()
            .any(|g| short_hostname(h) == short_hostname(g))
    });
    let shared_ip = a
        .ip_addresses
        .iter()
        .filter(|ip| is_matchable_ip(ip))
        .any(|ip| b.ip_addresses.contains(ip));
    if same_host {
        let shared_mac = a.mac_addresses.iter().any(|m| b.mac_addresses.contains(m));
        Some(if shared_mac {
            MatchReason::HostnameMac
        } else if shared_ip {
            MatchReason::HostnameIp
        } else {
            MatchReason::Hostname
        })
    } else {
        shared_ip.then_some(MatchReason::Ip)
    }
}

/// Normalises a hostname: trimmed, lower case, trailing dot removed; `None` when empty.
pub fn normalise_hostname(raw: &str) -> Option<String> {
    let trimmed = raw.trim().trim_end_matches('.');
    (!trimmed.is_empty()).then(|| trimmed.to_lowercase())
}

/// The short name (first label) of a normalised hostname; an IP literal is its own short name.
pub fn short_hostname(hostname: &str) -> &str {
    if hostname.parse::<IpAddr>().is_ok() {
        return hostname;
    }
    hostname.split('.').next().unwrap_or(hostname)
}

/// Normalises a MAC address to lower-case colon form. Accepts `:`/`-` separated pairs, Cisco dotted
/// quads and bare hex; `None` for anything else and for the all-zero address.
pub fn normalise_mac(raw: &str) -> Option<String> {
    let digits: Vec<u8> = raw
        .trim()
        .bytes()
        .filter(|b| !matches!(b, b':' | b'-' | b'.'))
        .collect();
    if digits.len() != 12 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    if digits.iter().all(|&b| b == b'0') {
        return None;
    }
    let mut out = String::with_capacity(17);
    for (i, pair) in digits.chunks(2).enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.extend(pair.iter().map(|b| char::from(b.to_ascii_lowercase())));
    }
    Some(out)
}

/// Normalises an IP address: CIDR suffix and IPv6 zone stripped, canonical text form; `None` when
/// it is not an IP address.
pub fn normalise_ip(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    let address = trimmed.split('/').next().unwrap_or(trimmed);
    let address = address.split('%').next().unwrap_or(address);
    address.parse::<IpAddr>().ok().map(|ip| ip.to_string())
}

/// Whether a normalised IP may be used for matching: not unspecified, loopback, link-local, or in
/// the Docker bridge range 172.17.0.0–172.31.255.255 (shared by every Docker host).
pub fn is_matchable_ip(ip: &str) -> bool {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_link_local()
                || (a == 172 && (17..=31).contains(&b)))
        }
        Ok(IpAddr::V6(v6)) => {
            !(v6.is_unspecified() || v6.is_loopback() || (v6.segments()[0] & 0xffc0) == 0xfe80)
        }
        Err(_) => false,
    }
}

/// Normalises an opaque id (machine id, DMI UUID): trimmed, lower case; `None` when empty or a
/// well-known placeholder (all zeros, all `f`).
fn normalise_opaque_id(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    let hex = trimmed.bytes().filter(|&b| b != b'-');
    let placeholder = hex.clone().all(|b| b == b'0') || hex.clone().all(|b| b == b'f' || b == b'F');
    (!trimmed.is_empty() && !placeholder).then(|| trimmed.to_lowercase())
}

/// Normalises every entry of a list with `normalise`, dropping rejects, then sorts and dedups.
/// `is_normal` recognises entries already in normal form, which are left untouched without
/// allocating (the common case on every poll).
fn normalise_list(
    list: &mut Vec<String>,
    is_normal: fn(&str) -> bool,
    normalise: fn(&str) -> Option<String>,
) {
    if list.iter().all(|s| is_normal(s)) && list.windows(2).all(|w| w[0] < w[1]) {
        return;
    }
    let mut i = 0;
    while i < list.len() {
        if is_normal(&list[i]) {
            i += 1;
            continue;
        }
        match normalise(&list[i]) {
            Some(n) => {
                list[i] = n;
                i += 1;
            }
            None => {
                list.swap_remove(i);
            }
        }
    }
    list.sort_unstable();
    list.dedup();
}

/// Whether a hostname is already normalised.
fn is_normal_hostname(s: &str) -> bool {
    !s.is_empty()
        && !s.ends_with('.')
        && s.trim().len() == s.len()
        && if s.is_ascii() {
            !s.bytes().any(|b| b.is_ascii_uppercase())
        } else {
            s.to_lowercase() == s
        }
}

/// Whether a MAC address is already in lower-case colon form (and not all zeros).
fn is_normal_mac(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 17
        && b.iter().enumerate().all(|(i, &c)| {
            if i % 3 == 2 {
                c == b':'
            } else {
                c.is_ascii_digit() || (b'a'..=b'f').contains(&c)
            }
        })
        && b.iter().any(|&c| c != b'0' && c != b':')
}

/// Whether an IP address is already in canonical text form. IPv4 text that parses is canonical
/// (the parser rejects leading zeros); IPv6 is compared with its canonical rendering.
fn is_normal_ip(s: &str) -> bool {
    match s.parse::<IpAddr>() {
        Ok(IpAddr::V4(_)) => true,
        Ok(ip @ IpAddr::V6(_)) => ip.to_string() == s,
        Err(_) => false,
    }
}

/// Normalises an optional field in place.
fn normalise_option(field: &mut Option<String>, normalise: fn(&str) -> Option<String>) {
    if let Some(value) = field {
        match normalise(value) {
            Some(n) if n == *value => {}
            other => *field = other,
        }
    }
}

impl Identity {
    /// Whether it holds no facts at all.
    pub fn is_empty(&self) -> bool {
        *self == crate::types::EMPTY_IDENTITY
    }

    /// Brings every field to its normalised form (see the module docs); idempotent.
    pub fn normalise(&mut self) {
        normalise_option(&mut self.machine_id, normalise_opaque_id);
        normalise_option(&mut self.dmi_uuid, normalise_opaque_id);
        normalise_option(&mut self.cluster_name, |c| {
            let t = c.trim();
            (!t.is_empty()).then(|| t.to_owned())
        });
        normalise_list(&mut self.hostnames, is_normal_hostname, normalise_hostname);
        normalise_list(&mut self.ip_addresses, is_normal_ip, normalise_ip);
        normalise_list(&mut self.mac_addresses, is_normal_mac, normalise_mac);
    }

    /// Adds every list entry of `other` and fills absent scalar fields from it. Both sides must be
    /// normalised; the result stays normalised.
    pub(crate) fn absorb(&mut self, other: &Identity) {
        if self.machine_id.is_none() {
            self.machine_id.clone_from(&other.machine_id);
        }
        if self.dmi_uuid.is_none() {
            self.dmi_uuid.clone_from(&other.dmi_uuid);
        }
        if self.cluster_name.is_none() {
            self.cluster_name.clone_from(&other.cluster_name);
        }
        union_sorted(&mut self.hostnames, &other.hostnames);
        union_sorted(&mut self.ip_addresses, &other.ip_addresses);
        union_sorted(&mut self.mac_addresses, &other.mac_addresses);
    }
}

/// Adds the entries of sorted `extra` missing from sorted `into`, keeping `into` sorted.
pub(crate) fn union_sorted(into: &mut Vec<String>, extra: &[String]) {
    let mut added = false;
    for item in extra {
        if into.binary_search(item).is_err() {
            into.push(item.clone());
            added = true;
        }
    }
    if added {
        into.sort_unstable();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(machine: Option<&str>, hosts: &[&str], ips: &[&str], macs: &[&str]) -> Identity {
        let mut id = Identity {
            machine_id: machine.map(str::to_owned),
            hostnames: hosts.iter().map(|s| s.to_string()).collect(),
            ip_addresses: ips.iter().map(|s| s.to_string()).collect(),
            mac_addresses: macs.iter().map(|s| s.to_string()).collect(),
            ..Identity::default()
        };
        id.normalise();
        id
    }

    #[test]
    fn hostnames_normalise() {
        assert_eq!(
            normalise_hostname(" PVE1.Example.COM. "),
            Some("pve1.example.com".into())
        );
        assert_eq!(normalise_hostname("."), None);
        assert_eq!(short_hostname("pve1.example.com"), "pve1");
        assert_eq!(short_hostname("10.0.0.1"), "10.0.0.1");
    }

    #[test]
    fn macs_normalise() {
        for raw in [
            "AA:BB:CC:DD:EE:0F",
            "aa-bb-cc-dd-ee-0f",
            "aabb.ccdd.ee0f",
            "AABBCCDDEE0F",
        ] {
            assert_eq!(
                normalise_mac(raw),
                Some("aa:bb:cc:dd:ee:0f".into()),
                "{raw}"
            );
        }
        assert_eq!(normalise_mac("00:00:00:00:00:00"), None);
        assert_eq!(normalise_mac("aa:bb:cc:dd:ee"), None);
        assert_eq!(normalise_mac("zz:bb:cc:dd:ee:ff"), None);
    }

    #[test]
    fn ips_normalise_and_filter() {
        assert_eq!(normalise_ip("192.168.1.10/24"), Some("192.168.1.10".into()));
        assert_eq!(normalise_ip("FE80::1%eth0"), Some("fe80::1".into()));
        assert_eq!(
            normalise_ip("2001:DB8:0:0::1/64"),
            Some("2001:db8::1".into())
        );
        assert_eq!(normalise_ip("not-an-ip"), None);
        assert!(is_matchable_ip("192.168.1.10"));
        assert!(is_matchable_ip("172.16.0.1"));
        assert!(is_matchable_ip("172.32.0.1"));
        assert!(is_matchable_ip("2001:db8::1"));
        for ignored in [
            "0.0.0.0",
            "127.0.0.1",
            "127.5.5.5",
            "169.254.3.4",
            "172.17.0.1",
            "172.31.255.255",
            "::",
            "::1",
            "fe80::1",
            "junk",
        ] {
            assert!(!is_matchable_ip(ignored), "{ignored}");
        }
    }

    #[test]
    fn fast_checks_agree_with_normalisation() {
        let samples = [
            "a",
            "A",
            "a.",
            " a",
            "pve1.lan",
            "Ünï",
            "aa:bb:cc:dd:ee:0f",
            "AA:bb:cc:dd:ee:0f",
            "00:00:00:00:00:00",
            "aa-bb-cc-dd-ee-0f",
            "aa:bb:cc:dd:ee:0g",
            "10.0.0.1",
            "10.0.0.1/24",
            "2001:db8::1",
            "2001:DB8::1",
            "2001:db8:0::1",
            "fe80::1%eth0",
            "",
            ".",
        ];
        for s in samples {
            assert_eq!(
                is_normal_hostname(s),
                normalise_hostname(s).as_deref() == Some(s),
                "{s:?}"
            );
            assert_eq!(
                is_normal_mac(s),
                normalise_mac(s).as_deref() == Some(s),
                "{s:?}"
            );
            assert_eq!(
                is_normal_ip(s),
                normalise_ip(s).as_deref() == Some(s),
                "{s:?}"
            );
        }
    }

    #[test]
    fn identity_normalises_and_dedups() {
        let mut id = Identity {
            machine_id: Some(" ABC123 ".into()),
            dmi_uuid: Some("00000000-0000-0000-0000-000000000000".into()),
            hostnames: vec!["B.lan.".into(), "a".into(), "b.lan".into(), " ".into()],
            ip_addresses: vec!["10.0.0.2/8".into(), "10.0.0.2".into(), "x".into()],
            mac_addresses: vec!["AA-BB-CC-DD-EE-FF".into(), "aa:bb:cc:dd:ee:ff".into()],
            cluster_name: Some("  ".into()),
        };
        id.normalise();
        assert_eq!(id.machine_id.as_deref(), Some("abc123"));
        assert_eq!(id.dmi_uuid, None);
        assert_eq!(id.cluster_name, None);
        assert_eq!(id.hostnames, ["a", "b.lan"]);
        assert_eq!(id.ip_addresses, ["10.0.0.2"]);
        assert_eq!(id.mac_addresses, ["aa:bb:cc:dd:ee:ff"]);
        let again = id.clone();
        id.normalise();
        assert_eq!(id, again);
    }

    #[test]
    fn confidences_and_threshold() {
        let machine = identity(Some("m1"), &[], &[], &[]);
        assert_eq!(
            match_identities(&machine, &machine),
            Some(MatchReason::MachineId)
        );
        let dmi = Identity {
            dmi_uuid: Some("u1".into()),
            ..Identity::default()
        };
        assert_eq!(match_identities(&dmi, &dmi), Some(MatchReason::DmiUuid));

        let a = identity(None, &["node1.lan"], &["10.0.0.5"], &["aa:bb:cc:dd:ee:01"]);
        let mac = identity(None, &["NODE1"], &[], &["AA:BB:CC:DD:EE:01"]);
        let ip = identity(None, &["node1.other"], &["10.0.0.5/24"], &[]);
        let host = identity(None, &["node1"], &[], &[]);
        let ip_only = identity(None, &["node2"], &["10.0.0.5"], &[]);
        let bridge_ip = identity(None, &["node2"], &["172.17.0.1"], &[]);
        let a_bridge = identity(None, &["x"], &["172.17.0.1"], &[]);
        assert_eq!(match_identities(&a, &mac), Some(MatchReason::HostnameMac));
        assert_eq!(match_identities(&a, &ip), Some(MatchReason::HostnameIp));
        assert_eq!(match_identities(&a, &host), Some(MatchReason::Hostname));
        assert_eq!(match_identities(&a, &ip_only), Some(MatchReason::Ip));
        assert_eq!(match_identities(&a_bridge, &bridge_ip), None);

        assert!(MatchReason::MachineId.auto_merges());
        assert!(MatchReason::DmiUuid.auto_merges());
        assert!(MatchReason::HostnameMac.auto_merges());
        assert!(!MatchReason::HostnameIp.auto_merges());
        assert!(!MatchReason::Hostname.auto_merges());
        assert!(!MatchReason::Ip.auto_merges());
        assert!(type_auto_merges(ResourceType::Agent));
        assert!(type_auto_merges(ResourceType::PhysicalDisk));
        assert!(!type_auto_merges(ResourceType::Vm));
    }

    #[test]
    fn conflicting_machine_ids_veto() {
        let a = identity(Some("m1"), &["node1"], &[], &["aa:bb:cc:dd:ee:01"]);
        let b = identity(Some("m2"), &["node1"], &[], &["aa:bb:cc:dd:ee:01"]);
        assert_eq!(match_identities(&a, &b), None);
        let c = identity(None, &["node1"], &[], &["aa:bb:cc:dd:ee:01"]);
        assert_eq!(match_identities(&a, &c), Some(MatchReason::HostnameMac));
    }

    #[test]
    fn absorb_unions() {
        let mut a = identity(Some("m1"), &["a"], &["10.0.0.1"], &[]);
        let b = identity(
            Some("m2"),
            &["b", "a"],
            &["10.0.0.0"],
            &["aa:bb:cc:dd:ee:01"],
        );
        a.absorb(&b);
        assert_eq!(a.machine_id.as_deref(), Some("m1"));
        assert_eq!(a.hostnames, ["a", "b"]);
        assert_eq!(a.ip_addresses, ["10.0.0.0", "10.0.0.1"]);
        assert_eq!(a.mac_addresses, ["aa:bb:cc:dd:ee:01"]);
    }
}
