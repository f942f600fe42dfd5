//! The TrueNAS client against its simulator: both transports and their negotiation, login,
//! TLS modes, per-method failures, reconnects and backoff.

mod common;

use std::time::Duration;

use common::truenas::{api_key_settings, now, password_settings};
use pulse::config::Secret;
use pulse::sim::truenas::{TruenasSim, TruenasSimConfig};
use pulse::sources::tls::TlsMode;
use pulse::sources::truenas::{
    normalise_truenas, test_connection, TransportMode, TruenasAuth, TruenasClient, TruenasError,
    TruenasSettings,
};
use pulse_model::{FacetKey, ParentRef, ResourceType, Status};

fn start(config: TruenasSimConfig) -> TruenasSim {
    TruenasSim::start(config).expect("simulator")
}

/// A status by the record's name.
fn status_of(snapshot: &pulse_model::SourceSnapshot, name: &str) -> Status {
    snapshot
        .records
        .iter()
        .find(|r| r.name == name || r.name.starts_with(&format!("{name} (")))
        .unwrap_or_else(|| panic!("no record {name}"))
        .status
}

#[tokio::test]
async fn scale_polls_everything_over_jsonrpc() {
    let sim = start(TruenasSimConfig::default());
    let client = TruenasClient::new(api_key_settings("nas-1", &sim)).expect("client");
    let poll = client.poll(now()).await.expect("poll");
    assert_eq!(poll.mode, TransportMode::JsonRpcWebSocket);
    assert_eq!(poll.failures, vec![]);
    assert_eq!(
        poll.unsupported,
        Vec::<&str>::new(),
        "25.04 has only pool.snapshot.query, which the client falls back to"
    );
    assert_eq!(poll.skipped, 0);
    let system = poll.system.as_ref().expect("system");
    assert_eq!(system.hostname.as_deref(), Some("truenas-main"));
    assert_eq!(poll.pools.as_ref().map(Vec::len), Some(4));
    assert_eq!(
        poll.boot_pool.as_ref().map(|b| b.name.as_str()),
        Some("boot-pool")
    );
    assert_eq!(poll.datasets.as_ref().map(Vec::len), Some(13));
    assert_eq!(poll.disks.as_ref().map(Vec::len), Some(11));
    let temps = poll.disk_temperatures.as_ref().expect("temperatures");
    assert_eq!(temps.get("sda"), Some(&34.0));
    assert!(
        !temps.contains_key("sdg"),
        "a disk without a sensor has no reading"
    );
    assert_eq!(poll.alerts.as_ref().map(Vec::len), Some(5));
    assert_eq!(poll.snapshots.as_ref().map(|s| s.total), Some(181));
    assert_eq!(poll.replication.as_ref().map(Vec::len), Some(3));
    assert_eq!(poll.apps.as_ref().map(Vec::len), Some(3));
    assert_eq!(poll.vms.as_ref().map(Vec::len), Some(2));
    assert_eq!(
        (
            poll.smb_shares.as_ref().map(Vec::len),
            poll.nfs_shares.as_ref().map(Vec::len)
        ),
        (Some(2), Some(1))
    );
    let status = client.status();
    assert!(status.connected);
    assert_eq!(status.auth_mechanism, Some("API_KEY_PLAIN"));
    assert_eq!(status.appliance_version.as_deref(), Some("25.04.2"));
    assert_eq!(status.tls, "pinned");

    // The session stays open and the snapshot method is remembered.
    let faults = sim.faults();
    client.poll(now()).await.expect("second poll");
    assert_eq!(faults.logins(), 1, "one login for both polls");
    assert_eq!(faults.calls("zfs.resource.snapshot.query"), 1);
    assert_eq!(faults.calls("pool.snapshot.query"), 2);

    let snapshot = normalise_truenas(&poll, "nas-1", now());
    snapshot.validate().expect("valid snapshot");
    assert_eq!(snapshot.records.len(), 38);
    assert_eq!(snapshot.scope, "nas-1");
    let system = &snapshot.records[0];
    assert_eq!(
        (
            system.source_id.as_str(),
            system.resource_type,
            system.status
        ),
        ("system:nas-1", ResourceType::Agent, Status::Warning)
    );
    assert_eq!(system.identity.machine_id.as_deref(), Some("A1-TN-204817"));
    let alerts = system.facets[&FacetKey::Truenas]["alerts"]
        .as_array()
        .expect("alerts");
    assert_eq!(alerts.len(), 4, "the dismissed alert is left out");
    assert!(alerts.iter().any(|a| a["level"] == "CRITICAL"
        && a["message"].as_str().is_some_and(|m| m.contains("archive"))));
    for (name, status) in [
        ("tank", Status::Online),
        ("archive", Status::Warning),
        ("vault", Status::Offline),
        ("boot-pool", Status::Online),
        ("sdg", Status::Offline),
        ("sdh", Status::Offline),
        ("sdf", Status::Online),
        ("syncthing", Status::Warning),
        ("win11", Status::Offline),
        ("secure", Status::Warning),
    ] {
        assert_eq!(status_of(&snapshot, name), status, "{name}");
    }
    let archive = snapshot
        .records
        .iter()
        .find(|r| r.source_id == "system:nas-1/pool:archive")
        .expect("archive");
    let facet = &archive.facets[&FacetKey::Truenas];
    assert_eq!(facet["poolState"], "DEGRADED");
    assert_eq!(
        (
            facet["readErrors"].as_u64(),
            facet["checksumErrors"].as_u64()
        ),
        (Some(12), Some(3))
    );
    assert_eq!(facet["scan"]["function"], "RESILVER");
    let dataset = snapshot
        .records
        .iter()
        .find(|r| r.source_id == "system:nas-1/dataset:tank/media")
        .expect("dataset");
    assert_eq!(
        dataset.parent,
        Some(ParentRef::SourceId("system:nas-1/pool:tank".into()))
    );
    assert_eq!(dataset.facets[&FacetKey::Truenas]["snapshotCount"], 30);
}

