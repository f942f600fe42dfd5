//! One test group per rule family, through the public API.

use pulse_alerts::{
    AlertConfig, AlertEvent, AlertLevel, NotifyKind, ResourceOverride, Signal, Threshold,
    ThresholdSet,
};
use pulse_model::{MetricKind, MetricValue, ResourceType, Source, SourceState, Status};
use serde_json::json;

use crate::common::*;

/// The level of the firing alert `id`.
fn level_of(engine: &Engine, id: &str) -> Option<AlertLevel> {
    engine.state.alert(id).map(|a| a.level)
}

mod metric {
    use super::*;

    #[test]
    fn delay_holds_a_breach_pending_until_it_lasts() {
        let mut engine = Engine::new(AlertConfig::default()); // 5 s delay
        assert!(engine.observe(vm_cpu("vm-1", 85.0), 0).is_empty());
        assert!(engine.active().is_empty());
        assert!(engine.tick(4).is_empty());
        let events = engine.tick(5);
        assert_eq!(fired(&events), vec!["vm-1-cpu"]);
        let alert = engine.state.alert("vm-1-cpu").cloned().expect("firing");
        assert_eq!(alert.start_time, t(0), "start time is the first breach");
        assert_eq!(alert.level, AlertLevel::Warning);
        assert_eq!(alert.threshold, 80.0);
        assert_eq!(alert.metadata.clear_threshold, Some(75.0));
        assert_eq!(
            alert.message,
            "CPU usage on vm-1-name at 85% (threshold 80%)"
        );

        // An observation after the delay fires too, without a tick.
        engine.observe(vm_cpu("vm-2", 85.0), 10);
        let events = engine.observe(vm_cpu("vm-2", 86.0), 20);
        assert_eq!(fired(&events), vec!["vm-2-cpu"]);
    }

    #[test]
    fn per_type_and_per_alert_delays() {
        let mut config = AlertConfig::default();
        config.delays.by_type.insert(ResourceType::Vm, 60);
        config
            .delays
            .by_alert
            .entry(ResourceType::Vm)
            .or_default()
            .insert("memory".into(), 0);
        let mut engine = Engine::new(config);
        let mut r = vm_cpu("vm-1", 85.0);
        r.metrics.set(MetricKind::Memory, Some(pct(90.0)));
        let events = engine.observe(r, 0);
        assert_eq!(fired(&events), vec!["vm-1-memory"]);
        assert!(fired(&engine.tick(59)).is_empty());
        assert_eq!(fired(&engine.tick(60)), vec!["vm-1-cpu"]);
    }

    #[test]
    fn hysteresis_clears_below_clear_only() {
        let mut engine = Engine::new(instant());
        engine.observe(vm_cpu("vm-1", 81.0), 0);
        assert!(engine.observe(vm_cpu("vm-1", 76.0), 10).is_empty());
        assert_eq!(engine.active(), vec!["vm-1-cpu"]);
        let events = engine.observe(vm_cpu("vm-1", 74.9), 20);
        assert_eq!(resolved(&events), vec!["vm-1-cpu"]);
        assert!(engine.active().is_empty());
        // Between clear and trigger, an idle alert stays idle.
        assert!(engine.observe(vm_cpu("vm-1", 79.0), 30).is_empty());
    }

