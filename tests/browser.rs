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
const OPTIONAL_APIS: &[&str] = &[];

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

#[tokio::test]
async fn every_page_the_drawer_themes_and_a_phone_screen() {
    let _one = ONE_BROWSER.lock().await;
    let Some(b) = Browser::start(1400, 900).await else {
        return;
    };
    let f = fleet().await;
    sign_in(&b, &f.srv.base, None).await;
    b.wait_js(
        "the fleet",
        "return [...document.querySelectorAll('.vt-row .name')].some(e => e.textContent === 'sim-host-000');",
    )
    .await;

    // The detail drawer: facts, current usage, sections; Escape closes it.
    b.click(".vt-row[data-index='2']").await;
    let title = b
        .wait_css(".drawer #drawer-title")
        .await
        .text()
        .await
        .expect("title");
    assert!(!title.is_empty());
    b.wait_css(".drawer .facts").await;
    b.screenshot("drawer").await;
    b.keys("\u{e00c}").await; // Escape
    b.wait_js(
        "the drawer to close",
        "return !document.querySelector('.drawer');",
    )
    .await;

    for (link, shot, heading) in [
        ("/workloads", "workloads", "Workloads"),
        ("/storage", "storage", "Storage"),
        ("/alerts", "alerts", "Alerts"),
        ("/settings", "settings-endpoints", "Settings"),
    ] {
        b.click(&format!("nav a[href='{link}']")).await;
        b.wait_js(
            heading,
            &format!("return document.querySelector('main h1')?.textContent === '{heading}';"),
        )
        .await;
        b.screenshot(shot).await;
    }
    for (tab, shot) in [
        ("notifications", "settings-notifications"),
        ("thresholds", "settings-thresholds"),
        ("tokens", "settings-tokens"),
    ] {
        b.click(&format!("#tab-{tab}")).await;
        b.wait_css(&format!("#tab-{tab}[aria-selected=true]")).await;
        b.wait_js(
            "the tab to load",
            "return !document.querySelector('.settings-panel')?.textContent.includes('Loading');",
        )
        .await;
        b.screenshot(shot).await;
    }

    // Dark theme, remembered across a reload.
    b.click("nav a[href='/infrastructure']").await;
    b.click("button[aria-label='Switch to dark theme']").await;
    b.wait_js(
        "the dark theme",
        "return document.documentElement.dataset.theme === 'dark';",
    )
    .await;
    b.client.refresh().await.expect("reload");
    b.wait_js(
        "the fleet after reload",
        "return document.documentElement.dataset.theme === 'dark' && document.querySelectorAll('.vt-window .vt-row').length > 3;",
    )
    .await;
    b.screenshot("infrastructure-dark").await;

    // A phone: essential columns only, no horizontal overflow, the drawer full width.
    b.client
        .set_window_size(390, 844)
        .await
        .expect("window size");
    b.wait_js(
        "the phone layout",
        "return document.querySelectorAll('.vt-header .vt-cell').length <= 3;",
    )
    .await;
    assert_eq!(
        b.js(
            "return document.documentElement.scrollWidth <= window.innerWidth;",
            vec![]
        )
        .await,
        json!(true),
        "the page overflows a phone screen"
    );
    b.screenshot("phone-infrastructure").await;
    b.click(".vt-row[data-index='0']").await;
    b.wait_css(".drawer .facts").await;
    b.screenshot("phone-drawer").await;

    // Sign out: back to the sign-in form, and the session is gone.
    b.keys("\u{e00c}").await;
    b.click("#sign-out").await;
    b.wait_css("form[aria-labelledby=login-h]").await;
    assert_eq!(
        b.js("return document.cookie.includes('pulse_csrf=');", vec![])
            .await,
        json!(false)
    );
    assert_no_errors(&b).await;
    b.finish().await;
}