#[tokio::test]
async fn password_login_and_api_key_without_username() {
    let sim = start(TruenasSimConfig::default());
    let client = TruenasClient::new(password_settings("nas-pw", &sim)).expect("client");
    client.connect(now()).await.expect("password login");
    assert_eq!(client.status().auth_mechanism, Some("PASSWORD_PLAIN"));
    assert_eq!(client.status().tls, "insecure-skip-verify");

    let mut settings = api_key_settings("nas-key", &sim);
    settings.auth = TruenasAuth::ApiKey {
        username: None,
        key: Secret::new(sim.credentials().api_key.clone()),
    };
    let client = TruenasClient::new(settings).expect("client");
    let poll = client.poll(now()).await.expect("poll");
    assert_eq!(client.status().auth_mechanism, Some("login_with_api_key"));
    assert_eq!(poll.failures, vec![]);
}

#[tokio::test]
async fn newer_scale_uses_the_zfs_resource_snapshot_method() {
    let sim = start(TruenasSimConfig::scale("25.10.1"));
    let client = TruenasClient::new(api_key_settings("nas", &sim)).expect("client");
    let poll = client.poll(now()).await.expect("poll");
    assert_eq!(poll.unsupported, Vec::<&str>::new());
    assert_eq!(poll.snapshots.map(|s| s.total), Some(181));
    assert_eq!(sim.faults().calls("pool.snapshot.query"), 0);
}