    #[test]
    fn level_changes_and_critical_at_trigger_plus_ten() {
        let mut engine = Engine::new(instant());
        engine.observe(vm_cpu("vm-1", 85.0), 0);
        let events = engine.observe(vm_cpu("vm-1", 90.0), 10);
        let change = events.iter().find_map(|e| match e {
            AlertEvent::LevelChanged { alert, previous } => Some((alert.level, *previous)),
            _ => None,
        });
        assert_eq!(change, Some((AlertLevel::Critical, AlertLevel::Warning)));
        // A notified warning that becomes critical is notified again, once.
        assert_eq!(
            notified(&events, NotifyKind::Fired)
                .iter()
                .filter(|id| id.contains(":critical-"))
                .count(),
            1
        );
        // Critical holds down to 85 (critical − (trigger − clear)), then back to warning.
        assert!(engine.observe(vm_cpu("vm-1", 86.0), 20).is_empty());
        assert_eq!(level_of(&engine, "vm-1-cpu"), Some(AlertLevel::Critical));
        engine.observe(vm_cpu("vm-1", 84.0), 30);
        assert_eq!(level_of(&engine, "vm-1-cpu"), Some(AlertLevel::Warning));
        let events = engine.observe(vm_cpu("vm-1", 95.0), 40);
        assert!(
            notified(&events, NotifyKind::Fired).is_empty(),
            "critical is notified once per firing"
        );
        // Percent critical is capped at 99.
        let mut config = instant();
        if let Some(vm) = config.thresholds.get_mut(&ResourceType::Vm) {
            vm.cpu = Some(Threshold::new(95.0, 90.0));
        }
        let mut engine = Engine::new(config);
        engine.observe(vm_cpu("vm-2", 98.0), 0);
        assert_eq!(level_of(&engine, "vm-2-cpu"), Some(AlertLevel::Warning));
        engine.observe(vm_cpu("vm-2", 99.0), 10);
        assert_eq!(level_of(&engine, "vm-2-cpu"), Some(AlertLevel::Critical));
    }

    #[test]
    fn clear_delay_waits_before_resolving() {
        let mut config = instant();
        config.recovery.clear_delay_seconds = 30;
        let mut engine = Engine::new(config);
        engine.observe(vm_cpu("vm-1", 85.0), 0);
        assert!(resolved(&engine.observe(vm_cpu("vm-1", 10.0), 10)).is_empty());
        assert!(resolved(&engine.tick(39)).is_empty());
        assert_eq!(resolved(&engine.tick(40)), vec!["vm-1-cpu"]);
        // A new breach within the clear delay keeps the alert firing.
        engine.observe(vm_cpu("vm-1", 85.0), 50);
        engine.observe(vm_cpu("vm-1", 10.0), 60);
        engine.observe(vm_cpu("vm-1", 85.0), 70);
        assert!(resolved(&engine.tick(100)).is_empty());
    }

    #[test]
    fn offline_resolves_and_missing_metric_keeps() {
        let mut engine = Engine::new(instant());
        engine.observe(vm_cpu("vm-1", 85.0), 0);
        let mut without = vm_cpu("vm-1", 0.0);
        without.metrics.set(MetricKind::Cpu, None);
        assert!(engine.observe(without.clone(), 10).is_empty());
        assert_eq!(engine.active(), vec!["vm-1-cpu"]);
        let events = engine.observe(with_status(without, Status::Offline), 20);
        assert_eq!(resolved(&events), vec!["vm-1-cpu"]);
    }

    #[test]
    fn rates_temperature_usage_and_used_total() {
        let mut config = instant();
        if let Some(vm) = config.thresholds.get_mut(&ResourceType::Vm) {
            vm.network_in = Some(Threshold::new(100.0, 80.0));
        }
        let mut engine = Engine::new(config);
        let mut r = resource("vm-1", ResourceType::Vm);
        r.metrics.set(
            MetricKind::NetIn,
            Some(MetricValue {
                value: Some(150.0 * 1_048_576.0),
                unit: "bytes/s".into(),
                ..MetricValue::default()
            }),
        );
        r.metrics.set(
            MetricKind::Memory,
            Some(MetricValue {
                used: Some(90),
                total: Some(100),
                unit: "bytes".into(),
                ..MetricValue::default()
            }),
        );
        let mut events = engine.observe(r, 0);
        let mut node = resource("agent-1", ResourceType::Agent);
        node.temperature = Some(81.0);
        events.extend(engine.observe(node, 0));
        let mut pool = resource("storage-1", ResourceType::Storage);
        pool.metrics.set(MetricKind::Disk, Some(pct(86.0)));
        events.extend(engine.observe(pool, 0));
        let mut ids = fired(&events);
        ids.sort();
        assert_eq!(
            ids,
            vec![
                "agent-1-temperature",
                "storage-1-usage",
                "vm-1-memory",
                "vm-1-networkIn"
            ]
        );
        let net = engine.state.alert("vm-1-networkIn").expect("firing");
        assert_eq!(net.value, 150.0);
        assert_eq!(net.metadata.unit.as_deref(), Some("MB/s"));
    }

