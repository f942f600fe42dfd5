//! What the state keeps: quiet resources leave no entry, a breach creates one from the resource
//! observed at that moment, entries go once they carry nothing, and restart counts survive a
//! restart (including from a version 1 document). The generation moves exactly when the
//! persisted form does.

use proptest::prelude::*;
use pulse_alerts::{apply_config, AlertConfig, AlertEvent, AlertState, Signal};
use pulse_model::{Resource, ResourceType, Status};
use serde_json::{json, Value};

use crate::common::*;

/// A running container with `restarts` restarts.
fn container(id: &str, restarts: u64) -> Resource {
    with_facet(
        resource(id, ResourceType::AppContainer),
        "docker",
        json!({"state": "running", "health": "healthy", "restartCount": restarts}),
    )
}

/// A VM on Proxmox node `pve1` of instance `homelab` with the given CPU percent.
fn guest(id: &str, cpu: f64) -> Resource {
    with_facet(
        vm_cpu(id, cpu),
        "proxmox",
        json!({"node": "pve1", "instance": "homelab"}),
    )
}

/// The state through a JSON round trip, as a restart restores it.
fn restored(state: &AlertState) -> AlertState {
    let json = serde_json::to_string(state).expect("serialise");
    serde_json::from_str(&json).expect("deserialise")
}

/// `state`'s persisted form as version 1 wrote it: no `version`, restart samples inside the
/// entries, and an entry (facts only) for every resource in `quiet`.
fn as_version_1(state: &AlertState, quiet: &[Resource]) -> Value {
    let mut doc = serde_json::to_value(state).expect("serialise");
    let object = doc.as_object_mut().expect("object");
    assert_eq!(object.remove("version"), Some(json!(2)));
    let restarts = object.remove("restarts").unwrap_or_else(|| json!({}));
    let resources = object
        .get_mut("resources")
        .and_then(Value::as_object_mut)
        .expect("resources");
    for r in quiet {
        resources.entry(r.id.clone()).or_insert_with(|| {
            json!({"meta": {"id": r.id, "name": r.name, "resourceType": r.resource_type},
                   "trackers": [], "restarts": []})
        });
    }
    for (id, samples) in restarts.as_object().expect("restarts map") {
        let entry = resources.entry(id.clone()).or_insert_with(|| {
            json!({"meta": {"id": id, "name": id, "resourceType": "app-container"},
                   "trackers": []})
        });
        entry["restarts"] = samples.clone();
    }
    doc
}

#[test]
fn quiet_resources_leave_no_entry_and_change_nothing() {
    let mut engine = Engine::new(instant());
    let generation = engine.state.generation();
    for i in 0..20 {
        engine.observe(guest(&format!("vm-{i}"), 10.0), 1);
    }
    assert_eq!(engine.state.tracked_resources(), 0);
    assert_eq!(engine.state.generation(), generation);
    // Containers leave their restart count (restart loops need the baseline), nothing else.
    for i in 0..20 {
        engine.observe(container(&format!("ct-{i}"), 0), 2);
    }
    assert_eq!(engine.state.tracked_resources(), 0);
    assert_eq!(engine.state.restart_histories(), 20);
    let generation = engine.state.generation();
    for s in 3..10 {
        for i in 0..20 {
            engine.observe(container(&format!("ct-{i}"), 0), s);
            engine.observe(guest(&format!("vm-{i}"), 10.0), s);
        }
        engine.tick(s);
    }
    assert_eq!(
        engine.state.generation(),
        generation,
        "nothing persisted moved"
    );
    assert!(engine.log.is_empty());
}