#[tokio::test]
async fn core_13_negotiates_the_legacy_rest_api() {
    let sim = start(TruenasSimConfig::core());
    let client = TruenasClient::new(api_key_settings("core", &sim)).expect("client");
    let poll = client.poll(now()).await.expect("poll");
    assert_eq!(poll.mode, TransportMode::LegacyRest);
    let status = client.status();
    assert_eq!(status.mode, TransportMode::LegacyRest);
    let reason = status.legacy_reason.expect("reason");
    assert!(
        reason.contains("redirect") && reason.contains("CORE"),
        "{reason}"
    );
    assert_eq!(status.auth_mechanism, Some("REST bearer"));
    assert_eq!(poll.failures, vec![]);
    assert_eq!(poll.unsupported, vec!["app.query"], "CORE has no apps");
    assert_eq!(
        poll.datasets.as_ref().map(Vec::len),
        Some(13),
        "nested listing flattened"
    );
    assert_eq!(poll.snapshots.as_ref().map(|s| s.total), Some(181));
    let temps = poll.disk_temperatures.as_ref().expect("temperatures");
    assert_eq!(temps.get("ada1"), Some(&35.0), "a reading sent as a string");
    assert_eq!(
        poll.boot_pool.as_ref().map(|b| b.name.as_str()),
        Some("freenas-boot")
    );
    assert_eq!(sim.faults().logins(), 0, "no WebSocket session");
    let snapshot = normalise_truenas(&poll, "core", now());
    snapshot.validate().expect("valid");
    assert_eq!(status_of(&snapshot, "archive"), Status::Warning);
    assert_eq!(status_of(&snapshot, "ada6"), Status::Offline);
    let boot = snapshot
        .records
        .iter()
        .find(|r| r.name == "freenas-boot")
        .expect("boot pool from the groups shape");
    assert_eq!(
        boot.facets[&FacetKey::Truenas]["vdevs"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let nfs = snapshot
        .records
        .iter()
        .find(|r| r.resource_type == ResourceType::NetworkShare && r.name == "/mnt/tank/backups")
        .expect("nfs share from paths[]");
    assert_eq!(nfs.status, Status::Offline);

    // Password auth goes as HTTP basic.
    let client = TruenasClient::new(password_settings("core-pw", &sim)).expect("client");
    client.poll(now()).await.expect("basic auth poll");
    assert_eq!(client.status().auth_mechanism, Some("REST basic"));
}

#[tokio::test]
async fn scale_before_25_04_falls_back_to_rest() {
    let sim = start(TruenasSimConfig::scale("TrueNAS-SCALE-24.10.2"));
    let client = TruenasClient::new(api_key_settings("old", &sim)).expect("client");
    let poll = client.poll(now()).await.expect("poll");
    assert_eq!(poll.mode, TransportMode::LegacyRest);
    let reason = client.status().legacy_reason.expect("reason");
    assert!(
        reason.contains("404") && reason.contains("24.10"),
        "{reason}"
    );
    assert_eq!(poll.apps.as_ref().map(Vec::len), Some(3));
}

#[tokio::test]
async fn a_current_release_without_jsonrpc_refuses_the_rest_downgrade() {
    let sim = start(TruenasSimConfig::default());
    sim.faults().set_websocket_disabled(true);
    let client = TruenasClient::new(api_key_settings("nas", &sim)).expect("client");
    let err = client.connect(now()).await.expect_err("refused");
    assert!(
        matches!(err, TruenasError::DowngradeRefused { .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(text.contains("25.04.2") && text.contains("404"), "{text}");
    assert_eq!(client.status().mode, TransportMode::Negotiating);
}

#[tokio::test]
async fn an_endpoint_without_either_api_says_to_check_host_and_port() {
    let sim = start(TruenasSimConfig::default());
    sim.faults().set_websocket_disabled(true);
    sim.faults().set_unknown("system.info", true);
    let err = TruenasClient::new(api_key_settings("nas", &sim))
        .expect("client")
        .connect(now())
        .await
        .expect_err("no API");
    assert!(matches!(err, TruenasError::NoApi { .. }), "{err}");
    assert!(err.to_string().contains("check the host and port"), "{err}");
}

#[tokio::test]
async fn rejected_credentials_say_so_and_back_off() {
    let sim = start(TruenasSimConfig::default());
    let mut settings = api_key_settings("nas", &sim);
    settings.auth = TruenasAuth::ApiKey {
        username: Some("pulse".into()),
        key: Secret::new("1-wrong-key-0000"),
    };
    let client = TruenasClient::new(settings).expect("client");
    let t0 = now();
    let err = client.poll(t0).await.expect_err("auth failure");
    assert!(err.is_auth(), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("authentication failed") && text.contains("user 'pulse'"),
        "{text}"
    );
    assert!(!text.contains("wrong-key"), "the key is never in a message");
    let err = client.poll(t0.plus_millis(500)).await.expect_err("backoff");
    assert!(matches!(err, TruenasError::Backoff { .. }), "{err}");
    assert!(err.to_string().contains("authentication failed"), "{err}");
    let requests = sim.faults().requests();
    let err = client
        .poll(t0.plus_millis(2_500))
        .await
        .expect_err("retried");
    assert!(err.is_auth());
    assert!(
        sim.faults().requests() > requests,
        "retried after the backoff"
    );

    // The same over REST (CORE), and through the test button.
    let core = start(TruenasSimConfig::core());
    let mut settings = password_settings("core", &core);
    settings.auth = TruenasAuth::Password {
        username: "admin".into(),
        password: Secret::new("not-the-password"),
    };
    let err = test_connection(&settings).await.expect_err("auth failure");
    assert!(err.is_auth(), "{err}");
    assert!(err.to_string().contains("user 'admin'"), "{err}");
    assert!(!err.to_string().contains("not-the-password"));

    // An appliance-side refusal of a correct key is an auth failure too.
    sim.faults().set_auth_failure(true);
    let err = test_connection(&api_key_settings("nas", &sim))
        .await
        .expect_err("refused");
    assert!(err.is_auth(), "{err}");
}

#[tokio::test]
async fn a_failing_method_is_recorded_and_the_rest_lands() {
    let sim = start(TruenasSimConfig::default());
    let faults = sim.faults();
    faults.set_failing("disk.query", true);
    faults.set_unknown("vm.query", true);
    let client = TruenasClient::new(api_key_settings("nas", &sim)).expect("client");
    let t0 = now();
    let poll = client.poll(t0).await.expect("poll");
    assert_eq!(poll.failures.len(), 1);
    let failure = &poll.failures[0];
    assert_eq!(failure.method, "disk.query");
    assert!(
        failure.error.contains("simulated failure"),
        "{}",
        failure.error
    );
    assert_eq!(
        failure.carried_from, None,
        "nothing to carry on the first poll"
    );
    assert!(poll.unsupported.contains(&"vm.query"));
    assert_eq!(
        (poll.disks.as_ref(), poll.disk_temperatures.as_ref()),
        (None, None)
    );
    assert_eq!(poll.vms.as_ref(), None);
    assert_eq!(poll.pools.as_ref().map(Vec::len), Some(4));
    assert_eq!(poll.datasets.as_ref().map(Vec::len), Some(13));
    assert_eq!(poll.alerts.as_ref().map(Vec::len), Some(5));
    let snapshot = normalise_truenas(&poll, "nas", t0);
    let system = &snapshot.records[0];
    assert!(system
        .error
        .as_deref()
        .is_some_and(|e| e.contains("disk.query")));
    assert_eq!(
        system.facets[&FacetKey::Truenas]["failedMethods"][0]["method"],
        "disk.query"
    );
    assert!(!snapshot
        .records
        .iter()
        .any(|r| r.resource_type == ResourceType::PhysicalDisk));

    // A method that answered before is carried over while it fails.
    faults.clear();
    client
        .poll(t0.plus_millis(60_000))
        .await
        .expect("good poll");
    faults.set_failing("pool.dataset.query", true);
    let t2 = t0.plus_millis(120_000);
    let poll = client.poll(t2).await.expect("poll");
    assert_eq!(poll.failures.len(), 1);
    assert_eq!(poll.failures[0].carried_from, Some(t0.plus_millis(60_000)));
    assert_eq!(
        poll.datasets.as_ref().map(Vec::len),
        Some(13),
        "carried over"
    );
    // … but not forever.
    let poll = client
        .poll(t2.plus_millis(10 * 60_000))
        .await
        .expect("poll");
    assert_eq!(poll.datasets, None);
    assert_eq!(poll.failures[0].carried_from, None);
}

#[tokio::test]
async fn a_slow_method_times_out_alone_and_its_late_answer_is_skipped() {
    let sim = start(TruenasSimConfig::default());
    let faults = sim.faults();
    // The answer comes a second after the client gave up, in the middle of later calls.
    faults.set_slow("alert.list", Duration::from_secs(4));
    let client =
        TruenasClient::new(api_key_settings("nas", &sim).with_timeout(Duration::from_secs(3)))
            .expect("client");
    let poll = client.poll(now()).await.expect("poll");
    assert_eq!(poll.failures.len(), 1);
    assert_eq!(poll.failures[0].method, "alert.list");
    assert!(
        poll.failures[0].error.contains("no answer"),
        "{}",
        poll.failures[0].error
    );
    assert_eq!(poll.alerts, None);
    assert_eq!(
        poll.replication.as_ref().map(Vec::len),
        Some(3),
        "later methods land"
    );
    faults.set_slow("alert.list", Duration::ZERO);
    let poll = client.poll(now()).await.expect("poll");
    assert_eq!(poll.failures, vec![]);
    assert_eq!(poll.alerts.as_ref().map(Vec::len), Some(5));
    assert_eq!(faults.logins(), 1, "a timeout does not cost the session");
}

#[tokio::test]
async fn the_client_reconnects_after_the_appliance_restarts() {
    let mut sim = start(TruenasSimConfig::default());
    let client = TruenasClient::new(api_key_settings("nas", &sim)).expect("client");
    client.poll(now()).await.expect("first poll");
    let port = sim.addr().port();
    sim.restart().expect("restart");
    assert_eq!(sim.addr().port(), port);
    let poll = client.poll(now()).await.expect("poll after restart");
    assert_eq!(poll.failures, vec![]);
    assert_eq!(poll.pools.as_ref().map(Vec::len), Some(4));
    let status = client.status();
    assert_eq!(status.reconnects, 1);
    assert!(status.connected);
    assert_eq!(sim.faults().logins(), 2);

    // A session the appliance drops mid-poll is re-opened too.
    sim.faults().drop_connections();
    let poll = client.poll(now()).await.expect("poll after drop");
    assert_eq!(poll.failures, vec![]);
    assert_eq!(client.status().reconnects, 2);
}

#[tokio::test]
async fn an_appliance_that_is_down_is_retried_with_backoff() {
    let mut sim = start(TruenasSimConfig::default());
    let client = TruenasClient::new(api_key_settings("nas", &sim)).expect("client");
    let t0 = now();
    client.poll(t0).await.expect("first poll");
    sim.stop();
    let err = client.poll(t0.plus_millis(1_000)).await.expect_err("down");
    assert!(err.is_transport(), "{err}");
    assert!(!client.status().connected);
    assert!(client.health().last_error.is_some());
    let err = client
        .poll(t0.plus_millis(1_500))
        .await
        .expect_err("waiting");
    assert!(matches!(err, TruenasError::Backoff { .. }), "{err}");
    let err = client
        .poll(t0.plus_millis(3_500))
        .await
        .expect_err("still down");
    assert!(err.is_transport(), "{err}");
    sim.resume().expect("resume");
    let err = client
        .poll(t0.plus_millis(4_000))
        .await
        .expect_err("backoff grew");
    assert!(matches!(err, TruenasError::Backoff { .. }), "{err}");
    let poll = client.poll(t0.plus_millis(60_000)).await.expect("back");
    assert_eq!(poll.failures, vec![]);
    assert!(client.health().healthy);
}

#[tokio::test]
async fn tls_pins_and_verification() {
    let sim = start(TruenasSimConfig::default());
    let wrong = "ab".repeat(32);
    let mut settings = api_key_settings("nas", &sim);
    settings.tls = TlsMode::Pinned(wrong.parse().expect("fingerprint"));
    let err = TruenasClient::new(settings)
        .expect("client")
        .connect(now())
        .await
        .expect_err("pin mismatch");
    assert!(
        matches!(err, TruenasError::FingerprintMismatch { .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&wrong) && text.contains(sim.fingerprint()),
        "{text}"
    );

    let mut settings = api_key_settings("nas", &sim);
    settings.tls = TlsMode::Verified;
    let err = TruenasClient::new(settings)
        .expect("client")
        .connect(now())
        .await
        .expect_err("self-signed");
    assert!(matches!(err, TruenasError::Tls { .. }), "{err}");

    // Pinned over REST too.
    let core = start(TruenasSimConfig::core());
    let mut settings = api_key_settings("core", &core);
    settings.tls = TlsMode::Pinned(wrong.parse().expect("fingerprint"));
    let err = TruenasClient::new(settings)
        .expect("client")
        .connect(now())
        .await
        .expect_err("pin mismatch");
    assert!(
        matches!(err, TruenasError::FingerprintMismatch { .. }),
        "{err}"
    );
}

#[test]
fn plain_http_is_refused_for_credentials() {
    for host in ["http://127.0.0.1:8080", "ws://nas.lan"] {
        let err = TruenasSettings::new(
            "nas",
            host,
            TruenasAuth::ApiKey {
                username: Some("pulse".into()),
                key: Secret::new("1-secret"),
            },
            TlsMode::Verified,
        )
        .expect_err("refused");
        assert!(
            matches!(err, TruenasError::PlainHttpRefused { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("plain HTTP"));
    }
}

#[tokio::test]
async fn test_connection_summarises_both_transports() {
    let sim = start(TruenasSimConfig::default());
    let summary = test_connection(&api_key_settings("nas", &sim))
        .await
        .expect("summary");
    assert_eq!(summary.mode, TransportMode::JsonRpcWebSocket);
    assert_eq!(summary.hostname.as_deref(), Some("truenas-main"));
    assert_eq!(
        (summary.pools, summary.version.as_deref()),
        (4, Some("25.04.2"))
    );
    let json = serde_json::to_value(&summary).expect("json");
    assert_eq!(json["mode"], "jsonrpc-websocket");
    assert_eq!(json["authMechanism"], "API_KEY_PLAIN");

    let core = start(TruenasSimConfig::core());
    let summary = test_connection(&api_key_settings("core", &core))
        .await
        .expect("summary");
    assert_eq!(summary.mode, TransportMode::LegacyRest);
    assert!(summary.legacy_reason.is_some());
}

#[tokio::test]
async fn two_appliances_with_the_same_pool_names_never_merge() {
    let a = start(TruenasSimConfig::default());
    let b = start(TruenasSimConfig::default());
    b.update(|s| {
        s.hostname = "truenas-backup".into();
        s.serial = "B2-TN-000002".into();
    });
    let mut registry = pulse_model::RegistryState::new();
    for (id, sim) in [("nas-a", &a), ("nas-b", &b)] {
        let client = TruenasClient::new(api_key_settings(id, sim)).expect("client");
        let poll = client.poll(now()).await.expect("poll");
        registry.ingest(normalise_truenas(&poll, id, now()), now());
    }
    let tanks: Vec<_> = registry
        .resources()
        .filter(|r| r.name == "tank" && r.facets["truenas"]["kind"] == "pool")
        .collect();
    assert_eq!(tanks.len(), 2, "one tank per appliance");
    assert_ne!(tanks[0].parent_id, tanks[1].parent_id);
    let appliances = registry
        .resources()
        .filter(|r| r.resource_type == ResourceType::Agent)
        .count();
    assert_eq!(appliances, 2);
}
