//! Notification policies: cooldown, hourly cap, quiet hours, flapping, grouping, escalation.

use pulse_alerts::{AlertConfig, AlertEvent, NotifyKind, SuppressReason, Weekday};

use crate::common::*;

/// Quiet hours 11:00–13:00 UTC every day (the tests start at 12:00).
fn quiet_noon(mut config: AlertConfig) -> AlertConfig {
    let quiet = &mut config.notifications.quiet_hours;
    quiet.enabled = true;
    quiet.utc_offset_minutes = 0;
    quiet.start = 11 * 60;
    quiet.end = 13 * 60;
    quiet.days = Weekday::ALL.to_vec();
    config
}

#[test]
fn cooldown_holds_a_refiring_then_releases_it() {
    let mut engine = Engine::new(instant()); // cooldown 5 min
    engine.observe(vm_cpu("vm-1", 85.0), 0);
    engine.observe(vm_cpu("vm-1", 10.0), 10);
    let events = engine.observe(vm_cpu("vm-1", 85.0), 20);
    assert_eq!(fired(&events), vec!["vm-1-cpu"]);
    assert_eq!(suppressed(&events), vec![SuppressReason::Cooldown]);
    assert!(notified(&engine.tick(299), NotifyKind::Fired).is_empty());
    let events = engine.tick(300);
    assert_eq!(notified(&events, NotifyKind::Fired).len(), 1);
    // A re-firing that resolves while held is never notified, nor its resolve.
    engine.observe(vm_cpu("vm-1", 10.0), 310);
    engine.observe(vm_cpu("vm-1", 85.0), 320);
    engine.observe(vm_cpu("vm-1", 10.0), 330);
    engine.tick(1000);
    assert_eq!(notified(&engine.log, NotifyKind::Fired).len(), 2);
    assert_eq!(notified(&engine.log, NotifyKind::Resolved).len(), 2);
}

#[test]
fn hourly_cap_per_alert() {
    let mut config = instant();
    config.notifications.cooldown_minutes = 0;
    config.notifications.max_per_hour = 2;
    config.flapping.enabled = false;
    let mut engine = Engine::new(config);
    for i in 0..3 {
        engine.observe(vm_cpu("vm-1", 85.0), i * 100);
        engine.observe(vm_cpu("vm-1", 10.0), i * 100 + 50);
    }
    let events = engine.observe(vm_cpu("vm-1", 85.0), 400);
    assert_eq!(suppressed(&events), vec![SuppressReason::RateLimit]);
    assert_eq!(notified(&engine.log, NotifyKind::Fired).len(), 2);
    // Once the first notification is an hour old, the held one goes out.
    let events = engine.tick(3600);
    assert_eq!(notified(&events, NotifyKind::Fired).len(), 1);
}

#[test]
fn quiet_hours_let_critical_through_and_release_warnings_after() {
    let mut engine = Engine::new(quiet_noon(instant()));
    let events = engine.observe(vm_cpu("vm-crit", 95.0), 0);
    assert_eq!(notified(&events, NotifyKind::Fired).len(), 1);
    let events = engine.observe(vm_cpu("vm-warn", 85.0), 0);
    assert_eq!(suppressed(&events), vec![SuppressReason::QuietHours]);
    assert!(notifies(&events).is_empty());
    assert!(notifies(&engine.tick(3599)).is_empty());
    // 13:00: quiet hours end, the still-firing warning goes out.
    let events = engine.tick(3600);
    assert_eq!(notified(&events, NotifyKind::Fired).len(), 1);
    assert!(notified(&events, NotifyKind::Fired)[0].starts_with("vm-warn-cpu:fired-"));
}

#[test]
fn quiet_hours_hold_resolves_of_warnings_until_they_end() {
    let mut config = quiet_noon(instant());
    config.notifications.quiet_hours.start = 12 * 60 + 10;
    let mut engine = Engine::new(config);
    engine.observe(vm_cpu("vm-1", 85.0), 0); // 12:00, not yet quiet: notified
    assert_eq!(notified(&engine.log, NotifyKind::Fired).len(), 1);
    let events = engine.observe(vm_cpu("vm-1", 10.0), 900); // 12:15, quiet
    assert_eq!(resolved(&events), vec!["vm-1-cpu"]);
    assert!(notifies(&events).is_empty());
    assert_eq!(notified(&engine.tick(3600), NotifyKind::Resolved).len(), 1);
}

#[test]
fn flapping_alert_is_notified_once_stable() {
    let mut config = instant();
    config.flapping.threshold = 3;
    config.flapping.cooldown_minutes = 10;
    config.notifications.cooldown_minutes = 0;
    let mut engine = Engine::new(config);
    engine.observe(vm_cpu("vm-1", 85.0), 0);
    engine.observe(vm_cpu("vm-1", 10.0), 10);
    let events = engine.observe(vm_cpu("vm-1", 85.0), 20);
    assert_eq!(suppressed(&events), vec![SuppressReason::Flapping]);
    assert!(notified(&engine.tick(619), NotifyKind::Fired).is_empty());
    let events = engine.tick(620);
    assert_eq!(notified(&events, NotifyKind::Fired).len(), 1);
}

#[test]
fn grouping_window_batches_by_kind() {
    let mut config = AlertConfig::default();
    config.delays.default_seconds = 0;
    config.notifications.cooldown_minutes = 0;
    let mut engine = Engine::new(config);
    engine.observe(vm_cpu("vm-1", 85.0), 0);
    engine.observe(vm_cpu("vm-2", 85.0), 20);
    assert!(notifies(&engine.tick(29)).is_empty());
    let events = engine.tick(30);
    assert_eq!(notifies(&events).len(), 1);
    assert_eq!(notified(&events, NotifyKind::Fired).len(), 2);
    // Resolves and new firings in one window: one group per kind, resolves first.
    engine.observe(vm_cpu("vm-1", 10.0), 40);
    engine.observe(vm_cpu("vm-3", 85.0), 41);
    engine.observe(vm_cpu("vm-2", 10.0), 42);
    let events = engine.tick(70);
    let kinds: Vec<NotifyKind> = notifies(&events).into_iter().map(|(k, _)| k).collect();
    assert_eq!(kinds, vec![NotifyKind::Resolved, NotifyKind::Fired]);
    assert_eq!(notified(&events, NotifyKind::Resolved).len(), 2);
    // A firing that comes and goes within the window is never notified.
    engine.observe(vm_cpu("vm-4", 85.0), 100);
    engine.observe(vm_cpu("vm-4", 10.0), 110);
    assert!(notifies(&engine.tick(140)).is_empty());
}

#[test]
fn escalation_waits_for_a_notified_firing() {
    let mut config = quiet_noon(instant());
    config.notifications.escalation.enabled = true;
    let mut engine = Engine::new(config);
    engine.observe(vm_cpu("vm-1", 85.0), 0); // held by quiet hours
    let events = engine.tick(15 * 60);
    assert!(!events
        .iter()
        .any(|e| matches!(e, AlertEvent::Escalated { .. })));
    // Notified at 13:00; escalates from the alert's start once notified.
    let events = engine.tick(3600);
    assert_eq!(notified(&events, NotifyKind::Fired).len(), 1);
    let events = engine.tick(3601);
    let levels: Vec<u32> = events
        .iter()
        .filter_map(|e| match e {
            AlertEvent::Escalated { level, .. } => Some(*level),
            _ => None,
        })
        .collect();
    assert_eq!(levels, vec![3]);
}