#[tokio::test]
async fn settings_create_and_delete_an_api_token() {
    let _one = ONE_BROWSER.lock().await;
    let Some(b) = Browser::start(1400, 900).await else {
        return;
    };
    let srv = TestServer::start();
    sign_in(&b, &srv.base, None).await;
    b.goto(&srv.url("/settings?tab=tokens")).await;
    b.wait_css("#new-token-h").await;
    b.fill(
        "form[aria-labelledby=new-token-h] input[name=name]",
        "nas agent",
    )
    .await;
    b.click("form[aria-labelledby=new-token-h] button[type=submit]")
        .await;
    let raw = b
        .wait_css(".secret code.token")
        .await
        .text()
        .await
        .expect("token");
    // The token shown once is a working token with the chosen scopes.
    let resp = client()
        .post(srv.url("/api/agents/agent/report"))
        .header("X-API-Token", raw.trim())
        .json(&host_report(7, 0))
        .send()
        .await
        .expect("report");
    assert!(
        resp.status().is_success(),
        "report with the new token: {}",
        resp.status()
    );
    b.wait_css("button[aria-label='Delete token nas agent']")
        .await;
    b.screenshot("settings-token-created").await;
    b.click("button[aria-label='Delete token nas agent']").await;
    b.click("button[aria-label='Confirm deleting nas agent']")
        .await;
    b.wait_js(
        "the token to disappear",
        "return !document.querySelector(\"button[aria-label='Delete token nas agent']\");",
    )
    .await;
    let resp = client()
        .post(srv.url("/api/agents/agent/report"))
        .header("X-API-Token", raw.trim())
        .json(&host_report(7, 1))
        .send()
        .await
        .expect("report");
    assert_eq!(resp.status(), 401, "the deleted token is refused");
    assert_no_errors(&b).await;
    b.finish().await;
}

/// A `pulse serve` process on a fixed port and data dir (so it can be stopped and started again).
struct ServeProcess {
    child: std::process::Child,
}

