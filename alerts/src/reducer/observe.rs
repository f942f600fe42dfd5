//! `Signal::Observed`: refresh what is known about the resource, then run every rule family
//! that applies to its type.

use pulse_model::{Resource, ResourceType, Status};

use crate::alert::{AlertKey, AlertLevel};
use crate::facet;
use crate::reducer::effects::Effects;
use crate::reducer::judge::Verdict;
use crate::reducer::lifecycle::{apply, forget_all, has_alert, next_due, prior};
use crate::reducer::view::RuleView;
use crate::reducer::{backup, connectivity, disk, docker, metric, storage};
use crate::state::{Entries, ResourceAlerts, ResourceMeta, RestartLog, Tracker};

/// One observation of a resource, as the rule families see it.
pub(crate) struct Observation<'a> {
    /// The resource.
    pub resource: &'a Resource,
    /// The configuration for it.
    pub view: RuleView<'a>,
    /// Whether it is offline (then metric alerts resolve).
    pub offline: bool,
    /// The alert keys the resource had trackers for when the observation began.
    pub present: KeySet,
}

impl Observation<'_> {
    /// Applies a rule's verdict about `key`. Each key is judged at most once per observation,
    /// so a key absent at the start has no tracker unless this verdict creates one: verdicts
    /// other than a breach about such a key change nothing and are skipped without a search.
    pub fn apply(
        &self,
        entry: &mut ResourceAlerts,
        key: AlertKey,
        verdict: Verdict,
        fx: &mut Effects,
    ) {
        if !matches!(verdict, Verdict::Breach(_)) && !self.present.may_have(&key) {
            return;
        }
        apply(
            &entry.meta,
            &mut entry.trackers,
            key,
            verdict,
            &self.view,
            fx,
        );
    }

    /// Whether `key` is pending or firing (then a breach need not rebuild its message).
    pub fn has_alert(&self, trackers: &[Tracker], key: &AlertKey) -> bool {
        self.present.may_have(key) && has_alert(trackers, key)
    }

    /// The level of `key`'s firing (or cleared) alert, for hysteresis.
    pub fn prior(&self, trackers: &[Tracker], key: &AlertKey) -> Option<AlertLevel> {
        if self.present.may_have(key) {
            prior(trackers, key)
        } else {
            None
        }
    }
}

/// A set of alert keys: one bit per fixed key, one flag for all parameterised ones (PBS jobs,
/// native alerts), which are always searched.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct KeySet {
    /// Fixed keys, by [`bit`].
    bits: u32,
    /// Whether any parameterised key is in the set.
    dynamic: bool,
}

impl KeySet {
    /// The keys of `trackers`.
    pub fn of(trackers: &[Tracker]) -> Self {
        trackers.iter().fold(KeySet::default(), |mut set, tracker| {
            match bit(&tracker.key) {
                Some(b) => set.bits |= b,
                None => set.dynamic = true,
            }
            set
        })
    }

    /// Whether `key` may be in the set (exact for fixed keys).
    pub fn may_have(&self, key: &AlertKey) -> bool {
        match bit(key) {
            Some(b) => self.bits & b != 0,
            None => self.dynamic,
        }
    }
}

/// The bit of a fixed key (30 of them), `None` for parameterised keys.
fn bit(key: &AlertKey) -> Option<u32> {
    let index = match key {
        AlertKey::Metric(kind) => *kind as u32,
        AlertKey::Connectivity => 9,
        AlertKey::SourceOffline(source) => 10 + source.index() as u32,
        AlertKey::PoweredState => 17,
        AlertKey::ContainerState => 18,
        AlertKey::ContainerHealth => 19,
        AlertKey::RestartLoop => 20,
        AlertKey::OomKill => 21,
        AlertKey::MemoryLimit => 22,
        AlertKey::ServiceGap => 23,
        AlertKey::PoolState => 24,
        AlertKey::VdevErrors => 25,
        AlertKey::ScanErrors => 26,
        AlertKey::DiskHealth => 27,
        AlertKey::DiskWearout => 28,
        AlertKey::BackupAge => 29,
        AlertKey::PbsJob(_) | AlertKey::Native(_) => return None,
    };
    Some(1 << index)
}

