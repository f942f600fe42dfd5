//! The standard metrics of a resource (`metrics` in its JSON, SPEC §4): which there are
//! ([`MetricKind`]), one measured quantity ([`MetricValue`]) and the set a resource has
//! ([`Metrics`]).
//!
//! [`Metrics`] holds only the metrics present. A resource usually has two to five of the seven,
//! and the registry keeps one per resource (plus one per contribution that does not lend its
//! measurements), so seven inline optional slots of 88 bytes each would be mostly empty space.

use std::borrow::Cow;
use std::fmt;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One measured quantity (`{value?, used?, total?, percent?, unit}`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricValue {
    /// The headline value in `unit` (e.g. bytes per second for rates, percent for CPU).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// Amount in use (bytes for memory and disk).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used: Option<u64>,
    /// Capacity (bytes for memory and disk).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// Utilisation in percent (0–100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<f64>,
    /// Unit of `value`, e.g. `"percent"`, `"bytes"`, `"bytes/s"` (usually a static string, so
    /// building and copying metrics does not allocate).
    pub unit: Cow<'static, str>,
}

impl MetricValue {
    /// Drops non-finite numbers (they have no JSON form and would serialise as `null`).
    fn canonicalise(&mut self) {
        for field in [&mut self.value, &mut self.percent] {
            if field.is_some_and(|v| !v.is_finite()) {
                *field = None;
            }
        }
    }
}

/// One of the standard metrics of a resource, in wire order (the order of [`MetricKind::ALL`]
/// is the order the `metrics` members serialise in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MetricKind {
    /// CPU utilisation (`cpu`).
    Cpu,
    /// Memory usage (`memory`).
    Memory,
    /// Disk/filesystem usage (`disk`).
    Disk,
    /// Network receive rate (`netIn`).
    NetIn,
    /// Network transmit rate (`netOut`).
    NetOut,
    /// Disk read rate (`diskRead`).
    DiskRead,
    /// Disk write rate (`diskWrite`).
    DiskWrite,
}

impl MetricKind {
    /// Every kind, in wire order.
    pub const ALL: [MetricKind; 7] = [
        MetricKind::Cpu,
        MetricKind::Memory,
        MetricKind::Disk,
        MetricKind::NetIn,
        MetricKind::NetOut,
        MetricKind::DiskRead,
        MetricKind::DiskWrite,
    ];

    /// The JSON member name under `metrics`.
    pub const fn name(self) -> &'static str {
        match self {
            MetricKind::Cpu => "cpu",
            MetricKind::Memory => "memory",
            MetricKind::Disk => "disk",
            MetricKind::NetIn => "netIn",
            MetricKind::NetOut => "netOut",
            MetricKind::DiskRead => "diskRead",
            MetricKind::DiskWrite => "diskWrite",
        }
    }

    /// The kind's bit in the presence mask of [`Metrics`].
    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// The standard metrics of a resource; each is absent when no source measures it.
///
/// Serialises as the object `{cpu?, memory?, disk?, netIn?, netOut?, diskRead?, diskWrite?}`
/// with absent metrics omitted; reading, a `null` member is absent and unknown members are
/// ignored. Holds only the metrics present (see the module docs): 24 bytes inline plus one
/// allocation of their values.
#[derive(Clone, PartialEq, Default)]
pub struct Metrics {
    /// Bit `k` is set when the metric of kind `k` is present ([`MetricKind::bit`]).
    present: u8,
    /// The present metrics in kind order: the one of kind `k` at the number of bits below `k`'s
    /// that are set.
    values: Box<[MetricValue]>,
}

impl Metrics {
    /// No metrics.
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// Number of metrics present.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether no metric is present.
    pub fn is_empty(&self) -> bool {
        self.present == 0
    }

    /// Whether the metric `kind` is present.
    pub fn contains(&self, kind: MetricKind) -> bool {
        self.present & kind.bit() != 0
    }

    /// Where the metric `kind` is, or would be inserted, in `values`.
    fn position(&self, kind: MetricKind) -> usize {
        (self.present & (kind.bit() - 1)).count_ones() as usize
    }

    /// The metric `kind`, if present.
    pub fn get(&self, kind: MetricKind) -> Option<&MetricValue> {
        if self.contains(kind) {
            self.values.get(self.position(kind))
        } else {
            None
        }
    }

