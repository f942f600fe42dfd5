//! `/api/resources` filters, sort, pagination and aggregations; `/{id}`, `/children`, `/stats`;
//! and `/api/system/actors`, over resources fed through the registry.

mod common;

use common::{client, TestServer};
use pulse::model::{
    ParentRef, ResourceType, Source, SourceRecord, SourceSnapshot, Status, Timestamp,
};
use pulse::monitor::registry::Ingest;
use serde_json::Value;

fn fleet() -> SourceSnapshot {
    let mut records = vec![SourceRecord::new(
        "host-a",
        ResourceType::Agent,
        "alpha",
        Status::Online,
    )];
    for (i, status) in [
        Status::Online,
        Status::Offline,
        Status::Warning,
        Status::Online,
    ]
    .into_iter()
    .enumerate()
    {
        let mut r = SourceRecord::new(
            format!("c{i}"),
            ResourceType::AppContainer,
            format!("svc-{i}"),
            status,
        );
        r.parent = Some(ParentRef::SourceId("host-a".into()));
        r.tags = if i % 2 == 0 {
            vec!["prod".into()]
        } else {
            vec!["dev".into()]
        };
        records.push(r);
    }
    SourceSnapshot {
        source: Source::Docker,
        scope: "docker:alpha".into(),
        observed_at: Timestamp::from_millis(pulse::monitor::clock::now_millis()),
        records,
    }
}

async fn get(srv: &TestServer, token: &str, path: &str) -> Value {
    let resp = client()
        .get(srv.url(path))
        .header("X-API-Token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{path}");
    resp.json().await.unwrap()
}

#[tokio::test]
async fn filters_sort_pagination_and_aggregations() {
    let srv = TestServer::start();
    let token = srv.token(&["monitoring:read", "settings:read"], None);
    let registry = srv
        .running
        .state
        .tenants
        .get("default")
        .unwrap()
        .registry()
        .unwrap();
    assert_eq!(registry.send(Ingest(fleet())).await.unwrap(), 5);

    let all = get(&srv, &token, "/api/resources").await;
    assert_eq!(all["meta"]["total"], 5);
    assert_eq!(all["aggregations"]["byType"]["app-container"], 4);
    assert_eq!(all["aggregations"]["bySource"]["docker"], 5);
    let names: Vec<&str> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alpha", "svc-0", "svc-1", "svc-2", "svc-3"]);

    let page = get(
        &srv,
        &token,
        "/api/resources?type=app-container&sort=name&order=desc&limit=3&page=1",
    )
    .await;
    assert_eq!(page["meta"]["total"], 4);
    assert_eq!(page["meta"]["totalPages"], 2);
    assert_eq!(page["data"][0]["name"], "svc-3");
    let page2 = get(
        &srv,
        &token,
        "/api/resources?type=app-container&sort=name&order=desc&limit=3&page=2",
    )
    .await;
    assert_eq!(page2["data"].as_array().unwrap().len(), 1);

    let offline = get(&srv, &token, "/api/resources?status=offline,warning").await;
    assert_eq!(offline["meta"]["total"], 2);
    assert_eq!(offline["aggregations"]["byStatus"]["warning"], 1);

    let prod = get(&srv, &token, "/api/resources?tags=prod&q=SVC").await;
    assert_eq!(prod["meta"]["total"], 2);

    let host_id = all["data"][0]["id"].as_str().unwrap().to_owned();
    assert!(host_id.starts_with("agent-") && host_id.len() == "agent-".len() + 16);
    let kids = get(&srv, &token, &format!("/api/resources?parent={host_id}")).await;
    assert_eq!(kids["meta"]["total"], 4);
    let children = get(&srv, &token, &format!("/api/resources/{host_id}/children")).await;
    assert_eq!(children["total"], 4);
    let one = get(&srv, &token, &format!("/api/resources/{host_id}")).await;
    assert_eq!(one["name"], "alpha");
    assert_eq!(one["sourceStatus"]["docker"]["status"], "online");

    let stats = get(&srv, &token, "/api/resources/stats").await;
    assert_eq!(stats["total"], 5);
    assert_eq!(stats["byStatus"]["online"], 3);

    // Removing the snapshot's records removes the resources.
    let mut empty = fleet();
    empty.records.clear();
    registry.send(Ingest(empty)).await.unwrap();
    assert_eq!(
        get(&srv, &token, "/api/resources").await["meta"]["total"],
        0
    );
}

#[tokio::test]
async fn supervision_tree_is_visible() {
    let srv = TestServer::start();
    let token = srv.token(&["settings:read"], None);
    let tree = get(&srv, &token, "/api/system/actors").await;
    assert_eq!(tree["name"], "root");
    let tenant = tree["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "tenant:default")
        .expect("default tenant");
    assert_eq!(tenant["kind"], "tenant");
    let registry = tenant["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "registry")
        .expect("registry");
    assert_eq!(registry["state"], "running");
    assert_eq!(registry["restarts"], 0);
    assert!(registry["since"].as_u64().is_some());
}

#[tokio::test]
async fn health_and_version_are_public() {
    let srv = TestServer::start();
    let health: Value = client()
        .get(srv.url("/api/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "healthy");
    assert!(health["uptime"].as_u64().is_some());
    assert!(health["dependencies"].is_object());
    let version: Value = client()
        .get(srv.url("/api/version"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(version["version"], pulse::VERSION);
    let page = client().get(srv.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<title>Pulse</title>"));
}
