//! The SPEC §10 contract, plus the upstream bugs it exists to prevent.

use pulse_alerts::{
    apply_config, AlertConfig, AlertEvent, AlertState, NotifyKind, ResourceOverride, Signal,
    SuppressReason, Threshold, Weekday,
};
use pulse_model::{MetricKind, ResourceType};

use crate::common::*;

/// Every event that is a notification, a firing or a resolve.
fn loud(events: &[AlertEvent]) -> Vec<&AlertEvent> {
    events
        .iter()
        .filter(|e| {
            matches!(
                e,
                AlertEvent::Notify { .. } | AlertEvent::Fired { .. } | AlertEvent::Resolved { .. }
            )
        })
        .collect()
}

#[test]
fn saving_config_emits_no_event() {
    let mut engine = Engine::new(instant());
    let mut vm3 = resource("vm-3", ResourceType::Vm);
    vm3.metrics.set(MetricKind::Memory, Some(pct(95.0)));
    engine.observe(vm_cpu("vm-1", 85.0), 0);
    engine.observe(vm_cpu("vm-2", 82.0), 0);
    engine.observe(vm3.clone(), 0);
    engine.observe(vm_cpu("vm-4", 50.0), 0);
    assert_eq!(engine.active().len(), 3);
    assert_eq!(notified(&engine.log, NotifyKind::Fired).len(), 3);

    // Saving the same configuration changes nothing at all.
    let same = apply_config(engine.state.clone(), &engine.config);
    assert_eq!(same, engine.state);

    // New thresholds: CPU 90/85, memory off for vm-3.
    let mut config = engine.config.clone();
    if let Some(vm) = config.thresholds.get_mut(&ResourceType::Vm) {
        vm.cpu = Some(Threshold::new(90.0, 85.0));
    }
    config.overrides.insert(
        "vm-3".into(),
        ResourceOverride {
            disabled_alerts: vec!["memory".into()],
            ..ResourceOverride::default()
        },
    );
    engine.state = apply_config(std::mem::take(&mut engine.state), &config);
    engine.config = config;
    // vm-1 at 85 still breaches (not below clear 85); vm-2 at 82 ended silently; vm-3 memory off.
    assert_eq!(engine.active(), vec!["vm-1-cpu".to_string()]);

    // Observing the same world afterwards is silent too: no resolve, no re-fire, no notify.
    let mut after = Vec::new();
    for s in [10, 20] {
        after.extend(engine.observe(vm_cpu("vm-1", 85.0), s));
        after.extend(engine.observe(vm_cpu("vm-2", 82.0), s));
        after.extend(engine.observe(vm3.clone(), s));
        after.extend(engine.observe(vm_cpu("vm-4", 50.0), s));
        after.extend(engine.tick(s + 1));
    }
    assert!(loud(&after).is_empty(), "{after:?}");
}

#[test]
fn resolve_is_notified_exactly_once_per_firing() {
    let mut engine = Engine::new(AlertConfig::default());
    // Breach, delay 5 s, grouping 30 s.
    engine.observe(vm_cpu("vm-1", 91.0), 0);
    engine.tick(5);
    engine.tick(35);
    let fired_ids = notified(&engine.log, NotifyKind::Fired);
    assert_eq!(fired_ids.len(), 1);
    let firing = fired_ids[0]
        .trim_start_matches("vm-1-cpu:fired-")
        .to_string();
    // Recover, then keep observing and ticking: one resolve, no more.
    for s in (40..200).step_by(10) {
        engine.observe(vm_cpu("vm-1", 10.0), s);
        engine.tick(s + 5);
    }
    assert_eq!(
        notified(&engine.log, NotifyKind::Resolved),
        vec![format!("vm-1-cpu:resolved-{firing}")]
    );
    // A second firing (after the cooldown) gets its own pair of ids.
    engine.observe(vm_cpu("vm-1", 91.0), 600);
    engine.tick(606);
    engine.tick(640);
    engine.observe(vm_cpu("vm-1", 10.0), 650);
    engine.tick(690);
    let fired_ids = notified(&engine.log, NotifyKind::Fired);
    let resolved_ids = notified(&engine.log, NotifyKind::Resolved);
    assert_eq!(fired_ids.len(), 2);
    assert_eq!(resolved_ids.len(), 2);
    assert_ne!(fired_ids[0], fired_ids[1]);
    for (f, r) in fired_ids.iter().zip(&resolved_ids) {
        assert_eq!(f.replace(":fired-", ":resolved-"), *r);
    }
}

