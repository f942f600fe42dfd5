//! Alert state, history and the delivery queue: one commit, durable across reopen, idempotent
//! enqueue, due index moves with each attempt.

use std::collections::HashSet;

use pulse_alerts::{AlertConfig, AlertEvent, AlertState, Signal};
use pulse_model::{
    CompactIdentity, MetricKind, MetricValue, Metrics, Resource, ResourceType, Source, Status,
    Timestamp,
};

use crate::notify::queue::{AttemptFailure, FailureClass};
use crate::notify::{Channel, Delivery, DeliveryStatus};
use crate::store::{AlertHistoryEntry, AlertStore, HistoryFilter, QueueStore, Store};

fn vm(id: &str, cpu: f64) -> Resource {
    Resource {
        id: id.into(),
        resource_type: ResourceType::Vm,
        name: format!("{id}-name"),
        status: Status::Online,
        last_seen: Timestamp::from_millis(1_000),
        updated_at: Timestamp::from_millis(1_000),
        sources: vec![Source::Proxmox],
        source_status: Default::default(),
        identity: CompactIdentity::default(),
        metrics: Metrics::new().with(
            MetricKind::Cpu,
            Some(MetricValue {
                value: Some(cpu),
                percent: Some(cpu),
                unit: "percent".into(),
                ..MetricValue::default()
            }),
        ),
        parent_id: None,
        tags: Vec::new(),
        uptime: None,
        temperature: None,
        facets: Default::default(),
    }
}

/// A state with one firing CPU alert, and the events that fired it.
fn firing() -> (AlertState, Vec<AlertEvent>) {
    let mut config = AlertConfig::default();
    config.delays.default_seconds = 0;
    config.delays.by_type.clear();
    config.notifications.grouping.enabled = false;
    let mut state = AlertState::new();
    let signal = Signal::Observed {
        resource: Box::new(vm("vm-1", 97.0)),
    };
    let mut events = state.step(&signal, &config, Timestamp::from_millis(10_000));
    events.extend(state.step(&Signal::Tick, &config, Timestamp::from_millis(11_000)));
    (state, events)
}

#[test]
fn state_history_and_deliveries_commit_together_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (state, events) = firing();
    assert_eq!(state.active_alerts().count(), 1, "{events:?}");
    let alert = state.active_alerts().next().unwrap().clone();
    let entry = AlertHistoryEntry {
        event: "fired".into(),
        at: 10_000,
        alert: alert.clone(),
        previous_level: None,
        escalation_level: None,
    };
    let delivery = Delivery::new(
        "default",
        Channel::Webhook { id: "w".into() },
        pulse_alerts::NotifyKind::Fired,
        alert.event_id("fired-1"),
        Vec::new(),
        10_000,
    );
    {
        let store = Store::open(dir.path()).unwrap();
        let fresh = store
            .commit_alert_step(
                "default",
                Some(&state),
                std::slice::from_ref(&entry),
                std::slice::from_ref(&delivery),
            )
            .unwrap();
        assert_eq!(fresh, vec![delivery.id.clone()]);
        // The same delivery again is not queued twice.
        let again = store
            .commit_alert_step("default", None, &[], std::slice::from_ref(&delivery))
            .unwrap();
        assert!(again.is_empty());
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.load_alert_state("default").unwrap(), Some(state));
    assert_eq!(store.load_alert_state("other").unwrap(), None);
    let history = store
        .alert_history(
            "default",
            &HistoryFilter {
                limit: 10,
                ..HistoryFilter::default()
            },
        )
        .unwrap();
    assert_eq!(history, vec![entry]);
    let filtered = store
        .alert_history(
            "default",
            &HistoryFilter {
                limit: 10,
                resource_id: Some("vm-2".into()),
                ..HistoryFilter::default()
            },
        )
        .unwrap();
    assert!(filtered.is_empty());
    let due = store
        .due_deliveries("default", 10_000, 10, &HashSet::new())
        .unwrap();
    assert_eq!(due, vec![delivery]);
    assert_eq!(store.queue_stats("default").unwrap().pending, 1);
}

/// `state` as the alert state format 1 stored it: no `version`, restart samples inside the
/// entries, and an entry (facts only) for every resource observed, alerting or not.
fn as_format_1(state: &AlertState, quiet: &[&str]) -> serde_json::Value {
    let mut doc = serde_json::to_value(state).unwrap();
    let object = doc.as_object_mut().unwrap();
    assert_eq!(object.remove("version"), Some(serde_json::json!(2)));
    let restarts = object.remove("restarts").unwrap();
    let resources = object["resources"].as_object_mut().unwrap();
    for id in quiet {
        resources.insert(
            (*id).to_owned(),
            serde_json::json!({"meta": {"id": id, "name": id, "resourceType": "vm"},
                               "trackers": [], "restarts": []}),
        );
    }
    for (id, samples) in restarts.as_object().unwrap() {
        resources.insert(
            id.clone(),
            serde_json::json!({"meta": {"id": id, "name": id, "resourceType": "app-container"},
                               "trackers": [], "restarts": samples}),
        );
    }
    doc
}

