//! Properties over random signal sequences: every resolve notification follows a firing
//! notification of the same firing, nothing is notified twice, and the state survives
//! serialisation exactly.

use std::collections::HashSet;

use proptest::prelude::*;
use pulse_alerts::{
    apply_config, AlertConfig, AlertEvent, AlertState, NativeAlert, Signal, Threshold, Weekday,
};
use pulse_model::{ResourceType, Status};

use crate::common::*;

/// One random operation.
#[derive(Debug, Clone)]
enum Op {
    Observe { vm: u8, cpu: u8, offline: bool },
    Container { restarts: u8, state: u8 },
    Tick { seconds: u16 },
    Ack { vm: u8 },
    Unack { vm: u8 },
    Clear { vm: u8 },
    Remove { vm: u8 },
    Native { mask: u8 },
    Deliver,
    Reconfigure { variant: u8 },
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..4u8, 0..=100u8, prop::bool::weighted(0.1))
            .prop_map(|(vm, cpu, offline)| Op::Observe { vm, cpu, offline }),
        2 => (0..20u8, 0..3u8).prop_map(|(restarts, state)| Op::Container { restarts, state }),
        4 => (0..900u16).prop_map(|seconds| Op::Tick { seconds }),
        1 => (0..4u8).prop_map(|vm| Op::Ack { vm }),
        1 => (0..4u8).prop_map(|vm| Op::Unack { vm }),
        1 => (0..4u8).prop_map(|vm| Op::Clear { vm }),
        1 => (0..4u8).prop_map(|vm| Op::Remove { vm }),
        1 => any::<u8>().prop_map(|mask| Op::Native { mask }),
        2 => Just(Op::Deliver),
        1 => (0..6u8).prop_map(|variant| Op::Reconfigure { variant }),
        1 => Just(Op::Restart),
    ]
}

/// The configuration variants the sequences switch between.
fn config(variant: u8) -> AlertConfig {
    let mut config = AlertConfig::default();
    config.flapping.threshold = 3;
    config.notifications.escalation.enabled = true;
    config.notifications.escalation.levels[0].after_minutes = 2;
    match variant {
        1 => {
            let quiet = &mut config.notifications.quiet_hours;
            quiet.enabled = true;
            quiet.utc_offset_minutes = 0;
            quiet.start = 12 * 60 + 5;
            quiet.end = 12 * 60 + 40;
            quiet.days = Weekday::ALL.to_vec();
        }
        2 => config.notifications.enabled = false,
        3 => {
            if let Some(vm) = config.thresholds.get_mut(&ResourceType::Vm) {
                vm.cpu = Some(Threshold::new(60.0, 50.0));
            }
        }
        4 => {
            config.delays.default_seconds = 0;
            config.notifications.grouping.enabled = false;
            config.notifications.cooldown_minutes = 0;
        }
        5 => config.disable_all.guests = true,
        _ => {}
    }
    config
}

/// Splits `<alertId>:<kind>-<firing>[-<level>]` into (alert id, kind, firing).
fn parse(event_id: &str) -> (String, String, String) {
    let (alert, event) = event_id.rsplit_once(':').unwrap_or_default();
    let mut parts = event.splitn(3, '-');
    let kind = parts.next().unwrap_or_default().to_owned();
    let firing = parts.next().unwrap_or_default().to_owned();
    (alert.to_owned(), kind, firing)
}