#[test]
fn a_breach_creates_the_entry_from_the_resource_then_it_goes_when_idle() {
    let mut engine = Engine::new(instant());
    engine.observe(guest("vm-1", 10.0), 0);
    let mut renamed = guest("vm-1", 95.0);
    renamed.name = "db-primary".into();
    let events = engine.observe(renamed, 10);
    assert_eq!(fired(&events), vec!["vm-1-cpu"]);
    let alert = engine.state.alert("vm-1-cpu").expect("firing");
    assert_eq!(alert.resource_name, "db-primary");
    assert_eq!(alert.resource_type, Some(ResourceType::Vm));
    assert_eq!(alert.node.as_deref(), Some("pve1"));
    assert_eq!(alert.instance.as_deref(), Some("homelab"));
    assert_eq!(engine.state.tracked_resources(), 1);
    assert_eq!(
        resolved(&engine.observe(guest("vm-1", 10.0), 20)),
        vec!["vm-1-cpu"]
    );
    // The idle tracker keeps its history while a policy may need it (an hour at the defaults)…
    engine.tick(30);
    engine.tick(30 + 1800);
    assert_eq!(engine.state.tracked_resources(), 1);
    // …then the sweep drops it, and the entry with it.
    engine.tick(20 + 3600 + 60);
    assert_eq!(engine.state.tracked_resources(), 0);
    // A new breach starts afresh from the resource.
    let events = engine.observe(guest("vm-1", 96.0), 20 + 3600 + 120);
    assert_eq!(fired(&events), vec!["vm-1-cpu"]);
    assert_eq!(
        engine
            .state
            .alert("vm-1-cpu")
            .map(|a| a.resource_name.as_str()),
        Some("vm-1-name")
    );
}

#[test]
fn an_entry_created_after_quiet_observations_has_only_its_own_facts() {
    let mut engine = Engine::new(instant());
    let disk = with_facet(
        resource("disk-1", ResourceType::PhysicalDisk),
        "physicalDisk",
        json!({"type": "SATA", "temperature": 30, "health": "PASSED"}),
    );
    engine.observe(disk, 0);
    engine.observe(guest("vm-2", 10.0), 0);
    engine.observe(vm_cpu("vm-1", 95.0), 1);
    let doc = serde_json::to_value(&engine.state).expect("serialise");
    assert_eq!(
        doc["resources"]["vm-1"]["meta"],
        json!({"id": "vm-1", "name": "vm-1-name", "resourceType": "vm"})
    );
    let alert = engine.state.alert("vm-1-cpu").expect("firing");
    assert_eq!(
        (alert.node.as_deref(), alert.instance.as_deref()),
        (None, None)
    );
}

#[test]
fn agents_keep_their_facts_for_native_alerts() {
    let mut engine = Engine::new(AlertConfig::default());
    engine.observe(resource("agent-nas", ResourceType::Agent), 0);
    assert_eq!(engine.state.tracked_resources(), 1);
    let generation = engine.state.generation();
    engine.observe(resource("agent-nas", ResourceType::Agent), 1);
    assert_eq!(engine.state.generation(), generation);
    // A resource never observed: its native alert shows its id, and the entry goes with it.
    let events = engine.send(
        Signal::NativeAlerts {
            resource_id: "nas-2".into(),
            alerts: vec![native("n1", "CRITICAL")],
        },
        t(2),
    );
    assert_eq!(fired(&events), vec!["nas-2-native-n1"]);
    assert_eq!(
        engine
            .state
            .alert("nas-2-native-n1")
            .map(|a| a.resource_name.as_str()),
        Some("nas-2")
    );
    let native_off = Signal::NativeAlerts {
        resource_id: "nas-2".into(),
        alerts: Vec::new(),
    };
    assert_eq!(
        resolved(&engine.send(native_off, t(3))),
        vec!["nas-2-native-n1"]
    );
    engine.tick(3 + 3600 + 60);
    assert_eq!(engine.state.tracked_resources(), 1, "only the agent");
    // An empty list for an unknown resource creates nothing.
    let generation = engine.state.generation();
    engine.send(
        Signal::NativeAlerts {
            resource_id: "nas-3".into(),
            alerts: vec![native("n9", "INFO")],
        },
        t(4000),
    );
    assert_eq!(engine.state.tracked_resources(), 1);
    assert_eq!(engine.state.generation(), generation);
}

