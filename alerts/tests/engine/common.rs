//! Shared helpers for the integration tests: resources, configs, an engine driver.

use pulse_alerts::{
    AlertConfig, AlertEvent, AlertState, NativeAlert, NotifyKind, Signal, SuppressReason,
};
use pulse_model::{
    CompactIdentity, MetricKind, MetricValue, Metrics, Resource, ResourceType, Source, SourceState,
    SourceStatusEntry, Status, Timestamp,
};
use serde_json::Value;

/// 2026-01-07 (a Wednesday) 12:00:00 UTC.
pub const BASE_MS: i64 = 1_767_787_200_000;

/// `BASE + s` seconds.
pub fn t(s: i64) -> Timestamp {
    Timestamp::from_millis(BASE_MS + s * 1000)
}

/// A minimal online resource.
pub fn resource(id: &str, resource_type: ResourceType) -> Resource {
    Resource {
        id: id.into(),
        resource_type,
        name: format!("{id}-name"),
        status: Status::Online,
        last_seen: t(0),
        updated_at: t(0),
        sources: vec![Source::Proxmox],
        source_status: Default::default(),
        identity: CompactIdentity::default(),
        metrics: Metrics::default(),
        parent_id: None,
        tags: Vec::new(),
        uptime: None,
        temperature: None,
        facets: Default::default(),
    }
}

/// A percent metric.
pub fn pct(value: f64) -> MetricValue {
    MetricValue {
        value: Some(value),
        percent: Some(value),
        unit: "percent".into(),
        ..MetricValue::default()
    }
}

/// A VM with the given CPU percent.
pub fn vm_cpu(id: &str, cpu: f64) -> Resource {
    let mut r = resource(id, ResourceType::Vm);
    r.metrics.set(MetricKind::Cpu, Some(pct(cpu)));
    r
}

/// The resource with `status`.
pub fn with_status(mut r: Resource, status: Status) -> Resource {
    r.status = status;
    r
}

/// The resource with facet `key` set to `value`.
pub fn with_facet(mut r: Resource, key: &str, value: Value) -> Resource {
    r.facets.insert(key.into(), value);
    r
}

/// The resource seen by `sources`, with per-source states.
pub fn with_sources(mut r: Resource, sources: &[(Source, SourceState)]) -> Resource {
    r.sources = sources.iter().map(|(s, _)| *s).collect();
    r.source_status = sources
        .iter()
        .map(|(s, state)| {
            (
                *s,
                SourceStatusEntry {
                    status: *state,
                    last_seen: t(0),
                    error: None,
                },
            )
        })
        .collect();
    r
}

/// Defaults without time delay and without grouping, so effects are immediate.
pub fn instant() -> AlertConfig {
    let mut config = AlertConfig::default();
    config.delays.default_seconds = 0;
    config.notifications.grouping.enabled = false;
    config
}

/// `Signal::Observed`.
pub fn observed(r: Resource) -> Signal {
    Signal::Observed {
        resource: Box::new(r),
    }
}

/// A native alert.
pub fn native(id: &str, level: &str) -> NativeAlert {
    NativeAlert {
        id: id.into(),
        level: level.into(),
        message: format!("native {id}"),
        source: "VolumeStatus".into(),
        dismissed: false,
    }
}

/// Drives the reducer and records everything.
pub struct Engine {
    /// The state.
    pub state: AlertState,
    /// The configuration.
    pub config: AlertConfig,
    /// Every event so far.
    pub log: Vec<AlertEvent>,
}

impl Engine {
    /// A fresh engine with `config`.
    pub fn new(config: AlertConfig) -> Self {
        Engine {
            state: AlertState::new(),
            config,
            log: Vec::new(),
        }
    }

    /// Feeds `signal` at `now`; returns its events.
    pub fn send(&mut self, signal: Signal, now: Timestamp) -> Vec<AlertEvent> {
        let state = std::mem::take(&mut self.state);
        let (state, events) = pulse_alerts::next(state, &signal, &self.config, now);
        self.state = state;
        self.log.extend(events.iter().cloned());
        events
    }

    /// Observes `r` at second `s`.
    pub fn observe(&mut self, r: Resource, s: i64) -> Vec<AlertEvent> {
        self.send(observed(r), t(s))
    }

    /// Ticks at second `s`.
    pub fn tick(&mut self, s: i64) -> Vec<AlertEvent> {
        self.send(Signal::Tick, t(s))
    }

    /// The `Delivered` confirmation of the oldest undelivered notification item, if any.
    pub fn deliver_oldest(&self) -> Option<Signal> {
        let item = self.state.undelivered().next()?;
        let (alert_id, event) = item.event_id.rsplit_once(':')?;
        Some(Signal::Delivered {
            alert_id: alert_id.into(),
            event: event.into(),
        })
    }

    /// Ids of the firing alerts, sorted.
    pub fn active(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.state.active_alerts().map(|a| a.id.clone()).collect();
        ids.sort();
        ids
    }
}

/// The notifications among `events`: kind and item event ids.
pub fn notifies(events: &[AlertEvent]) -> Vec<(NotifyKind, Vec<String>)> {
    events
        .iter()
        .filter_map(|e| match e {
            AlertEvent::Notify { kind, items, .. } => {
                Some((*kind, items.iter().map(|i| i.event_id.clone()).collect()))
            }
            _ => None,
        })
        .collect()
}

/// Item event ids of notifications of `kind`.
pub fn notified(events: &[AlertEvent], kind: NotifyKind) -> Vec<String> {
    notifies(events)
        .into_iter()
        .filter(|(k, _)| *k == kind)
        .flat_map(|(_, ids)| ids)
        .collect()
}

/// Ids of the alerts in events of one variant, chosen by `pick`.
pub fn ids(
    events: &[AlertEvent],
    pick: fn(&AlertEvent) -> Option<&pulse_alerts::Alert>,
) -> Vec<String> {
    events
        .iter()
        .filter_map(pick)
        .map(|a| a.id.clone())
        .collect()
}

/// Ids of fired alerts.
pub fn fired(events: &[AlertEvent]) -> Vec<String> {
    ids(events, |e| match e {
        AlertEvent::Fired { alert } => Some(alert),
        _ => None,
    })
}

/// Ids of resolved alerts.
pub fn resolved(events: &[AlertEvent]) -> Vec<String> {
    ids(events, |e| match e {
        AlertEvent::Resolved { alert } => Some(alert),
        _ => None,
    })
}

/// Suppression reasons among `events`.
pub fn suppressed(events: &[AlertEvent]) -> Vec<SuppressReason> {
    events
        .iter()
        .filter_map(|e| match e {
            AlertEvent::Suppressed { reason, .. } => Some(*reason),
            _ => None,
        })
        .collect()
}