    #[test]
    fn physical_disk_temperature_by_type() {
        let mut engine = Engine::new(instant());
        let disk = |id: &str, kind: &str, temp: f64| {
            with_facet(
                resource(id, ResourceType::PhysicalDisk),
                "physicalDisk",
                json!({"type": kind, "temperature": temp, "health": "PASSED"}),
            )
        };
        let mut events = engine.observe(disk("disk-nvme", "NVMe", 66.0), 0);
        events.extend(engine.observe(disk("disk-sata", "sata", 56.0), 0));
        events.extend(engine.observe(disk("disk-hdd", "hdd", 56.0), 0));
        let mut ids = fired(&events);
        ids.sort();
        assert_eq!(ids, vec!["disk-hdd-temperature", "disk-sata-temperature"]);
        assert!(fired(&engine.observe(disk("disk-nvme", "nvme", 71.0), 10))
            .contains(&"disk-nvme-temperature".to_string()));
    }

    #[test]
    fn overrides_replace_or_switch_off_thresholds() {
        let mut config = instant();
        config.overrides.insert(
            "vm-1".into(),
            ResourceOverride {
                thresholds: ThresholdSet {
                    cpu: Some(Threshold::new(95.0, 90.0)),
                    memory: Some(Threshold::new(0.0, 0.0)),
                    ..ThresholdSet::default()
                },
                ..ResourceOverride::default()
            },
        );
        let mut engine = Engine::new(config);
        let mut r = vm_cpu("vm-1", 90.0);
        r.metrics.set(MetricKind::Memory, Some(pct(99.0)));
        assert!(engine.observe(r, 0).is_empty());
        let mut other = vm_cpu("vm-2", 90.0);
        other.metrics.set(MetricKind::Memory, Some(pct(99.0)));
        assert_eq!(fired(&engine.observe(other, 0)).len(), 2);
        let events = engine.observe(vm_cpu("vm-1", 96.0), 10);
        assert_eq!(fired(&events), vec!["vm-1-cpu"]);
    }
}

mod connectivity {
    use super::*;

    #[test]
    fn offline_host_needs_three_good_observations() {
        let mut engine = Engine::new(instant());
        let host = resource("agent-1", ResourceType::Agent);
        let events = engine.observe(with_status(host.clone(), Status::Offline), 0);
        assert_eq!(fired(&events), vec!["agent-1-connectivity"]);
        assert_eq!(
            level_of(&engine, "agent-1-connectivity"),
            Some(AlertLevel::Critical)
        );
        assert_eq!(
            engine
                .state
                .alert("agent-1-connectivity")
                .map(|a| a.message.clone()),
            Some("agent-1-name is offline".into())
        );
        // Unknown changes nothing; two good observations are not enough.
        engine.observe(with_status(host.clone(), Status::Unknown), 10);
        engine.observe(host.clone(), 20);
        engine.observe(host.clone(), 30);
        assert_eq!(engine.active(), vec!["agent-1-connectivity"]);
        // An offline blip restarts the count.
        engine.observe(with_status(host.clone(), Status::Offline), 40);
        engine.observe(host.clone(), 50);
        engine.observe(host.clone(), 60);
        let events = engine.observe(host.clone(), 70);
        assert_eq!(resolved(&events), vec!["agent-1-connectivity"]);
    }

    #[test]
    fn storage_recovers_after_two() {
        let mut engine = Engine::new(instant());
        let store = resource("storage-1", ResourceType::Storage);
        engine.observe(with_status(store.clone(), Status::Offline), 0);
        assert_eq!(engine.active(), vec!["storage-1-connectivity"]);
        engine.observe(store.clone(), 10);
        let events = engine.observe(store, 20);
        assert_eq!(resolved(&events), vec!["storage-1-connectivity"]);
    }

    #[test]
    fn one_source_offline_on_a_reachable_host() {
        let mut engine = Engine::new(instant());
        let host = with_sources(
            resource("agent-1", ResourceType::Agent),
            &[
                (Source::Proxmox, SourceState::Online),
                (Source::Docker, SourceState::Offline),
            ],
        );
        let events = engine.observe(host, 0);
        assert_eq!(fired(&events), vec!["agent-1-source-offline-docker"]);
        assert_eq!(
            level_of(&engine, "agent-1-source-offline-docker"),
            Some(AlertLevel::Warning)
        );
        let back = with_sources(
            resource("agent-1", ResourceType::Agent),
            &[
                (Source::Proxmox, SourceState::Online),
                (Source::Docker, SourceState::Online),
            ],
        );
        for s in [10, 20] {
            assert!(resolved(&engine.observe(back.clone(), s)).is_empty());
        }
        assert_eq!(
            resolved(&engine.observe(back, 30)),
            vec!["agent-1-source-offline-docker"]
        );
    }