#[test]
fn firing_suppressed_by_quiet_hours_never_resolves() {
    let mut config = instant();
    config.notifications.quiet_hours.enabled = true;
    config.notifications.quiet_hours.utc_offset_minutes = 0;
    config.notifications.quiet_hours.start = 11 * 60;
    config.notifications.quiet_hours.end = 13 * 60;
    config.notifications.quiet_hours.days = Weekday::ALL.to_vec();
    let mut engine = Engine::new(config);
    let events = engine.observe(vm_cpu("vm-1", 85.0), 0); // 12:00, quiet, warning
    assert_eq!(fired(&events), vec!["vm-1-cpu"]);
    assert_eq!(suppressed(&events), vec![SuppressReason::QuietHours]);
    engine.observe(vm_cpu("vm-1", 10.0), 600);
    for s in (0..3 * 3600).step_by(600) {
        engine.tick(s);
    }
    assert!(notifies(&engine.log).is_empty(), "{:?}", engine.log);
}

#[test]
fn firing_suppressed_by_flapping_never_resolves() {
    let mut config = instant();
    config.flapping.threshold = 2;
    config.notifications.cooldown_minutes = 0;
    let mut engine = Engine::new(config);
    engine.observe(vm_cpu("vm-1", 85.0), 0); // fired, notified
    engine.observe(vm_cpu("vm-1", 10.0), 10); // resolved, notified; now flapping
    let events = engine.observe(vm_cpu("vm-1", 85.0), 20);
    assert_eq!(suppressed(&events), vec![SuppressReason::Flapping]);
    engine.observe(vm_cpu("vm-1", 10.0), 30);
    engine.tick(2000);
    assert_eq!(notified(&engine.log, NotifyKind::Fired).len(), 1);
    assert_eq!(notified(&engine.log, NotifyKind::Resolved).len(), 1);
}

#[test]
fn firing_with_notifications_off_never_resolves() {
    let mut config = instant();
    config.notifications.enabled = false;
    let mut engine = Engine::new(config);
    let events = engine.observe(vm_cpu("vm-1", 85.0), 0);
    assert_eq!(
        suppressed(&events),
        vec![SuppressReason::NotificationsDisabled]
    );
    // Notifications come back on; the firing that was never notified is not resolved loudly.
    engine.config.notifications.enabled = true;
    engine.observe(vm_cpu("vm-1", 10.0), 10);
    engine.tick(20);
    assert!(notifies(&engine.log).is_empty());
}

#[test]
fn firing_still_pending_its_delay_never_notifies() {
    let mut config = AlertConfig::default();
    config.delays.default_seconds = 60;
    let mut engine = Engine::new(config);
    engine.observe(vm_cpu("vm-1", 95.0), 0);
    engine.tick(30);
    engine.observe(vm_cpu("vm-1", 10.0), 40);
    for s in (41..400).step_by(10) {
        engine.tick(s);
    }
    assert!(fired(&engine.log).is_empty());
    assert!(resolved(&engine.log).is_empty());
    assert!(notifies(&engine.log).is_empty());
}

#[test]
fn grouped_alerts_render_one_item_each() {
    let mut engine = Engine::new(AlertConfig::default());
    for i in 0..5 {
        engine.observe(vm_cpu(&format!("vm-{i}"), 95.0), i);
    }
    for s in 5..=40 {
        engine.tick(s);
    }
    let groups = notifies(&engine.log);
    assert_eq!(groups.len(), 1, "{groups:?}");
    let (kind, items) = &groups[0];
    assert_eq!(*kind, NotifyKind::Fired);
    assert_eq!(items.len(), 5);
    let mut distinct = items.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 5);
    // The group id is its first item's id.
    let group_id = engine.log.iter().find_map(|e| match e {
        AlertEvent::Notify { event_id, .. } => Some(event_id.clone()),
        _ => None,
    });
    assert_eq!(group_id.as_ref(), items.first());
}

#[test]
fn acknowledged_alert_stops_escalating() {
    let mut config = instant();
    config.notifications.escalation.enabled = true;
    let mut engine = Engine::new(config);
    engine.observe(vm_cpu("vm-1", 85.0), 0);
    engine.observe(vm_cpu("vm-2", 85.0), 0);
    let minute = |m: i64| m * 60;
    let events = engine.tick(minute(15));
    let escalated = notified(&events, NotifyKind::Escalated);
    assert_eq!(escalated.len(), 2, "{events:?}");
    assert!(escalated[0].ends_with("-1"));
    engine.send(
        Signal::Acknowledge {
            alert_id: "vm-1-cpu".into(),
            user: "alice".into(),
        },
        t(minute(16)),
    );
    let mut later = Vec::new();
    for m in [31, 61, 90] {
        later.extend(engine.tick(minute(m)));
    }
    let escalated = notified(&later, NotifyKind::Escalated);
    assert_eq!(escalated.len(), 2, "{escalated:?}");
    assert!(escalated.iter().all(|id| id.starts_with("vm-2-cpu:")));
    // Withdrawing the acknowledgement resumes at the level now due.
    engine.send(
        Signal::Unacknowledge {
            alert_id: "vm-1-cpu".into(),
        },
        t(minute(91)),
    );
    let events = engine.tick(minute(92));
    let escalated = notified(&events, NotifyKind::Escalated);
    assert_eq!(escalated.len(), 1);
    assert!(escalated[0].starts_with("vm-1-cpu:escalated-") && escalated[0].ends_with("-3"));
}

