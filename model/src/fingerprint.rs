//! Fingerprints of source records, so the registry can tell an unchanged re-report from
//! a changed one without walking the stored record (which is cold in memory on every poll).
//!
//! The mixing step is FxHash's `h = (rotl(h, 5) ^ word) · K` with an odd `K`, run on two
//! interleaved lanes (halving the multiply latency chain). For fixed other inputs each step is a
//! bijection in its word and in its lane, so a change of any single word (a number, a short
//! string, a length) always changes the fingerprint; larger changes collide with probability
//! about 2⁻⁶⁴. A collision only delays an update until the record changes again; it never
//! corrupts state.

use serde_json::Value;

use crate::record::{ParentRef, SourceRecord};
use crate::types::{Identity, MetricKind, MetricValue, Metrics};

/// FxHash's multiplier.
const K: u64 = 0x517c_c1b7_2722_0a95;

/// A running fingerprint: two lanes, each word going to the lane not used by the previous one.
#[derive(Debug, Clone, Copy, Default)]
struct Mixer {
    /// The lane the next word goes to.
    next: u64,
    /// The other lane.
    other: u64,
}

impl Mixer {
    /// Mixes one word.
    fn word(&mut self, word: u64) {
        let mixed = (self.next.rotate_left(5) ^ word).wrapping_mul(K);
        self.next = self.other;
        self.other = mixed;
    }

    /// The fingerprint: the lanes combined (injective in each lane for a fixed other lane).
    fn finish(self) -> u64 {
        self.next.wrapping_mul(K) ^ self.other
    }

    /// Mixes a length-prefixed byte string, eight bytes at a time. The last partial word is
    /// read without a copy: with the length fixed, its bytes determine it uniquely.
    fn bytes(&mut self, bytes: &[u8]) {
        self.word(bytes.len() as u64);
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut buf = [0u8; 8];
            buf.copy_from_slice(chunk);
            self.word(u64::from_le_bytes(buf));
        }
        let rest = chunks.remainder();
        let n = rest.len();
        if n >= 4 {
            // The first and the last four bytes (overlapping when n < 8).
            let lo = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
            let hi = u32::from_le_bytes([rest[n - 4], rest[n - 3], rest[n - 2], rest[n - 1]]);
            self.word(u64::from(lo) | u64::from(hi) << 32);
        } else if n > 0 {
            // The first, middle and last byte (repeating when n < 3).
            let word =
                u64::from(rest[0]) | u64::from(rest[n / 2]) << 8 | u64::from(rest[n - 1]) << 16;
            self.word(word);
        }
    }

    /// Mixes a string.
    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    /// Mixes an optional value: a presence tag, then the value.
    fn opt<T>(&mut self, value: Option<T>, mut mix: impl FnMut(&mut Self, T)) {
        match value {
            None => self.word(0),
            Some(v) => {
                self.word(1);
                mix(self, v);
            }
        }
    }

    /// Mixes a list of strings.
    fn strs(&mut self, list: &[String]) {
        self.word(list.len() as u64);
        for s in list {
            self.str(s);
        }
    }

    /// Mixes a JSON value with a tag per variant.
    fn json(&mut self, value: &Value) {
        match value {
            Value::Null => self.word(10),
            Value::Bool(b) => self.word(11 + u64::from(*b)),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    self.word(13);
                    self.word(u);
                } else if let Some(i) = n.as_i64() {
                    self.word(14);
                    self.word(u64::from_ne_bytes(i.to_ne_bytes()));
                } else {
                    self.word(15);
                    self.word(n.as_f64().map_or(0, f64::to_bits));
                }
            }
            Value::String(s) => {
                self.word(16);
                self.str(s);
            }
            Value::Array(items) => {
                self.word(17);
                self.word(items.len() as u64);
                for item in items {
                    self.json(item);
                }
            }
            Value::Object(map) => {
                self.word(18);
                self.word(map.len() as u64);
                for (key, item) in map {
                    self.str(key);
                    self.json(item);
                }
            }
        }
    }

    /// Mixes an identity.
    fn identity(&mut self, identity: &Identity) {
        let Identity {
            machine_id,
            dmi_uuid,
            hostnames,
            ip_addresses,
            mac_addresses,
            cluster_name,
        } = identity;
        self.opt(machine_id.as_deref(), Self::str);
        self.opt(dmi_uuid.as_deref(), Self::str);
        self.strs(hostnames);
        self.strs(ip_addresses);
        self.strs(mac_addresses);
        self.opt(cluster_name.as_deref(), Self::str);
    }

    /// Mixes one metric.
    fn metric(&mut self, metric: &MetricValue) {
        let MetricValue {
            value,
            used,
            total,
            percent,
            unit,
        } = metric;
        self.opt(value.map(f64::to_bits), Self::word);
        self.opt(*used, Self::word);
        self.opt(*total, Self::word);
        self.opt(percent.map(f64::to_bits), Self::word);
        self.str(unit);
    }

    /// Mixes all metrics.
    fn metrics(&mut self, metrics: &Metrics) {
        for kind in MetricKind::ALL {
            self.opt(metrics.get(kind), Self::metric);
        }
    }
}