    #[test]
    fn offline_switches() {
        let mut config = instant();
        config.overrides.insert(
            "agent-1".into(),
            ResourceOverride {
                disable_connectivity: true,
                ..ResourceOverride::default()
            },
        );
        config.disable_all_offline.pbs = true;
        let mut engine = Engine::new(config);
        let host = with_status(resource("agent-1", ResourceType::Agent), Status::Offline);
        let pbs = with_status(resource("pbs-1", ResourceType::Pbs), Status::Offline);
        let pmg = with_status(resource("pmg-1", ResourceType::Pmg), Status::Offline);
        let mut events = engine.observe(host, 0);
        events.extend(engine.observe(pbs, 0));
        events.extend(engine.observe(pmg, 0));
        assert_eq!(fired(&events), vec!["pmg-1-connectivity"]);
    }

    #[test]
    fn powered_off_guest_is_a_powered_state_alert() {
        let mut config = instant();
        config.overrides.insert(
            "vm-2".into(),
            ResourceOverride {
                powered_off_severity: Some(AlertLevel::Critical),
                ..ResourceOverride::default()
            },
        );
        let mut engine = Engine::new(config);
        let vm1 = resource("vm-1", ResourceType::Vm);
        let ct = resource("vm-2", ResourceType::SystemContainer);
        let mut events = engine.observe(with_status(vm1.clone(), Status::Offline), 0);
        events.extend(engine.observe(with_status(ct, Status::Offline), 0));
        assert_eq!(
            fired(&events),
            vec!["vm-1-powered-state", "vm-2-powered-state"]
        );
        assert_eq!(
            level_of(&engine, "vm-1-powered-state"),
            Some(AlertLevel::Warning)
        );
        assert_eq!(
            level_of(&engine, "vm-2-powered-state"),
            Some(AlertLevel::Critical)
        );
        assert_eq!(
            resolved(&engine.observe(vm1, 10)),
            vec!["vm-1-powered-state"]
        );
    }
}

mod docker {
    use super::*;

    fn container(id: &str, facet: serde_json::Value) -> pulse_model::Resource {
        with_facet(resource(id, ResourceType::AppContainer), "docker", facet)
    }

    #[test]
    fn state_health_and_oom() {
        let mut engine = Engine::new(instant());
        let mut events = engine.observe(
            container("c-1", json!({"state": "exited", "exitCode": 137})),
            0,
        );
        events.extend(engine.observe(
            container("c-2", json!({"state": "exited", "exitCode": 0})),
            0,
        ));
        events.extend(engine.observe(container("c-3", json!({"state": "dead"})), 0));
        events.extend(engine.observe(
            container("c-4", json!({"state": "running", "health": "unhealthy"})),
            0,
        ));
        events.extend(engine.observe(
            container("c-5", json!({"state": "running", "oomKilled": "true"})),
            0,
        ));
        events.extend(engine.observe(
            container(
                "c-6",
                json!({"state": "exited", "exitCode": "1", "health": "unhealthy"}),
            ),
            0,
        ));
        let mut ids = fired(&events);
        ids.sort();
        assert_eq!(
            ids,
            vec![
                "c-1-docker-container-state",
                "c-3-docker-container-state",
                "c-4-docker-container-health",
                "c-5-docker-container-oom-kill",
                "c-6-docker-container-state",
            ]
        );
        assert_eq!(
            level_of(&engine, "c-1-docker-container-state"),
            Some(AlertLevel::Critical)
        );
        assert_eq!(
            level_of(&engine, "c-4-docker-container-health"),
            Some(AlertLevel::Warning)
        );
        let events = engine.observe(container("c-1", json!({"state": "running"})), 10);
        assert_eq!(resolved(&events), vec!["c-1-docker-container-state"]);
    }