impl ServeProcess {
    /// Starts `pulse serve`; `with_admin` sets the first admin from the environment. Returns the
    /// process and its stderr lines (the log).
    fn start(
        port: u16,
        data: &std::path::Path,
        with_admin: bool,
    ) -> (ServeProcess, std::sync::mpsc::Receiver<String>) {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_pulse"));
        cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(data)
            .env("PULSE_METRICS_LISTEN", "off")
            .env("PULSE_LOG_FORMAT", "json")
            .env("PULSE_LOG_LEVEL", "info")
            .env_remove("PULSE_AUTH_USER")
            .env_remove("PULSE_AUTH_PASS")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        if with_admin {
            cmd.env("PULSE_AUTH_USER", ADMIN_USER)
                .env("PULSE_AUTH_PASS", ADMIN_PASS);
        }
        let mut child = cmd.spawn().expect("pulse serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        (ServeProcess { child }, rx)
    }

    fn stop(&mut self) {
        // SAFETY: signalling our own child process by its id.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let _ = self.child.wait();
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

async fn wait_healthy(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while client()
        .get(format!("{base}/api/health"))
        .send()
        .await
        .map(|r| !r.status().is_success())
        .unwrap_or(true)
    {
        assert!(Instant::now() < deadline, "pulse serve did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn first_run_setup_creates_the_admin_and_signs_in() {
    let _one = ONE_BROWSER.lock().await;
    let Some(b) = Browser::start(1400, 900).await else {
        return;
    };
    let data = tempfile::tempdir().expect("data dir");
    let port = common::free_port();
    let (_server, log) = ServeProcess::start(port, data.path(), false);
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let token = loop {
        let line = log
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the server logs a bootstrap token");
        if let Ok(v) = serde_json::from_str::<Value>(&line) {
            if let Some(t) = v["bootstrap_token"].as_str() {
                break t.to_owned();
            }
        }
    };
    wait_healthy(&base).await;
    b.goto(&format!("{base}/")).await;
    b.wait_css("form[aria-labelledby=setup-h]").await;
    b.screenshot("first-run-setup").await;
    b.fill("input[name=token]", &token).await;
    b.fill("input[name=username]", "owner").await;
    b.fill("input[name=password]", "a long enough password")
        .await;
    b.fill("input[name=confirm]", "a long enough password")
        .await;
    b.click("button[type=submit]").await;
    b.wait_css("nav[aria-label=Main]").await;
    b.wait_js(
        "the signed-in user",
        "return document.querySelector('.user')?.textContent === 'owner';",
    )
    .await;
    // Setup is over: the status says so and the token is spent.
    let status: Value = client()
        .get(format!("{base}/api/security/status"))
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("json");
    assert_eq!(status["setupRequired"], json!(false));
    assert_no_errors(&b).await;
    b.finish().await;
}

#[tokio::test]
async fn connection_lost_banner_then_reconnect() {
    let _one = ONE_BROWSER.lock().await;
    let Some(b) = Browser::start(1400, 900).await else {
        return;
    };
    let data = tempfile::tempdir().expect("data dir");
    let port = common::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let (mut server, _log) = ServeProcess::start(port, data.path(), true);
    wait_healthy(&base).await;
    sign_in(&b, &base, None).await;
    b.wait_css(".live-live").await;

    server.stop();
    let banner = b.wait_css(".banner").await.text().await.expect("banner");
    assert!(
        banner.contains("Connection lost — retrying"),
        "banner: {banner}"
    );
    b.screenshot("connection-lost").await;

    // The same server comes back (same data dir, so the session is still valid): the page
    // reconnects by itself and the banner goes away.
    let (_again, _log2) = ServeProcess::start(port, data.path(), true);
    wait_healthy(&base).await;
    b.wait_js(
        "the reconnect",
        "return !document.querySelector('.banner') && !!document.querySelector('.live-live');",
    )
    .await;
    // The failed reconnect attempts are network errors of the outage itself, not page errors.
    let errors: Vec<String> = b
        .errors(OPTIONAL_APIS)
        .await
        .into_iter()
        .filter(|e| !e.contains("WebSocket connection to") && !e.contains("ERR_CONNECTION_REFUSED"))
        .collect();
    assert!(errors.is_empty(), "the page logged errors: {errors:#?}");
    b.finish().await;
}

#[tokio::test]
async fn settings_add_a_webhook_and_test_it() {
    let _one = ONE_BROWSER.lock().await;
    let Some(b) = Browser::start(1400, 900).await else {
        return;
    };
    // The receiver is on loopback, which the SSRF guard refuses unless allow-listed.
    let srv = TestServer::start_with(|s| {
        s.webhook_allowed_cidrs = vec![pulse::config::Cidr::parse("127.0.0.0/8").expect("cidr")];
    });
    let receiver = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("receiver");
    let hook_url = format!("http://{}/hook", receiver.local_addr().expect("addr"));
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut sock, _)) = receiver.accept().await {
            let mut buf = vec![0u8; 64 * 1024];
            let _ = sock.read(&mut buf).await;
            let _ = sock
                .write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nreceived",
                )
                .await;
        }
    });
    sign_in(&b, &srv.base, None).await;
    b.goto(&srv.url("/settings?tab=notifications")).await;
    b.wait_css("#add-webhook").await;
    b.fill("#add-webhook input[name=name]", "ops channel").await;
    b.fill("#add-webhook input[name=url]", &hook_url).await;
    b.click("#add-webhook .actions button[type=button]").await;
    let result = b
        .wait_css("#add-webhook .result")
        .await
        .text()
        .await
        .expect("result");
    assert!(
        result.contains("200"),
        "test result shows the remote status: {result}"
    );
    b.click("#add-webhook button[type=submit]").await;
    b.wait_js(
        "the new webhook in the list",
        "return [...document.querySelectorAll('.webhooks strong')].some(e => e.textContent === 'ops channel');",
    )
    .await;
    b.screenshot("settings-webhook-added").await;
    let token = srv.token(&["settings:read"], None);
    let hooks: Value = client()
        .get(srv.url("/api/notifications/webhooks"))
        .header("X-API-Token", token)
        .send()
        .await
        .expect("webhooks")
        .json()
        .await
        .expect("json");
    assert!(
        hooks
            .as_array()
            .expect("list")
            .iter()
            .any(|h| h["name"] == "ops channel" && h["url"] == hook_url.as_str()),
        "{hooks}"
    );
    assert_no_errors(&b).await;
    b.finish().await;
}

