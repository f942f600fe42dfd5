//! Docker collection against the Engine API simulator that the server crate also uses.

use std::path::PathBuf;

use pulse::sim::docker_engine::DockerEngineSim;
use pulse_agent::docker::DockerCollector;
use pulse_agent::report::Container;

fn socket_path(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("pulse-agent-{tag}-{}.sock", std::process::id()))
}

fn by_name<'a>(containers: &'a [Container], name: &str) -> &'a Container {
    containers
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("container {name} missing"))
}

#[test]
fn collects_states_health_oom_and_restarts() {
    let sim = DockerEngineSim::start(socket_path("collect")).expect("start simulator");
    let mut collector = DockerCollector::new(sim.socket_path());
    let snap = collector.collect().expect("collect");

    assert_eq!(snap.version.version, "27.3.1");
    assert_eq!(snap.info.ncpu, 8);
    assert_eq!(snap.info.operating_system, "Ubuntu 24.04.1 LTS");

    let cs = &snap.containers;
    let names: Vec<&str> = cs.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["web", "api", "db", "worker", "batch", "migrate"]);
    assert!(cs.iter().all(|c| c.id.len() == 64));

    let web = by_name(cs, "web");
    assert_eq!(
        (web.state.as_str(), web.health.as_str()),
        ("running", "healthy")
    );
    assert_eq!(
        web.labels
            .get("com.docker.compose.project")
            .map(String::as_str),
        Some("shop")
    );
    assert_eq!(
        web.labels
            .get("com.docker.compose.service")
            .map(String::as_str),
        Some("web")
    );
    assert!(web
        .ports
        .iter()
        .any(|p| p.private_port == 80 && p.public_port == Some(8080) && p.protocol == "tcp"));
    assert!(web.uptime_seconds >= 3 * 86_400);
    assert!(web.started_at.is_some() && web.finished_at.is_none());
    assert!(web.network_rx_bytes > 0 && web.block_io.is_some());

    let api = by_name(cs, "api");
    assert_eq!(
        (api.state.as_str(), api.health.as_str()),
        ("running", "unhealthy")
    );
    assert!(
        (api.cpu_percent - 37.25).abs() < 0.1,
        "cpu {}",
        api.cpu_percent
    );
    assert_eq!(
        api.memory_usage_bytes,
        512 * 1024 * 1024,
        "usage minus inactive_file"
    );
    assert_eq!(api.memory_limit_bytes, 1024 * 1024 * 1024);
    assert_eq!(api.memory_percent, 50.0);
    assert_eq!(api.ports.len(), 1);
    assert_eq!(api.ports[0].public_port, None);

    let db = by_name(cs, "db");
    assert_eq!((db.health.as_str(), db.restart_count), ("", 2));
    assert!(
        (db.cpu_percent - 12.0).abs() < 0.1,
        "cpu {}",
        db.cpu_percent
    );

    let worker = by_name(cs, "worker");
    assert_eq!(
        (
            worker.state.as_str(),
            worker.restart_count,
            worker.exit_code
        ),
        ("restarting", 17, 1)
    );
    assert!(worker.status.starts_with("Restarting (1)"));

    let batch = by_name(cs, "batch");
    assert_eq!(
        (batch.state.as_str(), batch.exit_code, batch.oom_killed),
        ("exited", 137, true)
    );
    assert_eq!(batch.uptime_seconds, 0);
    assert!(batch.finished_at.is_some());
    assert_eq!(batch.block_io, None, "no stats for stopped containers");

    let migrate = by_name(cs, "migrate");
    assert_eq!((migrate.exit_code, migrate.oom_killed), (0, false));
    assert_eq!(
        migrate
            .labels
            .get("com.docker.compose.oneoff")
            .map(String::as_str),
        Some("True")
    );

    let json = serde_json::to_value(batch).expect("serialise");
    for key in [
        "id",
        "name",
        "image",
        "createdAt",
        "state",
        "status",
        "cpuPercent",
        "memoryUsageBytes",
        "memoryLimitBytes",
        "memoryPercent",
        "uptimeSeconds",
        "restartCount",
        "exitCode",
        "oomKilled",
        "startedAt",
        "finishedAt",
        "ports",
        "labels",
        "networkRxBytes",
        "networkTxBytes",
    ] {
        assert!(json.get(key).is_some(), "container JSON lacks {key}");
    }
    assert_eq!(json["oomKilled"], true);
}

#[test]
fn reports_a_missing_socket_and_a_stopped_daemon() {
    let path = socket_path("gone");
    let mut collector = DockerCollector::new(&path);
    assert!(!collector.socket_exists());
    let err = collector.collect().expect_err("no socket");
    assert!(err.to_string().contains("not found"), "{err}");

    let sim = DockerEngineSim::start(&path).expect("start simulator");
    assert!(collector.socket_exists());
    assert!(collector.collect().is_ok());
    drop(sim);
    assert!(!path.exists(), "simulator removes its socket");
    assert!(collector.collect().is_err());
}