    #[test]
    fn restart_loop_from_restart_count_deltas() {
        let mut engine = Engine::new(instant());
        let at = |count: u64| container("c-1", json!({"state": "running", "restartCount": count}));
        assert!(engine.observe(at(10), 0).is_empty());
        engine.observe(at(11), 30);
        engine.observe(at(12), 60);
        let events = engine.observe(at(13), 90);
        assert_eq!(fired(&events), vec!["c-1-docker-container-restart-loop"]);
        let alert = engine
            .state
            .alert("c-1-docker-container-restart-loop")
            .expect("firing");
        assert_eq!((alert.value, alert.threshold), (3.0, 3.0));
        assert_eq!(alert.level, AlertLevel::Critical);
        // Stable: once the window slides past the restarts, it resolves.
        assert!(resolved(&engine.observe(at(13), 200)).is_empty());
        let events = engine.observe(at(13), 400);
        assert_eq!(resolved(&events), vec!["c-1-docker-container-restart-loop"]);
        // Slow restarts never loop.
        let mut engine = Engine::new(instant());
        for i in 0..10u64 {
            let s = i64::try_from(i * 200).unwrap_or_default();
            assert!(engine.observe(at(i), s).is_empty());
        }
    }

    #[test]
    fn memory_limit_levels_and_ignored_prefixes() {
        let mut config = instant();
        config.docker.ignored_container_prefixes = vec!["tmp-".into()];
        let mut engine = Engine::new(config);
        let mem = |id: &str, usage: u64| {
            container(
                id,
                json!({"state": "running", "memoryUsageBytes": usage, "memoryLimitBytes": 1000}),
            )
        };
        engine.observe(mem("c-1", 910), 0);
        assert_eq!(
            level_of(&engine, "c-1-docker-container-memory-limit"),
            Some(AlertLevel::Warning)
        );
        engine.observe(mem("c-1", 960), 10);
        assert_eq!(
            level_of(&engine, "c-1-docker-container-memory-limit"),
            Some(AlertLevel::Critical)
        );
        let events = engine.observe(mem("c-1", 800), 20);
        assert_eq!(resolved(&events), vec!["c-1-docker-container-memory-limit"]);
        // No limit: no alert. Ignored prefix: nothing at all.
        let unlimited = container(
            "c-2",
            json!({"state": "running", "memoryUsageBytes": 10_000}),
        );
        assert!(engine.observe(unlimited, 0).is_empty());
        let mut ignored = container(
            "c-3",
            json!({"state": "dead", "memoryUsageBytes": 999, "memoryLimitBytes": 1000}),
        );
        ignored.name = "tmp-build".into();
        assert!(engine.observe(ignored, 0).is_empty());
    }

    #[test]
    fn swarm_service_gap() {
        let mut engine = Engine::new(instant());
        let service = |running: u64| {
            with_facet(
                resource("svc-1", ResourceType::DockerService),
                "docker",
                json!({"desiredTasks": 10, "runningTasks": running}),
            )
        };
        assert!(engine.observe(service(10), 0).is_empty());
        engine.observe(service(8), 10);
        assert_eq!(
            level_of(&engine, "svc-1-docker-service-health"),
            Some(AlertLevel::Warning)
        );
        engine.observe(service(4), 20);
        assert_eq!(
            level_of(&engine, "svc-1-docker-service-health"),
            Some(AlertLevel::Critical)
        );
        assert_eq!(
            resolved(&engine.observe(service(10), 30)),
            vec!["svc-1-docker-service-health"]
        );
    }
}

mod storage {
    use super::*;

    fn pool(facet: &str, value: serde_json::Value) -> pulse_model::Resource {
        with_facet(resource("storage-1", ResourceType::Storage), facet, value)
    }

