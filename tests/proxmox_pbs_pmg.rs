//! The PBS and PMG clients and normalisers against their simulators.

mod common;

use common::proxmox::{password_settings, token_settings};
use pulse::sim::pbs::{PbsSim, PbsSimConfig};
use pulse::sim::pmg::{PmgSim, PmgSimConfig};
use pulse::sources::proxmox::normalise::{normalise_pbs, normalise_pmg};
use pulse::sources::proxmox::pbs::{poll_pbs, JobFamily, PbsClient, PbsPollPlan};
use pulse::sources::proxmox::pmg::{poll_pmg, PmgClient};
use pulse::sources::proxmox::PlatformError;
use pulse_model::{FacetKey, ParentRef, ResourceType, Source, Status, Timestamp};

#[tokio::test]
async fn pbs_poll_decodes_inventory_usage_and_jobs() {
    let sim = PbsSim::start(PbsSimConfig::default()).expect("sim");
    let client = PbsClient::new(&token_settings(
        &sim.url(),
        sim.credentials(),
        sim.fingerprint(),
    ))
    .expect("client");
    let poll = poll_pbs(&client, PbsPollPlan::default())
        .await
        .expect("poll");
    assert_eq!(poll.warnings, Vec::<String>::new());
    assert_eq!(poll.skipped, 0);
    assert_eq!(
        poll.version.as_ref().and_then(|v| v.version.as_deref()),
        Some("3.2.7")
    );
    let node = poll.node.as_ref().expect("node");
    assert_eq!((node.loadavg.len(), node.memory.used), (3, Some(6 << 30)));
    assert_eq!(poll.datastores.len(), 2);
    let main = &poll.datastores[0];
    let offsite = &poll.datastores[1];
    assert_eq!(
        main.namespaces
            .iter()
            .map(|n| n.ns.as_str())
            .collect::<Vec<_>>(),
        ["", "prod", "prod/db"]
    );
    assert_eq!(
        offsite.namespaces.len(),
        1,
        "404 on the namespace call means only the root"
    );
    let snapshots: u64 = poll
        .datastores
        .iter()
        .flat_map(|d| &d.namespaces)
        .map(|n| n.snapshots.snapshots)
        .sum();
    assert_eq!(snapshots, 520);
    for ns in poll.datastores.iter().flat_map(|d| &d.namespaces) {
        assert_eq!(ns.groups.len(), ns.snapshots.groups.len());
        let listed: u64 = ns.groups.iter().filter_map(|g| g.backup_count).sum();
        assert_eq!(
            listed, ns.snapshots.snapshots,
            "groups agree with snapshots in '{}'",
            ns.ns
        );
    }
    let ct101 = &main.namespaces[0].snapshots.groups[&("ct".to_owned(), "101".to_owned())];
    assert_eq!(
        (ct101.verify_failed, ct101.newest_verification.as_deref()),
        (1, Some("failed"))
    );
    let main_status = main.status.as_ref().expect("status");
    assert_eq!(main_status.total, Some(10 << 40), "numbers as strings");
    assert!(main_status.dedup_factor().is_some_and(|f| f > 3.0));
    let offsite_status = offsite.status.as_ref().expect("status");
    assert_eq!(offsite_status.used, Some(4 << 40), "*-space names");
    assert_eq!(offsite_status.dedup_factor(), Some(1.8));
    let jobs = poll.jobs.as_ref().expect("jobs");
    let find = |family| jobs.iter().find(|j| j.family == family).expect("job");
    assert_eq!(
        find(JobFamily::Verify).last_run_state.as_deref(),
        Some("error")
    );
    assert_eq!(
        find(JobFamily::Sync).last_run_state.as_deref(),
        Some("warning")
    );
    assert_eq!(find(JobFamily::Prune).last_run_state.as_deref(), Some("ok"));
    assert_eq!(
        jobs.iter()
            .filter(|j| j.family == JobFamily::Garbage)
            .count(),
        2
    );

    let snapshot = normalise_pbs(&poll, "backup", Timestamp::from_millis(1_700_000_000_000));
    snapshot.validate().expect("valid");
    assert_eq!(
        (snapshot.source, snapshot.scope.as_str()),
        (Source::Pbs, "pbs:backup")
    );
    let server = &snapshot.records[0];
    assert_eq!(
        (server.resource_type, server.status),
        (ResourceType::Pbs, Status::Online)
    );
    assert!(server.metrics.memory().is_some() && server.uptime.is_some());
    assert_eq!(server.facets[&FacetKey::Pbs]["failedJobs"], 1);
    let main = &snapshot.records[1];
    assert_eq!(
        (main.resource_type, main.status),
        (ResourceType::Storage, Status::Warning)
    );
    assert_eq!(main.parent, Some(ParentRef::SourceId("backup".into())));
    let facet = &main.facets[&FacetKey::Pbs];
    assert_eq!(facet["verifyFailures"], 1);
    assert_eq!(facet["failedVerifyGroups"][0], "ct/101");
    assert_eq!(facet["namespaces"].as_array().map(Vec::len), Some(3));
    assert!(facet["lastBackup"].is_string() && facet["dedupFactor"].as_f64().is_some());
    assert_eq!(main.facets[&FacetKey::Storage]["kind"], "pbs-datastore");
    assert_eq!(
        snapshot.records[2].status,
        Status::Online,
        "offsite: no failures"
    );
}

