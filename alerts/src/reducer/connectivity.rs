//! Offline and powered-off detection.
//!
//! Reads `status` and `sourceStatus.<source>.status`:
//! - `agent`, `pbs`, `pmg`, `k8s-cluster`, `k8s-node`, and `storage` without a ZFS pool state:
//!   `status: offline` → `connectivity` (critical); recovery needs `recovery.observations`
//!   consecutive non-offline observations (storage: `recovery.storageObservations`).
//!   `status: unknown` changes nothing.
//! - the same types seen by more than one source, not offline as a whole: each source whose
//!   `sourceStatus` is `offline` → `source-offline-<source>` (warning), e.g. the Docker agent of
//!   a host that Proxmox still sees.
//! - `vm`, `system-container`: `status: offline` → `powered-state` at the configured powered-off
//!   severity (not a connectivity alert); the first non-offline observation clears it.

use pulse_model::{ResourceType, Source, SourceState, Status};

use crate::alert::{AlertKey, AlertLevel};
use crate::reducer::effects::Effects;
use crate::reducer::judge::{Finding, Verdict};
use crate::reducer::observe::Observation;
use crate::reducer::storage;
use crate::state::ResourceAlerts;

/// Evaluates the offline rules that apply to the resource's type.
pub(crate) fn evaluate(entry: &mut ResourceAlerts, obs: &Observation, fx: &mut Effects) {
    match obs.resource.resource_type {
        ResourceType::Vm | ResourceType::SystemContainer => powered(entry, obs, fx),
        ResourceType::Agent
        | ResourceType::Pbs
        | ResourceType::Pmg
        | ResourceType::K8sCluster
        | ResourceType::K8sNode => {
            offline(entry, obs, fx);
            sources(entry, obs, fx);
        }
        ResourceType::Storage if !storage::has_pool_state(obs.resource) => offline(entry, obs, fx),
        _ => {}
    }
}

/// `connectivity`: the resource as a whole is offline.
fn offline(entry: &mut ResourceAlerts, obs: &Observation, fx: &mut Effects) {
    let key = AlertKey::Connectivity;
    let verdict = if obs.view.disabled(&key) {
        Verdict::Disabled
    } else {
        match obs.resource.status {
            Status::Offline => Verdict::Breach(Finding::flag(
                AlertLevel::Critical,
                (!obs.has_alert(&entry.trackers, &key))
                    .then(|| format!("{} is offline", obs.resource.name)),
            )),
            Status::Online | Status::Warning => Verdict::Ok,
            Status::Unknown => Verdict::Unknown,
        }
    };
    obs.apply(entry, key, verdict, fx);
}

/// `source-offline-<source>`: one of several sources stopped reporting.
fn sources(entry: &mut ResourceAlerts, obs: &Observation, fx: &mut Effects) {
    let resource = obs.resource;
    let watched = resource.sources.len() > 1 && resource.status != Status::Offline;
    for &source in Source::ALL {
        let key = AlertKey::SourceOffline(source);
        let down = watched
            && resource
                .source_status
                .get(&source)
                .is_some_and(|s| s.status == SourceState::Offline);
        if !down && !obs.present.may_have(&key) {
            continue;
        }
        let verdict = if obs.view.disabled(&key) {
            Verdict::Disabled
        } else if down {
            Verdict::Breach(Finding::flag(
                AlertLevel::Warning,
                (!obs.has_alert(&entry.trackers, &key))
                    .then(|| format!("{source} stopped reporting {}", resource.name)),
            ))
        } else {
            Verdict::Ok
        };
        obs.apply(entry, key, verdict, fx);
    }
}

/// `powered-state`: a guest is stopped.
fn powered(entry: &mut ResourceAlerts, obs: &Observation, fx: &mut Effects) {
    let key = AlertKey::PoweredState;
    let verdict = if obs.view.disabled(&key) {
        Verdict::Disabled
    } else {
        match obs.resource.status {
            Status::Offline => Verdict::Breach(Finding::flag(
                obs.view.powered_off_severity(),
                (!obs.has_alert(&entry.trackers, &key))
                    .then(|| format!("{} is powered off", obs.resource.name)),
            )),
            Status::Online | Status::Warning => Verdict::Ok,
            Status::Unknown => Verdict::Unknown,
        }
    };
    obs.apply(entry, key, verdict, fx);
}