    #[test]
    fn pool_state_levels_and_two_observation_recovery() {
        let mut engine = Engine::new(instant());
        engine.observe(pool("storage", json!({"poolState": "DEGRADED"})), 0);
        assert_eq!(
            level_of(&engine, "storage-1-zfs-pool-state"),
            Some(AlertLevel::Warning)
        );
        // A FAULTED pool is offline too, but it gets no separate connectivity alert.
        let faulted = with_status(
            pool("truenas", json!({"status": "faulted"})),
            Status::Offline,
        );
        engine.observe(faulted, 10);
        assert_eq!(engine.active(), vec!["storage-1-zfs-pool-state"]);
        assert_eq!(
            level_of(&engine, "storage-1-zfs-pool-state"),
            Some(AlertLevel::Critical)
        );
        assert!(
            resolved(&engine.observe(pool("storage", json!({"health": "ONLINE"})), 20)).is_empty()
        );
        let events = engine.observe(pool("storage", json!({"health": "ONLINE"})), 30);
        assert_eq!(resolved(&events), vec!["storage-1-zfs-pool-state"]);
        for state in ["OFFLINE", "REMOVED", "UNAVAIL", "SUSPENDED"] {
            let mut engine = Engine::new(instant());
            engine.observe(pool("storage", json!({"poolState": state})), 0);
            assert_eq!(
                level_of(&engine, "storage-1-zfs-pool-state"),
                Some(AlertLevel::Critical)
            );
        }
        // A word that is not a pool state is ignored.
        let mut engine = Engine::new(instant());
        assert!(engine
            .observe(pool("storage", json!({"poolState": "resilvering?"})), 0)
            .is_empty());
    }

    #[test]
    fn vdev_and_scan_errors() {
        let mut engine = Engine::new(instant());
        let value = json!({
            "poolState": "ONLINE",
            "vdevs": [
                {"name": "sda", "readErrors": 1, "writeErrors": 0, "checksumErrors": "2"},
                {"name": "sdb", "stats": {"read_errors": 0, "write_errors": 3, "checksum_errors": 0}}
            ],
            "scan": {"function": "SCRUB", "state": "FINISHED", "errors": 4}
        });
        let events = engine.observe(pool("truenas", value), 0);
        let mut ids = fired(&events);
        ids.sort();
        assert_eq!(
            ids,
            vec!["storage-1-zfs-scan-errors", "storage-1-zfs-vdev-errors"]
        );
        let vdev = engine
            .state
            .alert("storage-1-zfs-vdev-errors")
            .expect("firing");
        assert_eq!(vdev.value, 6.0);
        assert!(
            vdev.message.contains("1 read, 3 write and 2 checksum"),
            "{}",
            vdev.message
        );
        let clean = json!({"poolState": "ONLINE", "readErrors": 0, "writeErrors": 0, "checksumErrors": 0, "scan": {"errors": 0}});
        let events = engine.observe(pool("truenas", clean), 10);
        assert_eq!(resolved(&events).len(), 2);
    }
}

mod disk {
    use super::*;

    fn disk(value: serde_json::Value) -> pulse_model::Resource {
        with_facet(
            resource("disk-1", ResourceType::PhysicalDisk),
            "physicalDisk",
            value,
        )
    }

    #[test]
    fn smart_failure_and_platform_state() {
        let mut engine = Engine::new(instant());
        engine.observe(disk(json!({"health": "PASSED", "state": "DEGRADED"})), 0);
        assert_eq!(
            level_of(&engine, "disk-1-disk-health"),
            Some(AlertLevel::Warning)
        );
        engine.observe(disk(json!({"health": "FAILED!", "state": "DEGRADED"})), 10);
        let alert = engine.state.alert("disk-1-disk-health").expect("firing");
        assert_eq!(alert.level, AlertLevel::Critical);
        assert!(alert.message.contains("SMART"), "{}", alert.message);
        let events = engine.observe(disk(json!({"health": "PASSED", "state": "ONLINE"})), 20);
        assert_eq!(resolved(&events), vec!["disk-1-disk-health"]);
    }

    #[test]
    fn wearout_from_remaining_or_used() {
        let mut engine = Engine::new(instant());
        engine.observe(disk(json!({"wearout": 8})), 0);
        assert_eq!(
            level_of(&engine, "disk-1-disk-wearout"),
            Some(AlertLevel::Warning)
        );
        engine.observe(disk(json!({"percentageUsed": 99})), 10);
        assert_eq!(
            level_of(&engine, "disk-1-disk-wearout"),
            Some(AlertLevel::Critical)
        );
        let mut fresh = Engine::new(instant());
        assert!(fresh.observe(disk(json!({"wearout": 100})), 0).is_empty());
    }
}

mod backup {
    use super::*;

