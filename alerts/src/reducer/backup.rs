//! Backups: PBS job failures and the age of a guest's newest backup.
//!
//! Reads:
//! - on any resource, `pbs.jobs: [{id, type, store, lastRunState, lastRunEndtime, enabled}]`
//!   (PBS job configs joined with their last task; `last-run-state` is accepted too).
//!   `lastRunState` is the PBS task status: `OK` (any case) or `WARNINGS: n` is success,
//!   anything else is the failure text. A failed, enabled job → `pbs-job-<id>` at
//!   `pbsJobs.severity`; a later success, a disabled job or a job that disappears resolves it.
//! - on `vm` / `system-container`, when `backups.enabled`: `proxmox.lastBackup`, else
//!   `pbs.lastBackup` — the time of the guest's newest backup on any storage, as unix seconds
//!   (or milliseconds, or RFC 3339). Older than `backups.warningHours` → `backup-age` warning,
//!   than `criticalHours` → critical. A guest without the field gets no backup-age alert.

use pulse_model::Timestamp;
use serde_json::{Map, Value};

use crate::alert::{AlertKey, AlertLevel};
use crate::facet;
use crate::reducer::effects::Effects;
use crate::reducer::judge::{threshold_for, threshold_verdict, Finding, Verdict};
use crate::reducer::observe::Observation;
use crate::state::ResourceAlerts;

/// Milliseconds per hour.
const HOUR_MS: f64 = 3_600_000.0;

/// Evaluates `backup-age` of a guest.
pub(crate) fn evaluate_age(entry: &mut ResourceAlerts, obs: &Observation, fx: &mut Effects) {
    let key = AlertKey::BackupAge;
    if obs.view.disabled(&key) {
        obs.apply(entry, key, Verdict::Disabled, fx);
        return;
    }
    let Some((threshold, percent)) = threshold_for(&key, &obs.view, None) else {
        return;
    };
    let last = ["proxmox", "pbs"]
        .iter()
        .find_map(|k| facet::time(facet::object(obs.resource, k)?, &["lastBackup"]));
    let verdict = match last {
        Some(last) => {
            let hours = age_hours(last, fx.now);
            threshold_verdict(hours, &threshold, percent, || {
                obs.prior(&entry.trackers, &key)
            })
        }
        None => Verdict::Unknown,
    };
    obs.apply(entry, key, verdict, fx);
}

/// Evaluates `pbs-job-<id>` for every job the resource reports.
pub(crate) fn evaluate_jobs(entry: &mut ResourceAlerts, obs: &Observation, fx: &mut Effects) {
    let jobs = facet::object(obs.resource, "pbs")
        .and_then(|pbs| pbs.get("jobs"))
        .and_then(Value::as_array);
    let tracked = entry
        .trackers
        .iter()
        .any(|t| matches!(t.key, AlertKey::PbsJob(_)));
    if jobs.is_none() && !tracked {
        return;
    }
    let disabled = obs.view.disabled(&AlertKey::PbsJob(String::new()));
    let mut seen: Vec<&str> = Vec::new();
    for job in jobs.into_iter().flatten().filter_map(Value::as_object) {
        let Some(id) = facet::text(job, &["id"]) else {
            continue;
        };
        seen.push(id);
        let verdict = if disabled {
            Verdict::Disabled
        } else {
            job_verdict(job, id, &obs.resource.name, fx.config.pbs_jobs.severity)
        };
        let key = AlertKey::PbsJob(id.to_owned());
        obs.apply(entry, key, verdict, fx);
    }
    let gone: Vec<AlertKey> = entry
        .trackers
        .iter()
        .filter(|t| matches!(&t.key, AlertKey::PbsJob(id) if !seen.contains(&id.as_str())))
        .map(|t| t.key.clone())
        .collect();
    for key in gone {
        let verdict = if disabled {
            Verdict::Disabled
        } else {
            Verdict::Ok
        };
        obs.apply(entry, key, verdict, fx);
    }
}

/// The verdict about one PBS job.
fn job_verdict(job: &Map<String, Value>, id: &str, name: &str, level: AlertLevel) -> Verdict {
    if facet::flag(job, &["enabled"]) == Some(false) {
        return Verdict::Ok;
    }
    let Some(state) = facet::text(job, &["lastRunState", "last-run-state"]) else {
        return Verdict::Ok;
    };
    let state = state.trim();
    let ok = state.eq_ignore_ascii_case("ok")
        || state
            .get(..8)
            .is_some_and(|p| p.eq_ignore_ascii_case("WARNINGS"));
    if ok {
        return Verdict::Ok;
    }
    let job_type = facet::text(job, &["type"]).unwrap_or("backup");
    let mut finding = Finding::flag(
        level,
        Some(format!("PBS {job_type} job {id} on {name} failed: {state}")),
    );
    finding.source = Some(job_type.to_owned());
    Verdict::Breach(finding)
}

/// Hours from `last` to `now` (never negative).
fn age_hours(last: Timestamp, now: Timestamp) -> f64 {
    now.millis_since(last) as f64 / HOUR_MS
}