/// Runs `ops` and checks the properties.
fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut engine = Engine::new(config(0));
    let mut now = 0i64;
    let mut fired_firings: HashSet<(String, String)> = HashSet::new();
    let mut seen_ids: HashSet<String> = HashSet::new();
    for op in ops {
        now += 1;
        let mut replay = false;
        let events = match op {
            Op::Observe { vm, cpu, offline } => {
                let mut r = vm_cpu(&format!("vm-{vm}"), f64::from(*cpu));
                if *offline {
                    r = with_status(r, Status::Offline);
                }
                engine.observe(r, now)
            }
            Op::Container { restarts, state } => {
                let state = ["running", "exited", "dead"][usize::from(*state)];
                let facet = serde_json::json!({
                    "state": state, "exitCode": 1, "restartCount": restarts, "health": "unhealthy"
                });
                engine.observe(
                    with_facet(
                        resource("ct-1", ResourceType::AppContainer),
                        "docker",
                        facet,
                    ),
                    now,
                )
            }
            Op::Tick { seconds } => {
                now += i64::from(*seconds);
                engine.tick(now)
            }
            Op::Ack { vm } => engine.send(
                Signal::Acknowledge {
                    alert_id: format!("vm-{vm}-cpu"),
                    user: "u".into(),
                },
                t(now),
            ),
            Op::Unack { vm } => engine.send(
                Signal::Unacknowledge {
                    alert_id: format!("vm-{vm}-cpu"),
                },
                t(now),
            ),
            Op::Clear { vm } => engine.send(
                Signal::Clear {
                    alert_id: format!("vm-{vm}-cpu"),
                },
                t(now),
            ),
            Op::Remove { vm } => engine.send(
                Signal::Removed {
                    id: format!("vm-{vm}"),
                },
                t(now),
            ),
            Op::Native { mask } => {
                let alerts: Vec<NativeAlert> = (0..4u8)
                    .filter(|i| mask & (1 << i) != 0)
                    .map(|i| native(&format!("n{i}"), if i % 2 == 0 { "ERROR" } else { "WARN" }))
                    .collect();
                engine.send(
                    Signal::NativeAlerts {
                        resource_id: "agent-nas".into(),
                        alerts,
                    },
                    t(now),
                )
            }
            Op::Deliver => match engine.deliver_oldest() {
                Some(delivered) => engine.send(delivered, t(now)),
                None => Vec::new(),
            },
            Op::Reconfigure { variant } => {
                let config = config(*variant);
                let before = engine.log.len();
                engine.state = apply_config(std::mem::take(&mut engine.state), &config);
                engine.config = config;
                prop_assert_eq!(engine.log.len(), before);
                Vec::new()
            }
            Op::Restart => {
                let json = serde_json::to_string(&engine.state).expect("serialise");
                let restored: AlertState = serde_json::from_str(&json).expect("deserialise");
                prop_assert_eq!(&restored, &engine.state);
                engine.state = restored;
                replay = true;
                engine.send(Signal::Restarted, t(now))
            }
        };
        for event in &events {
            let AlertEvent::Notify {
                items, event_id, ..
            } = event
            else {
                continue;
            };
            prop_assert_eq!(Some(event_id), items.first().map(|i| &i.event_id));
            for item in items {
                let (alert, kind, firing) = parse(&item.event_id);
                prop_assert_eq!(&alert, &item.alert.id);
                prop_assert_eq!(&firing, &item.alert.firing.to_string());
                // `Restarted` re-emits unconfirmed items with their ids; the same step may also
                // flush fresh ones, which are checked like any other.
                if replay && seen_ids.contains(&item.event_id) {
                    continue;
                }
                prop_assert!(
                    seen_ids.insert(item.event_id.clone()),
                    "notified twice: {}",
                    item.event_id
                );
                if kind == "fired" {
                    fired_firings.insert((alert, firing));
                } else {
                    prop_assert!(
                        fired_firings.contains(&(alert, firing)),
                        "{} without a fired notification of its firing",
                        item.event_id
                    );
                }
            }
        }
    }
    let json = serde_json::to_value(&engine.state).expect("serialise");
    let restored: AlertState = serde_json::from_value(json).expect("deserialise");
    prop_assert_eq!(restored, engine.state);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn resolves_follow_their_firing_and_state_roundtrips(ops in prop::collection::vec(op(), 1..120)) {
        run(&ops)?;
    }
}