    #[test]
    fn pbs_job_failures() {
        let mut engine = Engine::new(instant());
        let jobs = |jobs: serde_json::Value| {
            with_facet(
                resource("pbs-1", ResourceType::Pbs),
                "pbs",
                json!({"jobs": jobs}),
            )
        };
        let events = engine.observe(
            jobs(json!([
                {"id": "sync-a", "type": "sync", "lastRunState": "connection refused"},
                {"id": "verify-b", "type": "verify", "last-run-state": "OK"},
                {"id": "prune-c", "type": "prune", "lastRunState": "WARNINGS: 2"},
                {"id": "gc-d", "type": "garbage_collection", "lastRunState": "failed", "enabled": false}
            ])),
            0,
        );
        assert_eq!(fired(&events), vec!["pbs-1-pbs-job-sync-a"]);
        let alert = engine.state.alert("pbs-1-pbs-job-sync-a").expect("firing");
        assert_eq!(alert.alert_type, "pbs-job");
        assert_eq!(alert.metadata.source.as_deref(), Some("sync"));
        assert!(alert.message.contains("connection refused"));
        // The job disappears: resolved.
        let events = engine.observe(jobs(json!([])), 10);
        assert_eq!(resolved(&events), vec!["pbs-1-pbs-job-sync-a"]);
    }

    #[test]
    fn backup_age_when_enabled() {
        let guest = |hours_ago: i64| {
            let last = (BASE_MS / 1000) - hours_ago * 3600;
            with_facet(
                resource("vm-1", ResourceType::Vm),
                "proxmox",
                json!({"lastBackup": last}),
            )
        };
        let mut off = Engine::new(instant());
        assert!(off.observe(guest(1000), 0).is_empty());

        let mut config = instant();
        config.backups.enabled = true;
        let mut engine = Engine::new(config);
        assert!(engine.observe(guest(100), 0).is_empty());
        engine.observe(guest(200), 0);
        assert_eq!(
            level_of(&engine, "vm-1-backup-age"),
            Some(AlertLevel::Warning)
        );
        engine.observe(guest(400), 0);
        assert_eq!(
            level_of(&engine, "vm-1-backup-age"),
            Some(AlertLevel::Critical)
        );
        assert_eq!(
            resolved(&engine.observe(guest(1), 0)),
            vec!["vm-1-backup-age"]
        );
    }
}

mod native {
    use super::*;

    #[test]
    fn native_alerts_mirror_the_platform_list() {
        let mut engine = Engine::new(AlertConfig::default()); // delays do not apply
        engine.observe(resource("agent-nas", ResourceType::Agent), 0);
        let mut dismissed = native("n3", "CRITICAL");
        dismissed.dismissed = true;
        let list = vec![
            native("n1", "CRITICAL"),
            native("n2", "WARNING"),
            dismissed,
            native("n4", "INFO"),
        ];
        let events = engine.send(
            Signal::NativeAlerts {
                resource_id: "agent-nas".into(),
                alerts: list,
            },
            t(1),
        );
        assert_eq!(
            fired(&events),
            vec!["agent-nas-native-n1", "agent-nas-native-n2"]
        );
        let alert = engine.state.alert("agent-nas-native-n1").expect("firing");
        assert_eq!(alert.level, AlertLevel::Critical);
        assert_eq!(alert.resource_name, "agent-nas-name");
        assert_eq!(alert.metadata.source.as_deref(), Some("VolumeStatus"));
        let events = engine.send(
            Signal::NativeAlerts {
                resource_id: "agent-nas".into(),
                alerts: vec![native("n2", "warning")],
            },
            t(2),
        );
        assert_eq!(resolved(&events), vec!["agent-nas-native-n1"]);
        let mut config = engine.config.clone();
        config.native_alerts.enabled = false;
        engine.config = config;
        let events = engine.send(
            Signal::NativeAlerts {
                resource_id: "agent-nas".into(),
                alerts: vec![native("n2", "warning")],
            },
            t(3),
        );
        assert!(events.is_empty());
        assert!(engine.active().is_empty());
    }
}

mod operator {
    use super::*;