#[test]
fn alert_state_stored_in_format_1_loads_and_is_rewritten_smaller() {
    let dir = tempfile::tempdir().unwrap();
    let (mut state, _) = firing();
    let mut container = vm("ct-1", 1.0);
    container.resource_type = ResourceType::AppContainer;
    container.metrics = Metrics::default();
    container.facets.insert(
        "docker".into(),
        serde_json::json!({"state": "running", "restartCount": 4}),
    );
    let signal = Signal::Observed {
        resource: Box::new(container),
    };
    state.step(
        &signal,
        &AlertConfig::default(),
        Timestamp::from_millis(12_000),
    );
    assert_eq!(
        (state.tracked_resources(), state.restart_histories()),
        (1, 1)
    );
    let quiet: Vec<String> = (0..50).map(|i| format!("vm-quiet-{i}")).collect();
    let quiet: Vec<&str> = quiet.iter().map(String::as_str).collect();
    let old = crate::store::codec::encode(&as_format_1(&state, &quiet)).unwrap();
    let store = Store::open(dir.path()).unwrap();
    let tree = store.tree(crate::store::sled_store::Tree::AlertState);
    tree.insert("default", old.as_slice()).unwrap();
    let loaded = store.load_alert_state("default").unwrap().unwrap();
    assert_eq!(loaded, state);
    assert_eq!(loaded.restart_histories(), 1);
    store
        .commit_alert_step("default", Some(&loaded), &[], &[])
        .unwrap();
    let new = tree.get("default").unwrap().unwrap();
    assert!(new.len() < old.len(), "{} ≥ {}", new.len(), old.len());
    assert_eq!(store.load_alert_state("default").unwrap(), Some(state));
}

#[test]
fn attempts_move_the_due_index_and_dead_letters_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut d = Delivery::new(
        "org-a",
        Channel::Email,
        pulse_alerts::NotifyKind::Fired,
        "x:fired-1".into(),
        Vec::new(),
        1_000,
    );
    store
        .commit_alert_step("org-a", None, &[], &[d.clone()])
        .unwrap();
    let before = d.next_attempt_at;
    d.failed(
        &AttemptFailure::new(FailureClass::Connectivity, "refused"),
        1_000,
    );
    store.update_delivery(&d, Some(before)).unwrap();
    assert!(store
        .due_deliveries("org-a", 1_500, 10, &HashSet::new())
        .unwrap()
        .is_empty());
    assert_eq!(store.next_due_at("org-a").unwrap(), Some(2_000));
    assert_eq!(
        store
            .due_deliveries("org-a", 2_000, 10, &HashSet::new())
            .unwrap()
            .len(),
        1
    );
    let before = d.next_attempt_at;
    d.failed(&AttemptFailure::new(FailureClass::Rejected, "550"), 2_000);
    store.update_delivery(&d, Some(before)).unwrap();
    assert_eq!(store.next_due_at("org-a").unwrap(), None);
    let dlq = store
        .list_deliveries("org-a", DeliveryStatus::Dlq, 10)
        .unwrap();
    assert_eq!(dlq.len(), 1);
    assert_eq!(store.queue_stats("org-a").unwrap().dlq, 1);
    assert!(store
        .list_deliveries("org-b", DeliveryStatus::Dlq, 10)
        .unwrap()
        .is_empty());
    // Purged only after the retention.
    assert_eq!(store.purge_deliveries("org-a", 3_000).unwrap(), 0);
    assert_eq!(
        store
            .purge_deliveries("org-a", 3_000 + crate::store::queue::KEEP_DLQ_MS)
            .unwrap(),
        1
    );
}

#[test]
fn history_is_pruned_by_age_and_count() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (state, _) = firing();
    let alert = state.active_alerts().next().unwrap().clone();
    let entries: Vec<AlertHistoryEntry> = (0..10)
        .map(|i| AlertHistoryEntry {
            event: "fired".into(),
            at: 1_000 * i,
            alert: alert.clone(),
            previous_level: None,
            escalation_level: None,
        })
        .collect();
    store.commit_alert_step("o", None, &entries, &[]).unwrap();
    assert_eq!(store.prune_alert_history("o", 3_000, 100).unwrap(), 3);
    assert_eq!(store.prune_alert_history("o", 0, 5).unwrap(), 2);
    let left = store
        .alert_history(
            "o",
            &HistoryFilter {
                limit: 100,
                ..HistoryFilter::default()
            },
        )
        .unwrap();
    assert_eq!(
        left.iter().map(|e| e.at).collect::<Vec<_>>(),
        [9_000, 8_000, 7_000, 6_000, 5_000]
    );
    let since = store
        .alert_history(
            "o",
            &HistoryFilter {
                limit: 100,
                since: Some(8_000),
                ..HistoryFilter::default()
            },
        )
        .unwrap();
    assert_eq!(since.len(), 2);
}

#[test]
fn ten_thousand_pending_deliveries_are_read_in_bounded_batches() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let deliveries: Vec<Delivery> = (0..10_000)
        .map(|i| {
            Delivery::new(
                "default",
                Channel::Webhook { id: "w".into() },
                pulse_alerts::NotifyKind::Fired,
                format!("host-{i}-cpu:fired-1"),
                Vec::new(),
                1_000 + i64::from(i % 100),
            )
        })
        .collect();
    for chunk in deliveries.chunks(1000) {
        store
            .commit_alert_step("default", None, &[], chunk)
            .unwrap();
    }
    assert_eq!(store.queue_stats("default").unwrap().pending, 10_000);
    // A pump takes only as many as it has slots for, earliest first, skipping those in flight.
    let first = store
        .due_deliveries("default", 5_000, 16, &HashSet::new())
        .unwrap();
    assert_eq!(first.len(), 16);
    assert!(first
        .windows(2)
        .all(|w| w[0].next_attempt_at <= w[1].next_attempt_at));
    let busy: HashSet<String> = first.iter().map(|d| d.id.clone()).collect();
    let next = store.due_deliveries("default", 5_000, 16, &busy).unwrap();
    assert_eq!(next.len(), 16);
    assert!(next.iter().all(|d| !busy.contains(&d.id)));
    // Nothing is due before its time.
    assert!(store
        .due_deliveries("default", 999, 16, &HashSet::new())
        .unwrap()
        .is_empty());
    assert_eq!(store.next_due_at("default").unwrap(), Some(1_000));
}