    /// The metric `kind` for changing in place, if present.
    pub fn get_mut(&mut self, kind: MetricKind) -> Option<&mut MetricValue> {
        if self.contains(kind) {
            let index = self.position(kind);
            self.values.get_mut(index)
        } else {
            None
        }
    }

    /// CPU utilisation.
    pub fn cpu(&self) -> Option<&MetricValue> {
        self.get(MetricKind::Cpu)
    }

    /// Memory usage.
    pub fn memory(&self) -> Option<&MetricValue> {
        self.get(MetricKind::Memory)
    }

    /// Disk/filesystem usage.
    pub fn disk(&self) -> Option<&MetricValue> {
        self.get(MetricKind::Disk)
    }

    /// Network receive rate.
    pub fn net_in(&self) -> Option<&MetricValue> {
        self.get(MetricKind::NetIn)
    }

    /// Network transmit rate.
    pub fn net_out(&self) -> Option<&MetricValue> {
        self.get(MetricKind::NetOut)
    }

    /// Disk read rate.
    pub fn disk_read(&self) -> Option<&MetricValue> {
        self.get(MetricKind::DiskRead)
    }

    /// Disk write rate.
    pub fn disk_write(&self) -> Option<&MetricValue> {
        self.get(MetricKind::DiskWrite)
    }

    /// Sets the metric `kind` to `metric`, or removes it when `metric` is `None` (as assigning
    /// an optional field would).
    pub fn set(&mut self, kind: MetricKind, metric: Option<MetricValue>) {
        let Some(metric) = metric else {
            self.remove(kind);
            return;
        };
        let index = self.position(kind);
        if let Some(slot) = self.get_mut(kind) {
            *slot = metric;
            return;
        }
        let mut values = Vec::from(std::mem::take(&mut self.values));
        values.reserve_exact(1);
        values.insert(index, metric);
        self.values = values.into_boxed_slice();
        self.present |= kind.bit();
    }

    /// As [`Metrics::set`], for building: `Metrics::new().with(MetricKind::Cpu, cpu)`.
    #[must_use]
    pub fn with(mut self, kind: MetricKind, metric: Option<MetricValue>) -> Metrics {
        self.set(kind, metric);
        self
    }

    /// Removes and returns the metric `kind`.
    pub fn remove(&mut self, kind: MetricKind) -> Option<MetricValue> {
        if !self.contains(kind) {
            return None;
        }
        let mut values = Vec::from(std::mem::take(&mut self.values));
        let metric = values.remove(self.position(kind));
        self.values = values.into_boxed_slice();
        self.present &= !kind.bit();
        Some(metric)
    }

    /// The metrics present, in wire order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (MetricKind, &MetricValue)> + '_ {
        // The kinds of the set bits, lowest first, pair with the values in order.
        let mut rest = self.present;
        self.values.iter().map(move |metric| {
            let kind = MetricKind::ALL[rest.trailing_zeros() as usize];
            rest &= rest - 1;
            (kind, metric)
        })
    }

    /// The metrics from one optional value per kind (indexed by `MetricKind as usize`).
    fn from_slots(slots: [Option<MetricValue>; 7]) -> Metrics {
        let mut present = 0;
        let mut values = Vec::with_capacity(slots.iter().flatten().count());
        for (kind, slot) in MetricKind::ALL.into_iter().zip(slots) {
            if let Some(metric) = slot {
                present |= kind.bit();
                values.push(metric);
            }
        }
        Metrics {
            present,
            values: values.into_boxed_slice(),
        }
    }

    /// Drops non-finite numbers from every metric.
    pub(crate) fn canonicalise(&mut self) {
        for metric in self.values.iter_mut() {
            metric.canonicalise();
        }
    }
}

/// Of a kind given twice, the last wins.
impl FromIterator<(MetricKind, MetricValue)> for Metrics {
    fn from_iter<I: IntoIterator<Item = (MetricKind, MetricValue)>>(iter: I) -> Metrics {
        let mut slots: [Option<MetricValue>; 7] = Default::default();
        for (kind, metric) in iter {
            slots[kind as usize] = Some(metric);
        }
        Metrics::from_slots(slots)
    }
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Metrics");
        for (kind, metric) in self.iter() {
            s.field(kind.name(), metric);
        }
        s.finish()
    }
}