/// Evaluates every rule about `resource`. A resource without an entry gets one only if the
/// evaluation leaves it with something to keep (a breach, or an agent); an entry left with
/// nothing is dropped. `spare` is an empty entry to evaluate in when there is none (it keeps
/// its string buffers, so a quiet observation allocates nothing).
pub(crate) fn observe(
    resources: &mut Entries,
    restarts: &mut RestartLog,
    spare: &mut Option<ResourceAlerts>,
    resource: &Resource,
    fx: &mut Effects,
) {
    match resources.get_mut(&resource.id) {
        Some(entry) => {
            if evaluate(entry, restarts, resource, fx) {
                fx.touch();
            }
            if !entry.worth_keeping() {
                resources.remove(&resource.id);
                fx.touch();
            }
        }
        None => {
            let mut entry = match spare.take() {
                Some(mut entry) => {
                    entry.meta.reset(&resource.id);
                    entry
                }
                None => ResourceAlerts::new(ResourceMeta::bare(&resource.id)),
            };
            evaluate(&mut entry, restarts, resource, fx);
            if entry.worth_keeping() {
                resources.insert(resource.id.clone(), entry);
                fx.touch();
            } else {
                // Nothing to keep: no trackers, hence no due time either.
                *spare = Some(entry);
            }
        }
    }
}

/// Evaluates every rule about `resource`, whose engine state is `entry`. Returns whether the
/// copied facts changed (the caller decides whether that is a change of the state: not for an
/// entry it then drops).
fn evaluate(
    entry: &mut ResourceAlerts,
    restarts: &mut RestartLog,
    resource: &Resource,
    fx: &mut Effects,
) -> bool {
    let refreshed = refresh(&mut entry.meta, &mut entry.trackers, resource);
    let view = RuleView::for_meta(fx.config, &entry.meta);
    if view.all_disabled() {
        forget_all(&entry.meta, &mut entry.trackers, fx);
        if restarts.remove(resource.id.as_str()).is_some() {
            fx.touch();
        }
        if entry.set_due(None) {
            fx.touch();
        }
        return refreshed;
    }
    let obs = Observation {
        resource,
        view,
        offline: resource.status == Status::Offline,
        present: KeySet::of(&entry.trackers),
    };
    metric::evaluate(entry, &obs, fx);
    connectivity::evaluate(entry, &obs, fx);
    match resource.resource_type {
        ResourceType::AppContainer => docker::evaluate_container(entry, restarts, &obs, fx),
        ResourceType::DockerService => docker::evaluate_service(entry, &obs, fx),
        ResourceType::Storage => storage::evaluate(entry, &obs, fx),
        ResourceType::PhysicalDisk => disk::evaluate(entry, &obs, fx),
        ResourceType::Vm | ResourceType::SystemContainer => backup::evaluate_age(entry, &obs, fx),
        _ => {}
    }
    backup::evaluate_jobs(entry, &obs, fx);
    if entry.set_due(next_due(&entry.trackers, &obs.view)) {
        fx.touch();
    }
    refreshed
}

/// Updates the copied resource facts (name, type, Proxmox node/instance, disk type) when they
/// changed, renaming the resource on its alerts too. Returns whether anything changed.
fn refresh(meta: &mut ResourceMeta, trackers: &mut [Tracker], resource: &Resource) -> bool {
    let mut changed = false;
    if meta.name != resource.name {
        meta.name.clone_from(&resource.name);
        for tracker in trackers.iter_mut() {
            if let Some(alert) = tracker.firing_alert_mut() {
                alert.resource_name.clone_from(&resource.name);
            }
        }
        changed = true;
    }
    if meta.resource_type != Some(resource.resource_type) {
        meta.resource_type = Some(resource.resource_type);
        changed = true;
    }
    let proxmox = facet::object(resource, "proxmox");
    let node = proxmox.and_then(|p| facet::text(p, &["node"]));
    if meta.node.as_deref() != node {
        meta.node = node.map(str::to_owned);
        changed = true;
    }
    let instance = proxmox.and_then(|p| facet::text(p, &["instance"]));
    if meta.instance.as_deref() != instance {
        meta.instance = instance.map(str::to_owned);
        changed = true;
    }
    if resource.resource_type == ResourceType::PhysicalDisk {
        let disk_type = facet::object(resource, "physicalDisk")
            .and_then(|d| facet::text(d, &["type"]))
            .map(str::to_ascii_lowercase);
        if meta.disk_type != disk_type {
            meta.disk_type = disk_type;
            changed = true;
        }
    }
    changed
}