#[tokio::test]
async fn pbs_ticket_auth_wrong_token_and_unavailable_datastore() {
    let sim = PbsSim::start(PbsSimConfig::default()).expect("sim");
    let client = PbsClient::new(&password_settings(&sim.url(), sim.credentials())).expect("client");
    let poll = poll_pbs(
        &client,
        PbsPollPlan {
            inventory: false,
            jobs: false,
        },
    )
    .await
    .expect("ticket");
    assert_eq!(poll.datastores.len(), 2);
    assert!(poll.jobs.is_none() && poll.datastores[0].namespaces.is_empty());

    let mut creds = sim.credentials().clone();
    creds.token_secret = "bad".into();
    let bad =
        PbsClient::new(&token_settings(&sim.url(), &creds, sim.fingerprint())).expect("client");
    assert!(matches!(
        bad.version().await,
        Err(PlatformError::InvalidCredentials { .. })
    ));

    // A datastore whose status cannot be read is reported unavailable (offline), not dropped.
    let token = PbsClient::new(&token_settings(
        &sim.url(),
        sim.credentials(),
        sim.fingerprint(),
    ))
    .expect("client");
    sim.faults().fail_next(1, 500);
    let err = token.datastore_status("main").await.expect_err("500");
    assert!(matches!(err, PlatformError::Http { status: 500, .. }));
    let mut poll = poll_pbs(&token, PbsPollPlan::default())
        .await
        .expect("poll");
    poll.datastores[1].status = None;
    poll.datastores[1].error = Some(err.to_string());
    let snapshot = normalise_pbs(&poll, "backup", Timestamp::EPOCH);
    let offsite = &snapshot.records[2];
    assert_eq!(offsite.status, Status::Offline);
    assert_eq!(offsite.facets[&FacetKey::Pbs]["status"], "unavailable");
    assert!(offsite.error.as_deref().is_some_and(|e| e.contains("500")));
}

#[tokio::test]
async fn pmg_poll_and_normalise() {
    let sim = PmgSim::start(PmgSimConfig::default()).expect("sim");
    let client = PmgClient::new(&token_settings(
        &sim.url(),
        sim.credentials(),
        sim.fingerprint(),
    ))
    .expect("client");
    let poll = poll_pmg(&client).await.expect("poll");
    assert_eq!(poll.warnings, Vec::<String>::new());
    assert_eq!(poll.version.version.as_deref(), Some("8.1.2"));
    assert_eq!(poll.nodes.len(), 1);
    let queue = poll.nodes[0].queue.as_ref().expect("queue");
    assert_eq!((queue.incoming, queue.oldest_age), (Some(1), Some(5400)));
    let mail = poll.mail.as_ref().expect("mail");
    assert!(
        mail.count_out.is_some() && mail.pregreet_rejects == Some(9.0),
        "numbers as strings"
    );
    assert_eq!(poll.spam.as_ref().and_then(|q| q.mbytes), Some(11.49));

    let snapshot = normalise_pmg(&poll, "mail", Timestamp::EPOCH);
    snapshot.validate().expect("valid");
    assert_eq!(snapshot.scope, "pmg:mail");
    let pmg = &snapshot.records[0];
    assert_eq!(
        (pmg.resource_type, pmg.status),
        (ResourceType::Pmg, Status::Online)
    );
    let facet = &pmg.facets[&FacetKey::Pmg];
    assert_eq!(facet["queue"]["incoming"], 1);
    assert!(facet["queue"]["deferred"].as_u64().is_some_and(|d| d >= 14));
    assert_eq!(facet["quarantine"]["virus"]["count"], 3.0);
    assert!(facet["mail"]["countIn"]
        .as_f64()
        .is_some_and(|c| c >= 1200.0));

    let ticket = PmgClient::new(&password_settings(&sim.url(), sim.credentials())).expect("client");
    assert!(poll_pmg(&ticket).await.is_ok());
    sim.faults().set_auth_failure(true);
    assert!(matches!(
        poll_pmg(&client).await,
        Err(PlatformError::InvalidCredentials { .. })
    ));
}