impl Serialize for Metrics {
    /// As the struct of seven optional members it stands for, absent ones skipped.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Metrics", self.len())?;
        for kind in MetricKind::ALL {
            match self.get(kind) {
                Some(metric) => s.serialize_field(kind.name(), metric)?,
                None => s.skip_field(kind.name())?,
            }
        }
        s.end()
    }
}

/// The wire form of [`Metrics`] for reading: a struct of seven optional members, so that absent,
/// `null`, unknown and repeated members (and errors, which name `struct Metrics`) are handled as
/// serde handles any struct.
mod wire {
    use serde::Deserialize;

    use super::MetricValue;

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct Metrics {
        #[serde(default)]
        pub cpu: Option<MetricValue>,
        #[serde(default)]
        pub memory: Option<MetricValue>,
        #[serde(default)]
        pub disk: Option<MetricValue>,
        #[serde(default)]
        pub net_in: Option<MetricValue>,
        #[serde(default)]
        pub net_out: Option<MetricValue>,
        #[serde(default)]
        pub disk_read: Option<MetricValue>,
        #[serde(default)]
        pub disk_write: Option<MetricValue>,
    }
}

impl<'de> Deserialize<'de> for Metrics {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Metrics, D::Error> {
        let wire::Metrics {
            cpu,
            memory,
            disk,
            net_in,
            net_out,
            disk_read,
            disk_write,
        } = wire::Metrics::deserialize(deserializer)?;
        Ok(Metrics::from_slots([
            cpu, memory, disk, net_in, net_out, disk_read, disk_write,
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn metric(value: f64) -> MetricValue {
        MetricValue {
            value: Some(value),
            unit: "bytes/s".into(),
            ..MetricValue::default()
        }
    }

    /// The plain struct of seven optional members that [`Metrics`] must read and write exactly
    /// like (named `Metrics` too, as error messages name it).
    mod plain {
        use serde::{Deserialize, Serialize};

        use super::MetricValue;

        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct Metrics {
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub cpu: Option<MetricValue>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub memory: Option<MetricValue>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub disk: Option<MetricValue>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub net_in: Option<MetricValue>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub net_out: Option<MetricValue>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub disk_read: Option<MetricValue>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub disk_write: Option<MetricValue>,
        }
    }
    use plain::Metrics as Slots;

    impl Slots {
        fn metrics(&self) -> Metrics {
            let slots = [
                &self.cpu,
                &self.memory,
                &self.disk,
                &self.net_in,
                &self.net_out,
                &self.disk_read,
                &self.disk_write,
            ];
            MetricKind::ALL
                .into_iter()
                .zip(slots)
                .filter_map(|(kind, slot)| Some((kind, slot.clone()?)))
                .collect()
        }
    }

    /// The slots with metric `k` present when bit `k` of `mask` is set.
    fn slots(mask: u8) -> Slots {
        let at = |k: u8| (mask & 1 << k != 0).then(|| metric(f64::from(k)));
        Slots {
            cpu: at(0),
            memory: at(1),
            disk: at(2),
            net_in: at(3),
            net_out: at(4),
            disk_read: at(5),
            disk_write: at(6),
        }
    }

    #[test]
    fn holds_only_what_is_present_behind_accessors() {
        assert!(std::mem::size_of::<Metrics>() <= 24);
        let mut m = Metrics::new().with(MetricKind::DiskWrite, Some(metric(6.0)));
        m.set(MetricKind::Cpu, Some(metric(0.0)));
        m.set(MetricKind::NetIn, Some(metric(3.0)));
        m.set(MetricKind::Memory, None);
        assert_eq!((m.len(), m.is_empty()), (3, false));
        assert_eq!(m.cpu(), Some(&metric(0.0)));
        assert_eq!(m.net_in(), Some(&metric(3.0)));
        assert_eq!(m.get(MetricKind::DiskWrite), Some(&metric(6.0)));
        assert_eq!(
            (m.memory(), m.disk(), m.net_out(), m.disk_read()),
            (None, None, None, None)
        );
        let kinds: Vec<MetricKind> = m.iter().map(|(kind, _)| kind).collect();
        assert_eq!(
            kinds,
            [MetricKind::Cpu, MetricKind::NetIn, MetricKind::DiskWrite]
        );
        assert!(m.iter().all(|(kind, v)| v.value == Some(kind as u8 as f64)));

        m.set(MetricKind::NetIn, Some(metric(30.0)));
        if let Some(v) = m.get_mut(MetricKind::Cpu) {
            v.percent = Some(1.0);
        }
        assert_eq!(m.net_in().and_then(|v| v.value), Some(30.0));
        assert_eq!(m.cpu().and_then(|v| v.percent), Some(1.0));
        assert_eq!(
            m.remove(MetricKind::NetIn).and_then(|v| v.value),
            Some(30.0)
        );
        assert_eq!(m.remove(MetricKind::NetIn), None);
        m.set(MetricKind::Cpu, None);
        assert!(!m.contains(MetricKind::Cpu));
        assert_eq!(m.disk_write(), Some(&metric(6.0)));
        m.set(MetricKind::DiskWrite, None);
        assert!(m.is_empty());
        assert_eq!(m, Metrics::new());

        let collected: Metrics = [
            (MetricKind::Disk, metric(1.0)),
            (MetricKind::Cpu, metric(2.0)),
            (MetricKind::Disk, metric(3.0)),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            collected,
            Metrics::new()
                .with(MetricKind::Cpu, Some(metric(2.0)))
                .with(MetricKind::Disk, Some(metric(3.0))),
            "sorted, the last of a kind wins"
        );
    }

    #[test]
    fn writes_every_combination_as_the_plain_struct_does() {
        for mask in 0..128u8 {
            let slots = slots(mask);
            let metrics = slots.metrics();
            assert_eq!(metrics.len(), mask.count_ones() as usize);
            let expected = serde_json::to_string(&slots).expect("serialise");
            assert_eq!(
                serde_json::to_string(&metrics).expect("serialise"),
                expected
            );
            assert_eq!(
                serde_json::to_string_pretty(&metrics).expect("serialise"),
                serde_json::to_string_pretty(&slots).expect("serialise")
            );
            let back: Metrics = serde_json::from_str(&expected).expect("deserialise");
            assert_eq!(back, metrics);
        }
        assert_eq!(
            serde_json::to_string(&Metrics::new()).expect("serialise"),
            "{}"
        );
    }

    #[test]
    fn reads_everything_as_the_plain_struct_does() {
        let inputs = [
            json!({}),
            json!({"cpu": null, "netOut": {"value": 1.5, "unit": "bytes/s"}}),
            json!({"diskWrite": {"unit": "x"}, "unknown": 1, "net_in": {"unit": "y"}}),
            json!({"memory": {"used": 5, "unit": "bytes", "extra": true}}),
            json!([null, {"unit": "bytes"}]),
            json!({"cpu": {"value": "high", "unit": "percent"}}),
            json!({"cpu": {"value": 1.0}}),
            json!({"disk": 3}),
            json!(null),
            json!("metrics"),
        ];
        for input in inputs {
            let expected = serde_json::from_value::<Slots>(input.clone());
            let got = serde_json::from_value::<Metrics>(input.clone());
            match (expected, got) {
                (Ok(slots), Ok(metrics)) => assert_eq!(metrics, slots.metrics(), "{input}"),
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{input}"),
                (a, b) => panic!("{input}: {a:?} vs {b:?}"),
            }
        }
        // Repeated members are an error, as for any struct (only text can repeat them).
        let repeated = r#"{"cpu": {"unit": "a"}, "cpu": {"unit": "b"}}"#;
        let a = serde_json::from_str::<Slots>(repeated)
            .map(|_| ())
            .map_err(|e| e.to_string());
        let b = serde_json::from_str::<Metrics>(repeated)
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert!(a.is_err());
        assert_eq!(a, b);
    }

    #[test]
    fn canonicalise_drops_non_finite_numbers_only() {
        let mut m = Metrics::new().with(
            MetricKind::Cpu,
            Some(MetricValue {
                value: Some(f64::NAN),
                percent: Some(f64::INFINITY),
                used: Some(1),
                unit: "percent".into(),
                ..MetricValue::default()
            }),
        );
        m.canonicalise();
        let cpu = m.cpu().expect("kept");
        assert_eq!((cpu.value, cpu.percent, cpu.used), (None, None, Some(1)));
    }
}