#[test]
fn restart_counts_survive_a_restart_and_removal_forgets_them() {
    let run = |restart_at: Option<usize>| {
        let mut engine = Engine::new(instant());
        let counts = [(0, 10), (30, 10), (60, 11), (90, 12), (120, 13)];
        let mut events = Vec::new();
        for (step, (s, count)) in counts.into_iter().enumerate() {
            if restart_at == Some(step) {
                engine.state = restored(&engine.state);
                assert_eq!(engine.state.tracked_resources(), 0);
                assert_eq!(engine.state.restart_histories(), 1);
            }
            events.extend(engine.observe(container("ct-1", count), s));
        }
        (engine, events)
    };
    let (engine, events) = run(None);
    assert_eq!(fired(&events), vec!["ct-1-docker-container-restart-loop"]);
    for step in 1..5 {
        let (_, restarted) = run(Some(step));
        assert_eq!(restarted, events, "restart before step {step}");
    }
    let mut engine = engine;
    engine.send(Signal::Removed { id: "ct-1".into() }, t(130));
    assert_eq!(engine.state.restart_histories(), 0);
    assert_eq!(engine.state.tracked_resources(), 0);
}

#[test]
fn switching_containers_off_forgets_their_restart_counts() {
    let mut engine = Engine::new(instant());
    engine.observe(container("ct-1", 4), 0);
    engine.observe(guest("vm-1", 95.0), 0);
    let mut config = engine.config.clone();
    config.disable_all.containers = true;
    let generation = engine.state.generation();
    engine.state = apply_config(std::mem::take(&mut engine.state), &config);
    engine.config = config;
    assert_eq!(engine.state.restart_histories(), 0);
    assert_eq!(engine.state.tracked_resources(), 1);
    assert_ne!(engine.state.generation(), generation);
}

#[test]
fn a_version_1_document_loads_without_its_quiet_entries() {
    let mut engine = Engine::new(instant());
    let quiet: Vec<Resource> = (0..5).map(|i| guest(&format!("vm-q{i}"), 10.0)).collect();
    for r in &quiet {
        engine.observe(r.clone(), 0);
    }
    engine.observe(guest("vm-1", 95.0), 0);
    engine.observe(container("ct-1", 3), 0);
    engine.observe(container("ct-1", 4), 30);
    engine.observe(resource("agent-1", ResourceType::Agent), 30);
    let old = as_version_1(&engine.state, &quiet);
    assert_eq!(old["resources"].as_object().map(|r| r.len()), Some(8));
    let loaded: AlertState = serde_json::from_value(old).expect("version 1 loads");
    assert_eq!(loaded, engine.state);
    // It goes on exactly as the state that was saved.
    let mut twin = Engine::new(engine.config.clone());
    twin.state = loaded;
    for (s, count) in [(60, 5), (90, 6)] {
        assert_eq!(
            twin.observe(container("ct-1", count), s),
            engine.observe(container("ct-1", count), s)
        );
    }
    assert_eq!(twin.state, engine.state);
    assert_eq!(
        engine
            .state
            .alert("ct-1-docker-container-restart-loop")
            .map(|a| a.value),
        Some(3.0)
    );
}

#[test]
fn a_document_from_a_newer_format_is_refused() {
    let mut doc = serde_json::to_value(AlertState::new()).expect("serialise");
    doc["version"] = json!(3);
    let err = serde_json::from_value::<AlertState>(doc).expect_err("refused");
    assert!(err.to_string().contains("version 3"), "{err}");
}

