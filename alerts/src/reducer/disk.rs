//! Physical disk health and wear (temperature is a metric threshold, see `metric`).
//!
//! Reads the `physicalDisk` facet of a `physical_disk` resource:
//! - `health`: SMART overall result; `FAILED`/`FAILING` (any case) → `disk-health` critical,
//!   `PASSED`/`OK` → fine;
//! - `state`: the disk's state on its platform (TrueNAS): DEGRADED → `disk-health` warning;
//!   FAULTED, FAILED, OFFLINE, REMOVED, UNAVAIL → critical; ONLINE → fine. The worse of the two
//!   wins; neither known changes nothing.
//! - `percentageUsed` (NVMe "percentage used", 0 = new), else `100 − wearout` where `wearout`
//!   is the percent of rated life *remaining* (Proxmox `/disks/list` semantics) →
//!   `disk-wearout` against `disks.wearout` (default 90/85 % used).

use serde_json::{Map, Value};

use crate::alert::{AlertKey, AlertLevel};
use crate::facet;
use crate::reducer::effects::Effects;
use crate::reducer::judge::{threshold_verdict, Finding, Verdict};
use crate::reducer::observe::Observation;
use crate::state::ResourceAlerts;

/// Evaluates the disk rules.
pub(crate) fn evaluate(entry: &mut ResourceAlerts, obs: &Observation, fx: &mut Effects) {
    let Some(disk) = facet::object(obs.resource, "physicalDisk") else {
        return;
    };
    let key = AlertKey::DiskHealth;
    let verdict = if obs.view.disabled(&key) {
        Verdict::Disabled
    } else {
        health(disk, &obs.resource.name)
    };
    obs.apply(entry, key, verdict, fx);

    let key = AlertKey::DiskWearout;
    let verdict = if obs.view.disabled(&key) {
        Verdict::Disabled
    } else {
        let used = facet::number(disk, &["percentageUsed"])
            .or_else(|| facet::number(disk, &["wearout"]).map(|left| 100.0 - left));
        match used {
            Some(used) => threshold_verdict(used, &fx.config.disks.wearout, true, || {
                obs.prior(&entry.trackers, &key)
            }),
            None => Verdict::Unknown,
        }
    };
    obs.apply(entry, key, verdict, fx);
}

/// `disk-health` from SMART and platform state.
fn health(disk: &Map<String, Value>, name: &str) -> Verdict {
    let smart = facet::text(disk, &["health"]).map(|h| {
        let failed = h
            .trim()
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("FAIL"));
        failed.then_some(AlertLevel::Critical)
    });
    let state = facet::text(disk, &["state"]).and_then(|s| {
        let word = s.trim();
        let is = |w: &str| word.eq_ignore_ascii_case(w);
        let level = if is("ONLINE") {
            None
        } else if is("DEGRADED") {
            Some(AlertLevel::Warning)
        } else if ["FAULTED", "FAILED", "OFFLINE", "REMOVED", "UNAVAIL"]
            .iter()
            .any(|w| is(w))
        {
            Some(AlertLevel::Critical)
        } else {
            return None;
        };
        Some((word, level))
    });
    if smart.is_none() && state.is_none() {
        return Verdict::Unknown;
    }
    let smart_level = smart.flatten();
    let state_level = state.and_then(|(_, level)| level);
    match smart_level.max(state_level) {
        None => Verdict::Ok,
        Some(level) if smart_level == Some(level) => Verdict::Breach(Finding::flag(
            level,
            Some(format!("Disk {name} failed its SMART health check")),
        )),
        Some(level) => {
            let word = state.map_or("", |(word, _)| word);
            Verdict::Breach(Finding::flag(
                level,
                Some(format!("Disk {name} is {}", word.to_ascii_uppercase())),
            ))
        }
    }
}