/// Fingerprint of everything a record says, as received (before canonicalisation: equal raw
/// records canonicalise equally, so a match means the stored canonical record still holds).
/// Equal records always have equal fingerprints (except that `0.0` and `-0.0` differ, which
/// merely costs a redundant fold).
pub(crate) fn content_fingerprint(record: &SourceRecord) -> u64 {
    let SourceRecord {
        source_id,
        resource_type,
        name,
        status,
        identity,
        metrics,
        parent,
        tags,
        uptime,
        temperature,
        facets,
        stale_after_ms,
        offline_after_ms,
        error,
        guest_key,
    } = record;
    let mut m = Mixer::default();
    m.str(source_id);
    m.str(resource_type.as_str());
    m.str(name);
    m.str(status.as_str());
    m.identity(identity);
    m.metrics(metrics);
    m.opt(parent.as_ref(), |m, p| match p {
        ParentRef::SourceId(id) => {
            m.word(1);
            m.str(id);
        }
        ParentRef::StableKey { resource_type, key } => {
            m.word(2);
            m.str(resource_type.as_str());
            m.str(key);
        }
    });
    m.strs(tags);
    m.opt(*uptime, Mixer::word);
    m.opt(temperature.map(f64::to_bits), Mixer::word);
    m.word(facets.len() as u64);
    for (key, value) in facets {
        m.str(key.as_str());
        m.json(value);
    }
    m.opt(*stale_after_ms, Mixer::word);
    m.opt(*offline_after_ms, Mixer::word);
    m.opt(error.as_deref(), Mixer::str);
    m.opt(guest_key.as_deref(), Mixer::str);
    m.finish()
}

/// Fingerprint of a JSON value (a facet), to recognise an unchanged facet without serialising it.
pub(crate) fn value_fingerprint(value: &Value) -> u64 {
    let mut m = Mixer::default();
    m.json(value);
    m.finish()
}

/// Fingerprint of a resolved parent id.
pub(crate) fn parent_fingerprint(parent_id: Option<&str>) -> u64 {
    let mut m = Mixer::default();
    m.opt(parent_id, Mixer::str);
    m.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testgen;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn different_records_have_different_fingerprints(
            mut a in testgen::record(),
            mut b in testgen::record(),
        ) {
            let (fa, fb) = (content_fingerprint(&a), content_fingerprint(&b));
            if a == b {
                prop_assert_eq!(fa, fb);
            } else {
                prop_assert_ne!(fa, fb);
            }
            a.canonicalise();
            b.canonicalise();
            let (ca, cb) = (content_fingerprint(&a), content_fingerprint(&b));
            prop_assert_eq!(a == b, ca == cb);
        }
    }

    #[test]
    fn every_field_counts() {
        let base = SourceRecord::new(
            "s",
            crate::names::ResourceType::Vm,
            "n",
            crate::names::Status::Online,
        );
        let fp = content_fingerprint;
        let mut variants: Vec<SourceRecord> = Vec::new();
        let mut push = |f: &dyn Fn(&mut SourceRecord)| {
            let mut r = base.clone();
            f(&mut r);
            variants.push(r);
        };
        push(&|r| r.source_id.push('x'));
        push(&|r| r.resource_type = crate::names::ResourceType::Agent);
        push(&|r| r.name.push('x'));
        push(&|r| r.status = crate::names::Status::Warning);
        push(&|r| r.identity.machine_id = Some("m".into()));
        push(&|r| r.identity.dmi_uuid = Some("m".into()));
        push(&|r| r.identity.hostnames.push("h".into()));
        push(&|r| r.identity.ip_addresses.push("h".into()));
        push(&|r| r.identity.mac_addresses.push("h".into()));
        push(&|r| r.identity.cluster_name = Some("m".into()));
        push(&|r| {
            r.metrics
                .set(MetricKind::DiskWrite, Some(MetricValue::default()))
        });
        push(&|r| r.parent = Some(ParentRef::SourceId("p".into())));
        push(&|r| r.tags.push("t".into()));
        push(&|r| r.uptime = Some(1));
        push(&|r| r.temperature = Some(1.0));
        push(&|r| {
            r.facets
                .insert(crate::names::FacetKey::Docker, Value::Bool(true));
        });
        push(&|r| r.stale_after_ms = Some(1));
        push(&|r| r.offline_after_ms = Some(1));
        push(&|r| r.error = Some(String::new()));
        push(&|r| r.guest_key = Some(String::new()));
        let mut seen = std::collections::HashSet::new();
        assert!(seen.insert(fp(&base)));
        for v in &variants {
            assert!(seen.insert(fp(v)), "{v:?}");
        }
        let parents = [None, Some(""), Some("p"), Some("q")].map(parent_fingerprint);
        assert_eq!(
            parents
                .iter()
                .collect::<std::collections::HashSet<_>>()
                .len(),
            4
        );
    }
}
