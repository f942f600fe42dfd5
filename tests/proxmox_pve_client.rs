//! The PVE client against the PVE simulator over real HTTPS on loopback.

mod common;

use std::time::{Duration, Instant};

use common::proxmox::{dead_url, password_settings, token_settings};
use pulse::sim::pve::{PveSim, PveSimConfig};
use pulse::sim::tls::SimCert;
use pulse::sources::proxmox::pve::{poll_pve, PollPlan, PveClient};
use pulse::sources::proxmox::{
    ApiClient, Credentials, EndpointSettings, PlatformError, Product, RetryPolicy,
};
use pulse::sources::tls::{probe_fingerprint, TlsMode};
use serde_json::Value;

fn sim() -> PveSim {
    PveSim::start(PveSimConfig::default()).expect("simulator")
}

fn client(sim: &PveSim) -> PveClient {
    PveClient::new(&[token_settings(
        &sim.url(),
        sim.credentials(),
        sim.fingerprint(),
    )])
    .expect("client")
}

#[tokio::test]
async fn every_endpoint_decodes_with_the_quirks() {
    let sim = sim();
    let poll = poll_pve(&client(&sim), PollPlan::default())
        .await
        .expect("poll");
    assert_eq!(poll.all_warnings().collect::<Vec<_>>(), Vec::<&str>::new());
    assert_eq!(poll.skipped, 0);
    assert_eq!(
        poll.version.as_ref().and_then(|v| v.version.as_deref()),
        Some("8.2.4")
    );
    assert_eq!(poll.cluster_name.as_deref(), Some("demo-cluster"));
    assert_eq!(poll.quorate, Some(true));
    assert_eq!(poll.nodes.len(), 3);
    assert_eq!(poll.guests.len(), 45);
    // vmid as a string, netin as a string, missing names and tags.
    assert!(poll.guests.iter().any(|g| g.is_lxc() && g.vmid == 102));
    assert!(poll
        .guests
        .iter()
        .all(|g| g.status.as_deref() != Some("running") || g.netin.is_some()));
    assert!(poll.guests.iter().any(|g| g.name.is_none()));
    assert_eq!(poll.guests.iter().filter(|g| g.template).count(), 2);
    for node in &poll.nodes {
        let status = node.status.as_ref().expect("node status");
        assert_eq!(status.loadavg.len(), 3, "loadavg of {}", node.entry.node);
        assert!(status.cpuinfo.mhz.is_some());
        assert!(status.memory.total.is_some(), "memory numbers as strings");
        assert!(node.ip.is_some());
        assert_eq!(node.disks.as_ref().map(Vec::len), Some(3));
        assert!(node.backup_tasks.is_some());
    }
    // Node 3 has no cache-aware memory in its status: the RRD filled in (newest point empty).
    assert!(poll.nodes[0].rrd.is_none());
    assert!(poll.nodes[2].rrd.and_then(|r| r.available).is_some());
    assert!(poll.nodes[1].entry.mem.is_some(), "/nodes mem as a string");
    let lvm = &poll.nodes[0].storage[1];
    assert_eq!(
        (lvm.storage.as_str(), lvm.total.is_some()),
        ("local-lvm", true)
    );
    assert!(poll.nodes[2].storage.iter().any(|s| !s.is_enabled()));
    let tank = &poll.nodes[1].zfs[0];
    assert_eq!(tank.pool.health.as_deref(), Some("DEGRADED"));
    assert_eq!(tank.pool.size, Some(8192 << 30));
    assert_eq!(
        tank.detail.as_ref().and_then(|d| d.state.as_deref()),
        Some("DEGRADED")
    );
    assert!(
        poll.nodes[0].zfs[0].detail.is_none(),
        "healthy pools need no detail"
    );
    let disks = poll.nodes[1].disks.as_ref().expect("disks");
    assert_eq!(disks[1].wearout, Some(97.0));
    assert_eq!(disks[2].wearout, None, "N/A");
    assert_eq!(disks[2].health.as_deref(), Some("FAILED"));
    let ceph = poll.ceph.as_ref().expect("ceph");
    assert_eq!(ceph.health.status.as_deref(), Some("HEALTH_WARN"));
    assert_eq!(ceph.osdmap.counts(), (Some(6), Some(6), Some(6)));
    assert!(ceph.pgmap.bytes_used.is_some());
    let replication = poll.replication.as_ref().expect("replication");
    assert_eq!(replication.len(), 2);
    assert_eq!(
        replication[1].status.as_ref().and_then(|s| s.fail_count),
        Some(3)
    );
    let tasks: usize = poll
        .nodes
        .iter()
        .filter_map(|n| n.backup_tasks.as_ref())
        .map(Vec::len)
        .sum();
    assert!(tasks > 5);
}

