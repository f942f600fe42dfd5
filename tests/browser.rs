//! The dashboard in a real headless Chromium: sign-in, the simulated fleet live over the
//! WebSocket, a new agent appearing without a reload, filters, the drawer, settings forms, themes,
//! a phone-sized window, first-run setup and the connection-lost banner. Screenshots of every page
//! go to `target/browser-artifacts/`. No page may log an error.
//!
//! Needs Debian's `chromium` and `chromium-driver` (installed by `.ci/run`); without them the tests
//! skip outside CI and fail in CI.

#[path = "common/browser.rs"]
mod browser;
mod common;

use std::time::{Duration, Instant};

use browser::Browser;
use common::{client, TestServer, ADMIN_PASS, ADMIN_USER};
use pulse::sim::agents::{host_report, SimFleet};
use serde_json::{json, Value};

/// Optional APIs built by other parts of the project; until a build has them the app asks each
/// once, gets a 404 and shows "not available in this build".
const OPTIONAL_APIS: &[&str] = &[
    "/api/charts",
    "/api/metrics-store/history",
    "/api/alerts/",
    "/api/notifications/",
    "/api/config/nodes",
    "/api/truenas/connections",
];

/// One browser at a time: the machine has two cores, and timings stay meaningful.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A server with the simulated demo fleet (hosts, Docker, Kubernetes) reporting to it.
struct Fleet {
    srv: TestServer,
    agent_token: String,
    _sims: pulse::sim::agents::SimFleetHandle,
}

async fn fleet() -> Fleet {
    let srv = TestServer::start();
    let agent_token = srv.token(
        &["agent:report", "docker:report", "kubernetes:report"],
        None,
    );
    let sims = SimFleet::uniform(3, 1, 1, Duration::from_secs(2))
        .start(&srv.base, &agent_token)
        .expect("simulated agents start");
    let read = srv.token(&["monitoring:read"], None);
    let c = client();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let page: Value = c
            .get(srv.url("/api/resources?limit=1"))
            .header("X-API-Token", &read)
            .send()
            .await
            .expect("resources")
            .json()
            .await
            .expect("json");
        let by_type = &page["aggregations"]["byType"];
        if ["agent", "app-container", "pod"]
            .iter()
            .all(|t| by_type[t].as_u64().unwrap_or(0) > 0)
        {
            break;
        }
        assert!(Instant::now() < deadline, "fleet not visible: {page}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Fleet {
        srv,
        agent_token,
        _sims: sims,
    }
}

/// Signs in through the form and waits for the Infrastructure page.
async fn sign_in(b: &Browser, base: &str, shot: Option<&str>) {
    b.goto(&format!("{base}/")).await;
    b.wait_css("form[aria-labelledby=login-h]").await;
    b.fill("input[name=username]", ADMIN_USER).await;
    b.fill("input[name=password]", ADMIN_PASS).await;
    if let Some(name) = shot {
        b.screenshot(name).await;
    }
    b.click("button[type=submit]").await;
    b.wait_css("nav[aria-label=Main] a[aria-current=page]")
        .await;
}

/// Names of the rows the table currently renders.
async fn row_names(b: &Browser) -> Vec<String> {
    let v = b
        .js(
            "return [...document.querySelectorAll('.vt-window .vt-row .name')].map(e => e.textContent);",
            vec![],
        )
        .await;
    serde_json::from_value(v).expect("names")
}

async fn assert_no_errors(b: &Browser) {
    let errors = b.errors(OPTIONAL_APIS).await;
    assert!(errors.is_empty(), "the page logged errors: {errors:#?}");
}

#[tokio::test]
async fn sign_in_live_fleet_new_agent_and_filters() {
    let _one = ONE_BROWSER.lock().await;
    let Some(b) = Browser::start(1400, 900).await else {
        return;
    };
    let f = fleet().await;
    sign_in(&b, &f.srv.base, Some("login")).await;

    // The demo fleet is on Infrastructure: hosts, Docker hosts, the Kubernetes cluster.
    b.wait_js(
        "the fleet on Infrastructure",
        "return [...document.querySelectorAll('.vt-row .name')].some(e => e.textContent === 'sim-host-000');",
    )
    .await;
    let names = row_names(&b).await;
    assert!(names.iter().any(|n| n == "sim-docker-000"), "{names:?}");
    assert!(
        names.iter().any(|n| n == "sim-0"),
        "k8s cluster in {names:?}"
    );
    b.screenshot("infrastructure").await;

    // A new agent reports: its row appears within a second, without a reload.
    b.js("window.__sameDocument = true;", vec![]).await;
    let report = host_report(4242, 0);
    let posted = Instant::now();
    let resp = client()
        .post(f.srv.url("/api/agents/agent/report"))
        .header("X-API-Token", &f.agent_token)
        .json(&report)
        .send()
        .await
        .expect("report");
    assert!(resp.status().is_success(), "report: {}", resp.status());
    let deadline = posted + Duration::from_secs(1);
    loop {
        if row_names(&b).await.iter().any(|n| n == "sim-host-4242") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new agent did not appear within 1 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    eprintln!("new agent visible after {:?}", posted.elapsed());
    assert_eq!(
        b.js("return window.__sameDocument === true;", vec![]).await,
        json!(true),
        "the page was reloaded"
    );

    // Filters on Workloads: keyboard navigation, search, then a status filter.
    b.js(
        "document.activeElement && document.activeElement.blur();",
        vec![],
    )
    .await;
    b.keys("gw").await;
    b.wait_js(
        "the Workloads page",
        "return location.pathname === '/workloads' && document.querySelectorAll('.vt-window .vt-row').length > 5;",
    )
    .await;
    let all = row_names(&b).await;
    b.keys("/").await;
    b.keys("web").await;
    b.wait_js(
        "the search to apply",
        "const n = [...document.querySelectorAll('.vt-window .vt-row')]; return n.length > 0 && n.every(r => r.textContent.toLowerCase().includes('web'));",
    )
    .await;
    let searched = row_names(&b).await;
    assert!(
        searched.len() < all.len(),
        "search narrowed {all:?} to {searched:?}"
    );
    b.click("#search").await;
    b.fill("#search", "").await;
    b.click(".chips .chip.st-offline").await;
    b.wait_js(
        "the status filter to apply",
        "const n = [...document.querySelectorAll('.vt-window .vt-row')]; return n.length > 0 && n.every(r => r.querySelector('.status-offline'));",
    )
    .await;
    b.screenshot("workloads-filtered").await;
    assert_no_errors(&b).await;
    b.finish().await;
}
