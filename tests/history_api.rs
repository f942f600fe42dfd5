//! Metrics history end to end: real agent reports go through ingest, the registry and the tenant's
//! history writer into the store, and come back through `/api/metrics-store/history` and
//! `/api/charts`; bad parameters answer 400 naming the parameter, other orgs' resources 404.

mod common;

use std::time::Duration;

use common::{client, expect_error, TestServer};
use pulse::sim::agents::{gzip_json, host_report};
use serde_json::Value;

async fn post_report(srv: &TestServer, token: &str, seed: u64, tick: u64) {
    let resp = client()
        .post(srv.url("/api/agents/agent/report"))
        .header("X-API-Token", token)
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .body(gzip_json(&host_report(seed, tick)).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

async fn get(srv: &TestServer, token: &str, path: &str) -> reqwest::Response {
    client()
        .get(srv.url(path))
        .header("X-API-Token", token)
        .send()
        .await
        .unwrap()
}

async fn host_id(srv: &TestServer, token: &str) -> String {
    let list: Value = get(srv, token, "/api/resources?type=agent")
        .await
        .json()
        .await
        .unwrap();
    list["data"][0]["id"]
        .as_str()
        .expect("host resource")
        .to_owned()
}

/// Polls `path` until `done` holds for its JSON (the writer hands samples over within ~1 s).
async fn wait_json(
    srv: &TestServer,
    token: &str,
    path: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..300 {
        let resp = get(srv, token, path).await;
        assert_eq!(resp.status(), 200, "{path}");
        let body: Value = resp.json().await.unwrap();
        if done(&body) {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("condition never held for {path}");
}

fn cpu_of(seed: u64, tick: u64) -> f64 {
    host_report(seed, tick)["metrics"]["cpuUsagePercent"]
        .as_f64()
        .unwrap()
}

#[tokio::test]
async fn agent_reports_become_history_and_charts() {
    let srv = TestServer::start();
    let agent = srv.token(&["agent:report"], None);
    let reader = srv.token(&["monitoring:read"], None);

    // Three reports more than a second apart: three raw samples.
    for tick in 0..3 {
        post_report(&srv, &agent, 7, tick).await;
        tokio::time::sleep(Duration::from_millis(1_100)).await;
    }
    let id = host_id(&srv, &reader).await;
    let path = format!("/api/metrics-store/history?resourceId={id}&metric=cpu&range=1h");
    let body = wait_json(&srv, &reader, &path, |b| {
        b["points"].as_array().is_some_and(|p| p.len() >= 3)
    })
    .await;
    assert_eq!(body["resourceId"], id.as_str());
    assert_eq!(
        (body["metric"].as_str(), body["range"].as_str()),
        (Some("cpu"), Some("1h"))
    );
    let (start, end) = (
        body["start"].as_i64().unwrap(),
        body["end"].as_i64().unwrap(),
    );
    assert_eq!(end - start, 3_600_000);
    let points = body["points"].as_array().unwrap();
    let values: Vec<f64> = points
        .iter()
        .map(|p| p["value"].as_f64().unwrap())
        .collect();
    let expected: Vec<f64> = (0..3).map(|t| cpu_of(7, t)).collect();
    assert_eq!(values, expected);
    for p in points {
        assert_eq!(p["min"], p["value"]);
        assert_eq!(p["max"], p["value"]);
        let ts = p["timestamp"].as_i64().unwrap();
        assert!(start <= ts && ts <= end, "{ts} outside [{start}, {end}]");
    }

    // Downsampled to one point, min and max survive.
    let one: Value = get(&srv, &reader, &format!("{path}&maxPoints=1"))
        .await
        .json()
        .await
        .unwrap();
    let pts = one["points"].as_array().unwrap();
    assert_eq!(pts.len(), 1, "{one}");
    let lo = expected.iter().copied().fold(f64::MAX, f64::min);
    let hi = expected.iter().copied().fold(f64::MIN, f64::max);
    assert_eq!(
        (pts[0]["min"].as_f64(), pts[0]["max"].as_f64()),
        (Some(lo), Some(hi))
    );

    // Memory and disk percent, and the rates derived between reports.
    for metric in ["memory", "disk", "netIn", "netOut", "temperature"] {
        let p = format!("/api/metrics-store/history?resourceId={id}&metric={metric}&range=24h");
        wait_json(&srv, &reader, &p, |b| {
            b["points"].as_array().is_some_and(|p| !p.is_empty())
        })
        .await;
    }

    // Charts: every resource of the org in one call, aligned buckets.
    let charts: Value = get(&srv, &reader, "/api/charts?range=1h")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(charts["range"], "1h");
    let step = charts["step"].as_i64().unwrap();
    assert_eq!(step, 120_000);
    let (cs, ce) = (
        charts["start"].as_i64().unwrap(),
        charts["end"].as_i64().unwrap(),
    );
    assert_eq!((ce - cs, cs % step), (30 * step, 0));
    let host = &charts["resources"][id.as_str()];
    let cpu = host["cpu"].as_array().expect("cpu series");
    assert_eq!(cpu.len(), 30);
    let last = cpu.iter().rev().find_map(Value::as_f64).expect("a value");
    assert!(last >= lo && last <= hi, "{last}");
    assert!(host["memory"].is_array() && host["disk"].is_array() && host["netIn"].is_array());
    assert!(host.get("diskRead").is_none(), "only chart metrics: {host}");
    let ten: Value = get(&srv, &reader, "/api/charts?range=6h&points=10")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        ten["resources"][id.as_str()]["cpu"]
            .as_array()
            .unwrap()
            .len(),
        10
    );
    assert_eq!(ten["step"], 2_160_000);
}

#[tokio::test]
async fn bad_parameters_unknown_resources_and_other_orgs() {
    let srv = TestServer::start();
    let agent = srv.token(&["agent:report"], None);
    let reader = srv.token(&["monitoring:read"], None);
    let acme = srv.token(&["monitoring:read"], Some("acme"));
    let acme_agent = srv.token(&["agent:report"], Some("acme"));
    post_report(&srv, &agent, 3, 0).await;
    post_report(&srv, &acme_agent, 4, 0).await;
    let id = host_id(&srv, &reader).await;
    let acme_id = host_id(&srv, &acme).await;
    let base = format!("/api/metrics-store/history?resourceId={id}");

    for (query, field) in [
        (format!("{base}&metric=cpu&range=2h"), "range"),
        (format!("{base}&metric=cpu"), "range"),
        (format!("{base}&metric=load&range=1h"), "metric"),
        (format!("{base}&range=1h"), "metric"),
        (
            format!("{base}&metric=cpu&range=1h&maxPoints=0"),
            "maxPoints",
        ),
        (
            format!("{base}&metric=cpu&range=1h&maxPoints=abc"),
            "maxPoints",
        ),
        (
            format!("{base}&metric=cpu&range=1h&maxPoints=100000"),
            "maxPoints",
        ),
        (
            "/api/metrics-store/history?metric=cpu&range=1h".into(),
            "resourceId",
        ),
        ("/api/charts?range=30d".into(), "range"),
        ("/api/charts?range=1h&points=0".into(), "points"),
        ("/api/charts?range=1h&points=121".into(), "points"),
    ] {
        let body = expect_error(get(&srv, &reader, &query).await, 400, "validation_error").await;
        assert!(
            body["error"].as_str().unwrap().contains(field),
            "{query}: {body}"
        );
    }

    let unknown = "/api/metrics-store/history?resourceId=vm-0000000000000000&metric=cpu&range=1h";
    expect_error(get(&srv, &reader, unknown).await, 404, "not_found").await;
    // The same id from another org is not found, and its charts never show the other org.
    let foreign = format!("/api/metrics-store/history?resourceId={id}&metric=cpu&range=1h");
    expect_error(get(&srv, &acme, &foreign).await, 404, "not_found").await;
    let own = format!("/api/metrics-store/history?resourceId={acme_id}&metric=cpu&range=1h");
    wait_json(&srv, &acme, &own, |b| {
        b["points"].as_array().is_some_and(|p| !p.is_empty())
    })
    .await;
    let charts = wait_json(&srv, &acme, "/api/charts", |b| {
        b["resources"].as_object().is_some_and(|r| !r.is_empty())
    })
    .await;
    let ids: Vec<&String> = charts["resources"].as_object().unwrap().keys().collect();
    assert_eq!(ids, vec![&acme_id], "{charts}");

    // No credentials: 401; a token without monitoring:read: 403.
    let anon = client().get(srv.url("/api/charts")).send().await.unwrap();
    expect_error(anon, 401, "unauthorized").await;
    expect_error(get(&srv, &agent, "/api/charts").await, 403, "missing_scope").await;
}

/// The mean of the samples in each bucket of the answer's grid, as a chart value (`null` when
/// the bucket is empty).
fn naive_buckets(samples: &[(i64, f64)], start: i64, step: i64, n: usize) -> Value {
    (0..n as i64)
        .map(|i| {
            let (lo, hi) = (start + i * step, start + (i + 1) * step);
            let vals: Vec<f64> = samples
                .iter()
                .filter(|(t, _)| *t >= lo && *t < hi)
                .map(|(_, v)| *v)
                .collect();
            if vals.is_empty() {
                Value::Null
            } else {
                let mean = vals.iter().sum::<f64>() / vals.len() as f64;
                serde_json::json!(pulse::history::charts::chart_value(mean))
            }
        })
        .collect()
}

/// `v` with every number as a float (`26` and `26.0` are the same chart value).
fn as_floats(v: &Value) -> Value {
    match v {
        Value::Number(n) => serde_json::json!(n.as_f64().unwrap()),
        Value::Array(a) => a.iter().map(as_floats).collect(),
        Value::Object(o) => o.iter().map(|(k, v)| (k.clone(), as_floats(v))).collect(),
        other => other.clone(),
    }
}

/// A resource's series as written: id, metric, `(timestamp, value)` samples.
type Series = (String, pulse::history::Metric, Vec<(i64, f64)>);

#[tokio::test]
async fn charts_equal_naive_bucket_means_at_the_boundaries() {
    use pulse::history::store::{series_key, Sample};
    use pulse::history::Metric;

    let srv = TestServer::start();
    let reader = srv.token(&["monitoring:read"], None);
    let acme = srv.token(&["monitoring:read"], Some("acme"));
    let store = std::sync::Arc::clone(srv.running.state.history.store());
    // Whole seconds, four samples a minute, values in quarters: every mean is exact, whether it
    // comes from minute rollups weighted by count, the running sums of the open minutes or raw
    // samples.
    let now = pulse::monitor::clock::now_millis() / 1_000 * 1_000;
    let at = |k: i64| now - k * 15_000;
    let value = |seed: i64, k: i64| ((k * 7 + seed * 13) % 400) as f64 / 4.0;
    let mut expected: Vec<Series> = Vec::new();
    let mut batch = Vec::new();
    let mut series = |org: &str, id: &str, metric: Metric, ks: &mut dyn Iterator<Item = i64>| {
        let mut samples: Vec<(i64, f64)> = ks.map(|k| (at(k), value(metric as i64, k))).collect();
        samples.sort_by_key(|s| s.0);
        for &(ts_ms, value) in &samples {
            batch.push(Sample {
                key: series_key(org, id, metric),
                ts_ms,
                value,
            });
        }
        if org == "default" {
            expected.push((id.to_owned(), metric, samples));
        }
    };
    // 50 minutes up to this second (the open minute included), all five chart metrics.
    for metric in [
        Metric::Cpu,
        Metric::Memory,
        Metric::Disk,
        Metric::NetIn,
        Metric::NetOut,
    ] {
        series("default", "vm-busy", metric, &mut (0..200));
    }
    // Reported only until 20 minutes ago; a storage pool's `usage` is charted as `disk`.
    series("default", "vm-quiet", Metric::Cpu, &mut (80..200));
    series(
        "default",
        "pool-1",
        Metric::Usage,
        &mut (0..40).map(|k| k * 3),
    );
    // Not a chart metric; and samples only older than the hour: neither is charted.
    series("default", "vm-busy", Metric::DiskRead, &mut (0..200));
    series("default", "vm-old", Metric::Cpu, &mut (250..400));
    // Another org's resources, one with an id the default org also uses.
    series("acme", "vm-busy", Metric::Cpu, &mut (0..10));
    series("acme", "vm-acme", Metric::Memory, &mut (0..10));
    let summary = store.append(&batch);
    assert_eq!(summary.accepted, batch.len());
    // Roll up what a maintenance pass at `now` would: the rest is the open tail.
    while !store.maintain(now, 1_000).unwrap().done {}

    let charts: Value = get(&srv, &reader, "/api/charts?range=1h")
        .await
        .json()
        .await
        .unwrap();
    let (start, step) = (
        charts["start"].as_i64().unwrap(),
        charts["step"].as_i64().unwrap(),
    );
    assert!(start <= now - 3_600_000 + step && now < charts["end"].as_i64().unwrap());
    let mut want = serde_json::Map::new();
    for (id, metric, samples) in &expected {
        let name = match metric {
            Metric::Usage => "disk",
            Metric::DiskRead => continue,
            m => m.as_str(),
        };
        let buckets = naive_buckets(samples, start, step, 30);
        if buckets.as_array().unwrap().iter().all(Value::is_null) {
            continue;
        }
        want.entry(id.clone())
            .or_insert_with(|| serde_json::json!({}))
            .as_object_mut()
            .unwrap()
            .insert(name.to_owned(), buckets);
    }
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        vec!["pool-1", "vm-busy", "vm-quiet"],
        "vm-old has nothing in the hour"
    );
    assert_eq!(as_floats(&charts["resources"]), Value::Object(want));
    let busy_cpu = charts["resources"]["vm-busy"]["cpu"].as_array().unwrap();
    assert!(
        busy_cpu.last().unwrap().is_number(),
        "the open minute is charted"
    );

    // The other org sees only its own resources, and under its own values.
    let theirs: Value = get(&srv, &acme, "/api/charts?range=1h")
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&String> = theirs["resources"].as_object().unwrap().keys().collect();
    assert_eq!(ids, vec!["vm-acme", "vm-busy"]);
    assert_eq!(
        theirs["resources"]["vm-busy"].as_object().unwrap().len(),
        1,
        "{theirs}"
    );
}
