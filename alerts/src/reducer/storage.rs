//! ZFS / TrueNAS pool health.
//!
//! Reads, from the `storage` facet, else the `truenas` facet, of a `storage` resource:
//! - the pool state: `poolState`, else `health` (PVE `/disks/zfs`) in `storage`, else
//!   `poolState` or `status` (TrueNAS `pool.query`) in `truenas`; case-insensitive.
//!   ONLINE/HEALTHY → fine; DEGRADED → `zfs-pool-state` warning; FAULTED, OFFLINE, REMOVED,
//!   UNAVAIL, SUSPENDED → critical; any other word changes nothing. Recovery needs
//!   `recovery.storageObservations` good observations (upstream: 2).
//! - vdev errors: pool totals `readErrors`, `writeErrors`, `checksumErrors`; else the sum over
//!   `vdevs: [{name, readErrors, writeErrors, checksumErrors}]` (also `read_errors`… or a nested
//!   `stats` object, as TrueNAS topology has them). Any error → `zfs-vdev-errors` (warning)
//!   until the counters are cleared.
//! - `scan: {function, state, errors}`: `errors > 0` → `zfs-scan-errors` (warning).

use pulse_model::Resource;
use serde_json::{Map, Value};

use crate::alert::{AlertKey, AlertLevel};
use crate::facet;
use crate::reducer::effects::Effects;
use crate::reducer::judge::{Finding, Verdict};
use crate::reducer::observe::Observation;
use crate::state::ResourceAlerts;

/// The pool-state keys per facet, in order.
const STATE_KEYS: [(&str, &[&str]); 2] = [
    ("storage", &["poolState", "health"]),
    ("truenas", &["poolState", "status"]),
];
/// Error counter names (camelCase, TrueNAS snake_case).
const READ: [&str; 2] = ["readErrors", "read_errors"];
/// See [`READ`].
const WRITE: [&str; 2] = ["writeErrors", "write_errors"];
/// See [`READ`].
const CHECKSUM: [&str; 2] = ["checksumErrors", "checksum_errors"];

/// Whether the resource reports a ZFS pool state (then it gets pool-state alerts instead of a
/// connectivity alert).
pub(crate) fn has_pool_state(resource: &Resource) -> bool {
    pool_state(resource).is_some_and(|s| classify(s).is_some())
}

/// Evaluates the pool rules.
pub(crate) fn evaluate(entry: &mut ResourceAlerts, obs: &Observation, fx: &mut Effects) {
    let resource = obs.resource;
    let name = &resource.name;

    let key = AlertKey::PoolState;
    let verdict = if obs.view.disabled(&key) {
        Verdict::Disabled
    } else {
        match pool_state(resource).map(|s| (s, classify(s))) {
            Some((_, Some(None))) => Verdict::Ok,
            Some((state, Some(Some(level)))) => Verdict::Breach(Finding::flag(
                level,
                Some(format!("ZFS pool {name} is {}", state.to_ascii_uppercase())),
            )),
            _ => Verdict::Unknown,
        }
    };
    obs.apply(entry, key, verdict, fx);

    let facets = ["storage", "truenas"].map(|k| facet::object(resource, k));
    let key = AlertKey::VdevErrors;
    let verdict = if obs.view.disabled(&key) {
        Verdict::Disabled
    } else {
        match facets.iter().flatten().find_map(|f| error_counts(f)) {
            Some([0, 0, 0]) => Verdict::Ok,
            Some([read, write, checksum]) => Verdict::Breach(Finding::counted(
                AlertLevel::Warning,
                (read + write + checksum) as f64,
                0.0,
                format!(
                    "ZFS pool {name} has {read} read, {write} write and {checksum} checksum errors"
                ),
            )),
            None => Verdict::Unknown,
        }
    };
    obs.apply(entry, key, verdict, fx);

    let key = AlertKey::ScanErrors;
    let verdict = if obs.view.disabled(&key) {
        Verdict::Disabled
    } else {
        let scan = facets
            .iter()
            .flatten()
            .find_map(|f| f.get("scan").and_then(Value::as_object));
        match scan.map(|s| (s, facet::number(s, &["errors"]))) {
            Some((scan, Some(errors))) if errors > 0.0 => {
                let function = facet::text(scan, &["function"]).unwrap_or("scan");
                Verdict::Breach(Finding::counted(
                    AlertLevel::Warning,
                    errors,
                    0.0,
                    format!(
                        "ZFS {} on {name} found {errors} errors",
                        function.to_ascii_lowercase()
                    ),
                ))
            }
            Some((_, Some(_))) => Verdict::Ok,
            _ => Verdict::Unknown,
        }
    };
    obs.apply(entry, key, verdict, fx);
}

/// The raw pool state word.
fn pool_state(resource: &Resource) -> Option<&str> {
    STATE_KEYS
        .iter()
        .find_map(|(facet_key, names)| facet::text(facet::object(resource, facet_key)?, names))
}

/// `Some(None)` for a healthy state, `Some(Some(level))` for a bad one, `None` for a word that
/// is not a pool state.
fn classify(state: &str) -> Option<Option<AlertLevel>> {
    let state = state.trim();
    let is = |word: &str| state.eq_ignore_ascii_case(word);
    if is("ONLINE") || is("HEALTHY") {
        Some(None)
    } else if is("DEGRADED") {
        Some(Some(AlertLevel::Warning))
    } else if ["FAULTED", "OFFLINE", "REMOVED", "UNAVAIL", "SUSPENDED"]
        .iter()
        .any(|w| is(w))
    {
        Some(Some(AlertLevel::Critical))
    } else {
        None
    }
}

/// Read, write and checksum errors of the pool: its totals, else the sum over its vdevs.
fn error_counts(object: &Map<String, Value>) -> Option<[u64; 3]> {
    if let Some(totals) = counts(object) {
        return Some(totals);
    }
    let vdevs = object.get("vdevs")?.as_array()?;
    Some(
        vdevs
            .iter()
            .filter_map(Value::as_object)
            .filter_map(counts)
            .fold([0; 3], |sum, c| {
                [sum[0] + c[0], sum[1] + c[1], sum[2] + c[2]]
            }),
    )
}

/// The three counters of one object (or its `stats` child), `None` when it has none.
fn counts(object: &Map<String, Value>) -> Option<[u64; 3]> {
    let read =
        |o: &Map<String, Value>, names: &[&str]| facet::number(o, names).map(|n| n.max(0.0) as u64);
    let direct = [
        read(object, &READ),
        read(object, &WRITE),
        read(object, &CHECKSUM),
    ];
    let values = if direct.iter().any(Option::is_some) {
        direct
    } else {
        let stats = object.get("stats")?.as_object()?;
        [
            read(stats, &READ),
            read(stats, &WRITE),
            read(stats, &CHECKSUM),
        ]
    };
    values
        .iter()
        .any(Option::is_some)
        .then(|| values.map(|v| v.unwrap_or(0)))
}