#[test]
fn restart_with_deliveries_recorded_notifies_nothing_again() {
    let mut engine = Engine::new(instant());
    engine.observe(vm_cpu("vm-1", 85.0), 0);
    engine.observe(vm_cpu("vm-2", 95.0), 0);
    let sent: Vec<String> = notified(&engine.log, NotifyKind::Fired);
    assert_eq!(sent.len(), 2);
    for id in &sent {
        let (alert_id, event) = id.rsplit_once(':').unwrap_or_default();
        engine.send(
            Signal::Delivered {
                alert_id: alert_id.into(),
                event: event.into(),
            },
            t(1),
        );
    }
    assert_eq!(engine.state.undelivered().count(), 0);

    // Restart: persist, restore, resume.
    let json = serde_json::to_string(&engine.state).expect("serialise");
    let restored: AlertState = serde_json::from_str(&json).expect("deserialise");
    assert_eq!(restored, engine.state);
    let mut engine2 = Engine::new(engine.config.clone());
    engine2.state = restored;
    let mut events = engine2.send(Signal::Restarted, t(100));
    events.extend(engine2.observe(vm_cpu("vm-1", 85.0), 101));
    events.extend(engine2.observe(vm_cpu("vm-2", 95.0), 101));
    events.extend(engine2.tick(200));
    assert!(loud(&events).is_empty(), "{events:?}");
    assert_eq!(engine2.active(), vec!["vm-1-cpu", "vm-2-cpu"]);
}

#[test]
fn restart_re_emits_only_unconfirmed_notifications_with_their_ids() {
    let mut engine = Engine::new(instant());
    engine.observe(vm_cpu("vm-1", 85.0), 0);
    engine.observe(vm_cpu("vm-2", 85.0), 0);
    let sent = notified(&engine.log, NotifyKind::Fired);
    let (alert_id, event) = sent[0].rsplit_once(':').unwrap_or_default();
    engine.send(
        Signal::Delivered {
            alert_id: alert_id.into(),
            event: event.into(),
        },
        t(1),
    );
    let json = serde_json::to_vec(&engine.state).expect("serialise");
    let mut engine2 = Engine::new(engine.config.clone());
    engine2.state = serde_json::from_slice(&json).expect("deserialise");
    let events = engine2.send(Signal::Restarted, t(100));
    assert_eq!(notified(&events, NotifyKind::Fired), vec![sent[1].clone()]);
}

#[test]
fn disabling_then_re_enabling_a_rule_works_again() {
    let mut engine = Engine::new(instant());
    engine.observe(vm_cpu("vm-1", 85.0), 0);
    assert_eq!(notified(&engine.log, NotifyKind::Fired).len(), 1);

    let enabled = engine.config.clone();
    let mut disabled = enabled.clone();
    disabled.overrides.insert(
        "vm-1".into(),
        ResourceOverride {
            disabled_alerts: vec!["cpu".into()],
            ..ResourceOverride::default()
        },
    );
    engine.state = apply_config(std::mem::take(&mut engine.state), &disabled);
    engine.config = disabled;
    assert!(engine.active().is_empty());
    let quiet = engine.observe(vm_cpu("vm-1", 85.0), 10);
    assert!(quiet.is_empty(), "{quiet:?}");

    engine.state = apply_config(std::mem::take(&mut engine.state), &enabled);
    engine.config = enabled;
    let events = engine.observe(vm_cpu("vm-1", 85.0), 20);
    assert_eq!(fired(&events), vec!["vm-1-cpu"]);
    assert_eq!(notified(&events, NotifyKind::Fired).len(), 1);

    // The same through `next` alone, with the switch on the whole family.
    engine.config.disable_all.guests = true;
    assert!(engine.observe(vm_cpu("vm-1", 85.0), 30).is_empty());
    assert!(engine.active().is_empty());
    engine.config.disable_all.guests = false;
    let events = engine.observe(vm_cpu("vm-1", 85.0), 40);
    assert_eq!(notified(&events, NotifyKind::Fired).len(), 1);
}

#[test]
fn a_rule_switched_off_while_pending_never_fires() {
    let mut engine = Engine::new(AlertConfig::default()); // 5 s delay
    engine.observe(vm_cpu("vm-1", 95.0), 0);
    engine.config.overrides.insert(
        "vm-1".into(),
        ResourceOverride {
            disabled: true,
            ..ResourceOverride::default()
        },
    );
    for s in 1..60 {
        engine.tick(s);
    }
    assert!(loud(&engine.log).is_empty(), "{:?}", engine.log);
}