/// The pure cores of the app, run in the browser's own engine: RFC 7386 merge-patch (the RFC's
/// appendix examples), and the view maintenance (patching rows in place must give exactly what a
/// full rebuild gives, over random deltas, for every sort key).
#[tokio::test]
async fn merge_patch_and_view_maintenance_in_the_browser() {
    let _one = ONE_BROWSER.lock().await;
    let Some(b) = Browser::start(1000, 700).await else {
        return;
    };
    let srv = TestServer::start();
    b.goto(&srv.url("/")).await;
    b.wait_css("form[aria-labelledby=login-h]").await;
    let result = b
        .client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
(async () => {
  const { mergePatch } = await import('/app/merge.js');
  const { LiveStore } = await import('/app/store.js');
  const { buildView, updateView } = await import('/app/view.js');
  const fails = [];
  const eq = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  const rfc = [
    [{a:"b"}, {a:"c"}, {a:"c"}], [{a:"b"}, {b:"c"}, {a:"b",b:"c"}], [{a:"b"}, {a:null}, {}],
    [{a:"b",b:"c"}, {a:null}, {b:"c"}], [{a:["b"]}, {a:"c"}, {a:"c"}], [{a:"c"}, {a:["b"]}, {a:["b"]}],
    [{a:{b:"c"}}, {a:{b:"d",c:null}}, {a:{b:"d"}}], [{a:[{b:"c"}]}, {a:[1]}, {a:[1]}], [["a","b"], ["c","d"], ["c","d"]],
    [{a:"b"}, ["c"], ["c"]], [{a:"foo"}, null, null], [{a:"foo"}, "bar", "bar"], [{e:null}, {a:1}, {e:null,a:1}],
    [[1,2], {a:"b",c:null}, {a:"b"}], [{}, {a:{bb:{ccc:null}}}, {a:{bb:{}}}],
  ];
  rfc.forEach(([t, p, want], i) => { const got = mergePatch(t, p); if (!eq(got, want)) fails.push(`rfc ${i}: ${JSON.stringify(got)}`); });
  const original = {a:{b:1}, c:{d:2}};
  const patched = mergePatch(original, {a:{b:3}});
  if (original.a.b !== 1) fails.push('mergePatch mutated its input');
  if (patched.c !== original.c) fails.push('untouched members lost their identity');

  let seed = 7;
  const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  const statuses = ['online', 'warning', 'offline', 'unknown'];
  const make = (i) => ({ id: `agent-${i}`, type: i % 5 === 0 ? 'vm' : 'agent', name: `n${rnd(50)}`, status: statuses[rnd(4)],
    sources: ['agent'], tags: rnd(3) ? [] : ['t1'], metrics: { cpu: { percent: rnd(100) }, memory: { percent: rnd(100) } }, uptime: rnd(1000) });
  const store = new LiveStore();
  store.replaceAll({ resources: Array.from({ length: 400 }, (_, i) => make(i)) });
  const types = new Set(['agent']);
  for (const key of ['name', 'status', 'cpu', 'memory', 'uptime', 'kind']) {
    for (const filters of [{ q: '', sources: [], statuses: [], kinds: [], tags: [] }, { q: 'n1', sources: [], statuses: ['online', 'warning'], kinds: [], tags: [] }]) {
      const sort = { key, dir: rnd(2) ? 'asc' : 'desc' };
      let view = buildView(store, types, filters, sort);
      for (let round = 0; round < 40; round += 1) {
        const upserts = [];
        for (let k = 0; k < 1 + rnd(8); k += 1) {
          const i = rnd(400);
          const r = rnd(4);
          upserts.push(r === 0 ? { id: `agent-${i}`, status: statuses[rnd(4)] } : r === 1 ? { id: `agent-${i}`, metrics: { cpu: { percent: rnd(100) } } }
            : r === 2 ? { id: `agent-${i}`, name: `n${rnd(50)}` } : { id: `agent-${i}`, uptime: rnd(1000) });
        }
        const removed = rnd(10) === 0 ? [`agent-${rnd(400)}`] : [];
        store.applyDelta({ resourceDelta: { upserts, removed } });
        view = updateView(view, store, types, filters, sort);
        const full = buildView(store, types, filters, sort);
        if (!eq(view.rows.map((r) => r.id), full.rows.map((r) => r.id))) fails.push(`${key}/${round}: row order differs`);
        if (view.rows.some((r, i) => r !== full.rows[i])) fails.push(`${key}/${round}: stale row object`);
        if (!eq(view.counts, full.counts)) fails.push(`${key}/${round}: counts ${JSON.stringify(view.counts)} vs ${JSON.stringify(full.counts)}`);
      }
    }
  }
  done(fails);
})().catch((e) => done([String(e && e.stack || e)]));"#,
            vec![],
        )
        .await
        .expect("script runs");
    assert_eq!(result, json!([]), "failures: {result:#}");
    assert_no_errors(&b).await;
    b.finish().await;
}