/// One random operation for the generation property.
#[derive(Debug, Clone)]
enum Op {
    Vm { vm: u8, cpu: u8, offline: bool },
    Container { ct: u8, restarts: u8, state: u8 },
    Agent { renamed: bool },
    Native { mask: u8 },
    Tick { seconds: u16 },
    Ack { vm: u8 },
    Clear { vm: u8 },
    Remove { vm: u8 },
    Deliver,
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..4u8, 0..=100u8, prop::bool::weighted(0.1))
            .prop_map(|(vm, cpu, offline)| Op::Vm { vm, cpu, offline }),
        4 => (0..3u8, 0..6u8, 0..4u8)
            .prop_map(|(ct, restarts, state)| Op::Container { ct, restarts, state }),
        1 => any::<bool>().prop_map(|renamed| Op::Agent { renamed }),
        1 => any::<u8>().prop_map(|mask| Op::Native { mask }),
        4 => (0..1200u16).prop_map(|seconds| Op::Tick { seconds }),
        1 => (0..4u8).prop_map(|vm| Op::Ack { vm }),
        1 => (0..4u8).prop_map(|vm| Op::Clear { vm }),
        1 => (0..4u8).prop_map(|vm| Op::Remove { vm }),
        2 => Just(Op::Deliver),
        1 => Just(Op::Restart),
    ]
}

/// The persisted form without the sweep time (which moves without counting).
fn persisted(state: &AlertState) -> Value {
    let mut doc = serde_json::to_value(state).expect("serialise");
    if let Some(object) = doc.as_object_mut() {
        object.remove("sweptAt");
    }
    doc
}

fn check_generation(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut config = AlertConfig::default();
    config.flapping.threshold = 3;
    config.notifications.escalation.enabled = true;
    config.notifications.escalation.levels[0].after_minutes = 2;
    config.delays.by_type.clear();
    config.delays.default_seconds = 30;
    let mut engine = Engine::new(config);
    let mut now = 0i64;
    for op in ops {
        now += 1;
        let signal = match op {
            Op::Vm { vm, cpu, offline } => {
                let mut r = guest(&format!("vm-{vm}"), f64::from(*cpu));
                if *offline {
                    r = with_status(r, Status::Offline);
                }
                observed(r)
            }
            Op::Container {
                ct,
                restarts,
                state,
            } => {
                let state = ["running", "exited", "dead", "running"][usize::from(*state)];
                observed(with_facet(
                    resource(&format!("ct-{ct}"), ResourceType::AppContainer),
                    "docker",
                    json!({"state": state, "exitCode": 1, "restartCount": restarts,
                           "health": if *ct == 0 { "unhealthy" } else { "healthy" }}),
                ))
            }
            Op::Agent { renamed } => {
                let mut r = resource("agent-nas", ResourceType::Agent);
                if *renamed {
                    r.name = "nas".into();
                }
                observed(r)
            }
            Op::Native { mask } => Signal::NativeAlerts {
                resource_id: if mask & 0x80 == 0 {
                    "agent-nas"
                } else {
                    "nas-x"
                }
                .into(),
                alerts: (0..3u8)
                    .filter(|i| mask & (1 << i) != 0)
                    .map(|i| native(&format!("n{i}"), if i == 0 { "ERROR" } else { "WARN" }))
                    .collect(),
            },
            Op::Tick { seconds } => {
                now += i64::from(*seconds);
                Signal::Tick
            }
            Op::Ack { vm } => Signal::Acknowledge {
                alert_id: format!("vm-{vm}-cpu"),
                user: "u".into(),
            },
            Op::Clear { vm } => Signal::Clear {
                alert_id: format!("vm-{vm}-cpu"),
            },
            Op::Remove { vm } => Signal::Removed {
                id: format!("vm-{vm}"),
            },
            Op::Deliver => engine.deliver_oldest().unwrap_or(Signal::Tick),
            Op::Restart => {
                let state = restored(&engine.state);
                prop_assert_eq!(&state, &engine.state);
                engine.state = state;
                Signal::Restarted
            }
        };
        let before = persisted(&engine.state);
        let generation = engine.state.generation();
        let events: Vec<AlertEvent> = engine.send(signal, t(now));
        if engine.state.generation() == generation {
            prop_assert!(
                events.is_empty(),
                "events without a new generation: {:?}",
                op
            );
            prop_assert_eq!(
                &persisted(&engine.state),
                &before,
                "persisted form moved without a new generation after {:?}",
                op
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_generation_moves_whenever_the_persisted_form_does(ops in prop::collection::vec(op(), 1..150)) {
        check_generation(&ops)?;
    }
}