#[tokio::test]
async fn a_wrong_token_is_a_clear_error() {
    let sim = sim();
    let creds = sim.credentials();
    let settings = EndpointSettings::new(
        sim.url(),
        Credentials::token(&creds.token_id, "00000000-wrong", None).expect("token"),
        TlsMode::InsecureSkipVerify,
    );
    let err = PveClient::new(&[settings])
        .expect("client")
        .nodes()
        .await
        .expect_err("401");
    assert!(
        matches!(err, PlatformError::InvalidCredentials { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("invalid credentials") && text.contains("401"),
        "{text}"
    );
    assert!(!text.contains("wrong"), "never echo the secret");
}

#[tokio::test]
async fn ticket_login_works_and_writes_carry_the_csrf_token() {
    let sim = sim();
    let settings = password_settings(&sim.url(), sim.credentials());
    let client = PveClient::new(std::slice::from_ref(&settings)).expect("client");
    let poll = poll_pve(&client, PollPlan::default())
        .await
        .expect("poll with a ticket");
    assert_eq!(poll.guests.len(), 45);

    let api = ApiClient::new(Product::Pve, &settings).expect("api client");
    let created: Value = api
        .post_form("/access/users/pulse%40pve/token/ci", &[("privsep", "1")])
        .await
        .expect("POST with CSRF token");
    assert_eq!(created["full-tokenid"], "pulse@pve!ci");

    // The simulator really checks the CSRF token: a write with the cookie alone is refused.
    let login: Value = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .expect("reqwest")
        .post(format!("{}/api2/json/access/ticket", sim.url()))
        .form(&[
            ("username", sim.credentials().user.as_str()),
            ("password", sim.credentials().password.as_str()),
        ])
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let ticket = login["data"]["ticket"].as_str().expect("ticket");
    let status = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .expect("reqwest")
        .post(format!(
            "{}/api2/json/access/users/x@pve/token/y",
            sim.url()
        ))
        .header("Cookie", format!("PVEAuthCookie={ticket}"))
        .send()
        .await
        .expect("post")
        .status();
    assert_eq!(status.as_u16(), 401);

    let mut wrong = sim.credentials().clone();
    wrong.password = "nope".into();
    let err = PveClient::new(&[password_settings(&sim.url(), &wrong)])
        .expect("client")
        .nodes()
        .await
        .expect_err("bad password");
    assert!(
        matches!(err, PlatformError::InvalidCredentials { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn pinning_matches_mismatches_and_insecure_mode() {
    let sim = sim();
    let creds = sim.credentials();
    let token =
        || Credentials::token(&creds.token_id, creds.token_secret.clone(), None).expect("token");
    let other = SimCert::generate().expect("cert");
    let pinned_wrong = EndpointSettings::new(
        sim.url(),
        token(),
        TlsMode::Pinned(other.fingerprint().parse().expect("fp")),
    );
    let err = PveClient::new(&[pinned_wrong])
        .expect("client")
        .version()
        .await
        .expect_err("pin");
    let text = err.to_string();
    assert!(
        matches!(err, PlatformError::FingerprintMismatch { .. }),
        "{err:?}"
    );
    assert!(
        text.contains(other.fingerprint()) && text.contains(sim.fingerprint()),
        "{text}"
    );

    let insecure = EndpointSettings::new(sim.url(), token(), TlsMode::InsecureSkipVerify);
    assert!(PveClient::new(&[insecure])
        .expect("client")
        .version()
        .await
        .is_ok());

    let verified = EndpointSettings::new(sim.url(), token(), TlsMode::Verified);
    let err = PveClient::new(&[verified])
        .expect("client")
        .version()
        .await
        .expect_err("self-signed");
    assert!(matches!(err, PlatformError::Tls { .. }), "{err:?}");

    let colons: String = sim
        .fingerprint()
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).to_uppercase())
        .collect::<Vec<_>>()
        .join(":");
    let pinned = EndpointSettings::new(
        sim.url(),
        token(),
        TlsMode::from_settings(true, Some(&colons)).expect("mode"),
    );
    assert!(PveClient::new(&[pinned])
        .expect("client")
        .version()
        .await
        .is_ok());

    let seen = probe_fingerprint(&sim.url(), Duration::from_secs(5))
        .await
        .expect("probe");
    assert_eq!(seen.as_hex(), sim.fingerprint());
}

#[tokio::test]
async fn failover_to_the_next_endpoint_and_reprobe() {
    let cert = SimCert::generate().expect("cert");
    let primary = PveSim::start_with_cert(PveSimConfig::default(), &cert).expect("sim");
    let peer = primary.peer(&cert).expect("peer");
    let creds = primary.credentials();
    let endpoints = [
        token_settings(&dead_url(), creds, cert.fingerprint()),
        token_settings(&primary.url(), creds, cert.fingerprint()),
    ];
    let client = PveClient::new(&endpoints)
        .expect("client")
        .with_policy(RetryPolicy {
            reprobe_after: Duration::from_millis(300),
            ..RetryPolicy::default()
        });
    let nodes = client.nodes().await.expect("second endpoint answers");
    assert_eq!(nodes.items.len(), 3);
    let health = client.api().health();
    assert!(!health[0].healthy && health[1].healthy);
    assert!(health[0]
        .last_error
        .as_deref()
        .is_some_and(|e| e.contains("cannot connect")));

    // A hanging endpoint times out and the peer (same cluster) takes over.
    let endpoints = [
        token_settings(&primary.url(), creds, cert.fingerprint())
            .with_timeout(Duration::from_secs(1)),
        token_settings(&peer.url(), creds, cert.fingerprint()),
    ];
    let client = PveClient::new(&endpoints)
        .expect("client")
        .with_policy(RetryPolicy {
            reprobe_after: Duration::from_millis(300),
            ..RetryPolicy::default()
        });
    primary.faults().set_hang(true);
    let started = Instant::now();
    assert_eq!(client.guests().await.expect("peer answers").items.len(), 45);
    assert!(started.elapsed() < Duration::from_secs(3));
    let before = peer.faults().requests();
    // While unhealthy, the first endpoint is skipped without waiting for it.
    let started = Instant::now();
    client.version().await.expect("version");
    assert!(started.elapsed() < Duration::from_millis(500));
    assert_eq!(peer.faults().requests(), before + 1);
    // After the re-probe interval it is tried again and, healthy again, used.
    primary.faults().set_hang(false);
    tokio::time::sleep(Duration::from_millis(350)).await;
    let primary_before = primary.faults().requests();
    client.version().await.expect("version");
    assert!(primary.faults().requests() > primary_before);
    assert!(client.api().health()[0].healthy);
}

#[tokio::test]
async fn a_hung_endpoint_times_out_within_the_timeout() {
    let sim = sim();
    sim.faults().set_hang(true);
    let settings = token_settings(&sim.url(), sim.credentials(), sim.fingerprint())
        .with_timeout(Duration::from_millis(800));
    let client = PveClient::new(&[settings]).expect("client");
    let started = Instant::now();
    let err = client.nodes().await.expect_err("timeout");
    let elapsed = started.elapsed();
    assert!(matches!(err, PlatformError::Timeout { .. }), "{err:?}");
    assert!(
        elapsed >= Duration::from_millis(700) && elapsed < Duration::from_millis(2000),
        "{elapsed:?}"
    );
    assert!(err.to_string().contains("no answer within 0.8 s"), "{err}");
}

#[tokio::test]
async fn garbage_and_html_are_clear_errors() {
    let sim = sim();
    let client = client(&sim);
    sim.faults().set_garbage(true);
    let err = client.nodes().await.expect_err("garbage");
    assert!(matches!(err, PlatformError::Decode { .. }), "{err:?}");
    assert!(err.to_string().contains("invalid JSON"), "{err}");
    sim.faults().set_garbage(false);
    sim.faults().set_html(true);
    let err = client.nodes().await.expect_err("html");
    assert!(err.to_string().contains("check the URL and port"), "{err}");
    sim.faults().clear();
    assert!(client.nodes().await.is_ok());
}

#[tokio::test]
async fn one_malformed_guest_is_skipped_and_counted() {
    let sim = sim();
    sim.control().set_malformed_guest(true);
    let poll = poll_pve(&client(&sim), PollPlan::default())
        .await
        .expect("poll");
    assert_eq!(poll.guests.len(), 45);
    assert_eq!(poll.skipped, 1);
}

#[tokio::test]
async fn transient_statuses_are_retried_within_the_budget() {
    let sim = sim();
    let client = client(&sim);
    sim.faults().fail_next(2, 503);
    assert!(
        client.version().await.is_ok(),
        "two retries absorb two 503s"
    );
    sim.faults().fail_next(3, 502);
    let err = client.version().await.expect_err("budget exhausted");
    assert!(
        matches!(err, PlatformError::Http { status: 502, .. }),
        "{err:?}"
    );
    sim.faults().fail_next(1, 500);
    assert!(
        matches!(
            client.version().await,
            Err(PlatformError::Http { status: 500, .. })
        ),
        "500 is not retried"
    );
}

#[tokio::test]
async fn status_codes_map_to_their_meaning() {
    let sim = sim();
    let client = client(&sim);
    sim.faults().fail_next(1, 403);
    let err = client.nodes().await.expect_err("403");
    assert!(
        err.to_string().contains("USER, not just the token"),
        "{err}"
    );
    sim.faults().fail_next(1, 595);
    assert!(matches!(
        client.nodes().await,
        Err(PlatformError::ProxyFailure { .. })
    ));
    sim.control().set_down_node(Some(1));
    let err = client.node_status("pve2").await.expect_err("595");
    assert_eq!(
        err,
        PlatformError::NodeOffline {
            node: "pve2".into()
        }
    );
    let poll = poll_pve(&client, PollPlan::default())
        .await
        .expect("poll with a node down");
    assert_eq!(poll.nodes[1].entry.status.as_deref(), Some("unknown"));
    assert!(poll.nodes[1].status.is_none());
    assert!(
        poll.all_warnings().all(|w| w.starts_with("replication")),
        "offline nodes are not polled"
    );
    sim.faults().set_auth_failure(true);
    assert!(matches!(
        client.nodes().await,
        Err(PlatformError::InvalidCredentials { .. })
    ));
}

#[tokio::test]
async fn base_urls_without_scheme_work() {
    let sim = sim();
    let host = sim.url().trim_start_matches("https://").to_owned();
    let settings = token_settings(&host, sim.credentials(), sim.fingerprint());
    let client = PveClient::new(&[settings]).expect("client");
    assert!(client.api().primary().base_url().ends_with("/api2/json"));
    assert!(client.version().await.is_ok());
}