#[tokio::test]
async fn settings_add_test_and_remove_a_proxmox_endpoint() {
    use pulse::sim::pve::{PveSim, PveSimConfig};
    let _one = ONE_BROWSER.lock().await;
    let Some(b) = Browser::start(1400, 900).await else {
        return;
    };
    let sim = PveSim::start(PveSimConfig::sized(2, 6)).expect("PVE simulator");
    let creds = sim.credentials().clone();
    let srv = TestServer::start();
    sign_in(&b, &srv.base, None).await;
    b.goto(&srv.url("/settings?tab=endpoints")).await;
    b.wait_css("#add-ep-h").await;
    b.fill("form[aria-labelledby=add-ep-h] input[name=name]", "lab")
        .await;
    b.fill(
        "form[aria-labelledby=add-ep-h] input[name=host]",
        &sim.url(),
    )
    .await;
    b.fill(
        "form[aria-labelledby=add-ep-h] input[name=tokenName]",
        &creds.token_id,
    )
    .await;
    b.fill(
        "form[aria-labelledby=add-ep-h] input[name=tokenValue]",
        &creds.token_secret,
    )
    .await;
    b.fill(
        "form[aria-labelledby=add-ep-h] input[name=fingerprint]",
        sim.fingerprint(),
    )
    .await;
    b.click("form[aria-labelledby=add-ep-h] .actions button[type=button]")
        .await;
    let result = b.wait_css("form[aria-labelledby=add-ep-h] .result").await;
    assert!(
        result
            .text()
            .await
            .expect("text")
            .contains("Connection works"),
        "test result shown"
    );
    b.screenshot("settings-endpoint-tested").await;
    b.click("form[aria-labelledby=add-ep-h] button[type=submit]")
        .await;
    b.click("button[aria-label='Remove lab']").await;
    b.click("button[aria-label='Confirm removing lab']").await;
    b.wait_js(
        "the endpoint to go",
        "return !document.querySelector(\"button[aria-label='Remove lab']\");",
    )
    .await;
    assert_no_errors(&b).await;
    b.finish().await;
}

#[tokio::test]
async fn sparklines_and_history_charts() {
    let _one = ONE_BROWSER.lock().await;
    let Some(b) = Browser::start(1400, 900).await else {
        return;
    };
    let f = fleet().await;
    sign_in(&b, &f.srv.base, None).await;
    // A fresh server has one 2-minute bucket of the hour's sparklines filled (a line needs two),
    // so this waits for the rows and checks the charts request and the drawer's history charts.
    b.wait_css(".vt-row[data-index='2']").await;
    b.click(".vt-row[data-index='2']").await;
    b.wait_css(".drawer .chart .uplot").await;
    b.click(".drawer .seg button[aria-label='24 hours']").await;
    b.wait_css(".drawer .seg button[aria-pressed=true][aria-label='24 hours']")
        .await;
    b.wait_css(".drawer .chart .uplot").await;
    b.screenshot("drawer-history").await;
    assert_no_errors(&b).await;
    b.finish().await;
}

#[tokio::test]
async fn alerts_acknowledge_and_thresholds() {
    let _one = ONE_BROWSER.lock().await;
    let Some(b) = Browser::start(1400, 900).await else {
        return;
    };
    let f = fleet().await;
    sign_in(&b, &f.srv.base, None).await;
    // The simulated fleet has unhealthy and exited containers: alerts fire.
    b.goto(&f.srv.url("/alerts")).await;
    b.click("table.plain button.btn.small:not(.ghost)").await;
    b.wait_js(
        "an acknowledged alert",
        "return [...document.querySelectorAll('table.plain td')].some(td => td.textContent === 'Acknowledged');",
    )
    .await;
    b.screenshot("alerts-acknowledged").await;

    // Thresholds: a valid change saves; clear above trigger shows the server's validation error.
    b.goto(&f.srv.url("/settings?tab=thresholds")).await;
    b.fill("input[aria-label='Guests — CPU trigger']", "91")
        .await;
    b.click("form[aria-labelledby=thr-h] button[type=submit]")
        .await;
    b.wait_css(".toast").await;
    let token = f.srv.token(&["settings:read"], None);
    let config: Value = client()
        .get(f.srv.url("/api/alerts/config"))
        .header("X-API-Token", token)
        .send()
        .await
        .expect("config")
        .json()
        .await
        .expect("json");
    assert_eq!(config["thresholds"]["vm"]["cpu"]["trigger"], json!(91.0));
    assert_eq!(
        config["thresholds"]["system-container"]["cpu"]["trigger"],
        json!(91.0)
    );
    b.fill("input[aria-label='Guests — CPU clear']", "99").await;
    b.click("form[aria-labelledby=thr-h] button[type=submit]")
        .await;
    b.wait_css("form[aria-labelledby=thr-h] .error-text").await;
    b.screenshot("settings-thresholds-error").await;
    // The one expected failure: the 400 of the invalid save, which the page showed above.
    let errors = b
        .errors_expecting(OPTIONAL_APIS, &["/api/alerts/config"])
        .await;
    assert!(errors.is_empty(), "the page logged errors: {errors:#?}");
    b.finish().await;
}