    #[test]
    fn acknowledge_and_unacknowledge() {
        let mut engine = Engine::new(instant());
        engine.observe(vm_cpu("vm-1", 85.0), 0);
        let events = engine.send(
            Signal::Acknowledge {
                alert_id: "vm-1-cpu".into(),
                user: "alice".into(),
            },
            t(5),
        );
        let acked = engine.state.alert("vm-1-cpu").expect("firing");
        assert!(acked.acknowledged);
        assert_eq!(acked.ack_user.as_deref(), Some("alice"));
        assert_eq!(acked.ack_time, Some(t(5)));
        assert!(matches!(
            events.as_slice(),
            [AlertEvent::Acknowledged { .. }]
        ));
        // Unknown ids and repeats are no-ops.
        assert!(engine
            .send(
                Signal::Acknowledge {
                    alert_id: "vm-1-cpu".into(),
                    user: "bob".into()
                },
                t(6)
            )
            .is_empty());
        assert!(engine
            .send(
                Signal::Clear {
                    alert_id: "nope-cpu".into()
                },
                t(6)
            )
            .is_empty());
        let events = engine.send(
            Signal::Unacknowledge {
                alert_id: "vm-1-cpu".into(),
            },
            t(7),
        );
        assert!(matches!(
            events.as_slice(),
            [AlertEvent::Unacknowledged { .. }]
        ));
        assert!(!engine.state.alert("vm-1-cpu").expect("firing").acknowledged);
    }

    #[test]
    fn manual_clear_stays_quiet_until_the_condition_goes() {
        let mut engine = Engine::new(instant());
        engine.observe(vm_cpu("vm-1", 85.0), 0);
        let events = engine.send(
            Signal::Clear {
                alert_id: "vm-1-cpu".into(),
            },
            t(5),
        );
        assert!(matches!(events.as_slice(), [AlertEvent::Cleared { .. }]));
        assert!(engine.active().is_empty());
        assert_eq!(engine.state.recently_resolved().count(), 1);
        assert!(engine.observe(vm_cpu("vm-1", 90.0), 10).is_empty());
        assert!(engine.observe(vm_cpu("vm-1", 10.0), 20).is_empty());
        assert!(notified(&engine.log, NotifyKind::Resolved).is_empty());
        engine.config.notifications.cooldown_minutes = 0;
        let events = engine.observe(vm_cpu("vm-1", 90.0), 30);
        assert_eq!(fired(&events), vec!["vm-1-cpu"]);
        assert_eq!(notified(&events, NotifyKind::Fired).len(), 1);
    }

    #[test]
    fn removed_resource_resolves_its_alerts() {
        let mut engine = Engine::new(instant());
        engine.observe(vm_cpu("vm-1", 85.0), 0);
        let events = engine.send(Signal::Removed { id: "vm-1".into() }, t(10));
        assert_eq!(resolved(&events), vec!["vm-1-cpu"]);
        assert_eq!(notified(&events, NotifyKind::Resolved).len(), 1);
        assert!(engine.active().is_empty());
    }

    #[test]
    fn alert_object_shape() {
        let mut engine = Engine::new(instant());
        let r = with_facet(
            vm_cpu("vm-0123456789abcdef", 85.0),
            "proxmox",
            json!({"node": "pve1", "instance": "homelab", "vmid": 100}),
        );
        engine.observe(r, 0);
        let alert = engine
            .state
            .alert("vm-0123456789abcdef-cpu")
            .expect("firing");
        let json = serde_json::to_value(alert).expect("json");
        assert_eq!(json["id"], "vm-0123456789abcdef-cpu");
        assert_eq!(json["type"], "cpu");
        assert_eq!(json["level"], "warning");
        assert_eq!(json["resourceId"], "vm-0123456789abcdef");
        assert_eq!(json["resourceName"], "vm-0123456789abcdef-name");
        assert_eq!(json["resourceType"], "vm");
        assert_eq!(json["node"], "pve1");
        assert_eq!(json["instance"], "homelab");
        assert_eq!(json["value"], 85.0);
        assert_eq!(json["threshold"], 80.0);
        assert_eq!(json["startTime"], "2026-01-07T12:00:00.000Z");
        assert_eq!(json["acknowledged"], false);
        assert_eq!(json["metadata"]["clearThreshold"], 75.0);
        assert!(json.get("ackTime").is_none());
    }
}
