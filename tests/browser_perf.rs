//! Dashboard performance in a real headless Chromium (issue 8 budgets, recorded in
//! docs/performance.md). Ignored by default; run with
//!
//! ```sh
//! cargo test -p pulse --test browser_perf -- --ignored --nocapture
//! ```
//!
//! It fills a real server's registry with 10,000 resources, signs in, and reads the timings the
//! app itself records on `window.__pulsePerf` (from the arrival of a WebSocket message to the
//! committed render, style and layout included): the first render of the full state, then
//! deltas of 100 changed resources. It also scrolls the 10,000-row table frame by frame and adds
//! up the page weight. Nothing here asserts a time; the figures are printed.

#[path = "common/browser.rs"]
mod browser;
mod common;

use std::time::Duration;

use browser::Browser;
use common::{TestServer, ADMIN_PASS, ADMIN_USER};
use pulse::model::{
    MetricKind, MetricValue, Metrics, ResourceType, Source, SourceRecord, SourceSnapshot, Status,
    Timestamp,
};
use pulse::monitor::registry::Ingest;
use serde_json::Value;

const SCOPES: usize = 100;
const PER_SCOPE: usize = 100;

fn percent(v: f64) -> Option<MetricValue> {
    Some(MetricValue {
        value: Some(v),
        percent: Some(v),
        unit: "percent".into(),
        ..MetricValue::default()
    })
}

/// Scope `scope`'s 100 hosts, with metrics shifted by `round` so every record changes.
fn snapshot(scope: usize, round: u64) -> SourceSnapshot {
    let records = (0..PER_SCOPE)
        .map(|i| {
            let n = scope * PER_SCOPE + i;
            let mut r = SourceRecord::new(
                format!("perf-{n}"),
                ResourceType::Agent,
                format!("host-{n:05}"),
                if n % 17 == 0 {
                    Status::Warning
                } else {
                    Status::Online
                },
            );
            let wobble = ((n as u64 * 7 + round * 13) % 90) as f64;
            r.metrics = Metrics::new()
                .with(MetricKind::Cpu, percent(5.0 + wobble))
                .with(MetricKind::Memory, percent(20.0 + wobble / 2.0))
                .with(MetricKind::Disk, percent(30.0 + (n % 50) as f64));
            r.tags = vec![format!("rack-{}", n % 20)];
            r
        })
        .collect();
    SourceSnapshot {
        source: Source::Agent,
        scope: format!("perf:{scope}"),
        observed_at: Timestamp::from_millis(1_800_000_000_000 + round as i64 * 1000),
        records,
    }
}

fn stats(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    let median = v[v.len() / 2];
    let p95 = v[((v.len() as f64 * 0.95) as usize).min(v.len() - 1)];
    (median, p95, v[v.len() - 1])
}

#[tokio::test]
#[ignore = "performance measurement; run explicitly with --ignored --nocapture"]
async fn dashboard_with_10k_resources() {
    let Some(b) = Browser::start(1400, 900).await else {
        return;
    };
    let srv = TestServer::start();
    let registry = srv
        .running
        .state
        .tenants
        .get("default")
        .expect("default tenant")
        .registry()
        .expect("registry");
    for scope in 0..SCOPES {
        registry
            .send(Ingest(snapshot(scope, 0)))
            .await
            .expect("ingest");
    }

    b.goto(&srv.url("/")).await;
    b.fill("input[name=username]", ADMIN_USER).await;
    b.fill("input[name=password]", ADMIN_PASS).await;
    b.js("window.__pulsePerf.forceLayout = true;", vec![]).await;
    b.click("button[type=submit]").await;
    b.wait_js(
        "the first render of 10,000 resources",
        "const p = window.__pulsePerf; return !!p && p.initial.length > 0 && p.initial[0].size >= 10000 && p.initial[0].paintMs !== null;",
    )
    .await;
    let first = b.js("return window.__pulsePerf.initial[0];", vec![]).await;

    // Deltas of 100 changed resources: one scope re-reported with new metrics each round.
    let rounds = 30;
    for round in 1..=rounds {
        b.js("window.__pulsePerf.forceLayout = true;", vec![]).await;
        let before = b
            .js("return window.__pulsePerf.deltas.length;", vec![])
            .await
            .as_u64()
            .unwrap_or(0);
        registry
            .send(Ingest(snapshot(round as usize % SCOPES, round)))
            .await
            .expect("ingest");
        b.wait_js(
            "the delta",
            &format!("return window.__pulsePerf.deltas.length > {before};"),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let deltas = b
        .js(
            "return window.__pulsePerf.deltas.filter(d => d.size === 100);",
            vec![],
        )
        .await;
    let totals: Vec<f64> = deltas
        .as_array()
        .expect("deltas")
        .iter()
        .filter_map(|d| d["totalMs"].as_f64())
        .collect();
    let applies: Vec<f64> = deltas
        .as_array()
        .expect("deltas")
        .iter()
        .filter_map(|d| d["applyMs"].as_f64())
        .collect();
    assert!(
        !totals.is_empty(),
        "no 100-resource delta was recorded: {deltas}"
    );

    // Scroll the 10,000-row table one step per frame and time the frames.
    let frames = b
        .client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               const el = document.querySelector('.vt-scroll');
               const times = []; let last = performance.now(); let n = 0;
               function step(now) {
                 times.push(now - last); last = now; el.scrollTop += 600; n += 1;
                 if (n < 180) requestAnimationFrame(step); else done(times.slice(1));
               }
               requestAnimationFrame(step);"#,
            vec![],
        )
        .await
        .expect("scroll run");
    let frame_ms: Vec<f64> = frames
        .as_array()
        .expect("frames")
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    let rows_in_dom = b
        .js(
            "return document.querySelectorAll('.vt-window .vt-row').length;",
            vec![],
        )
        .await;
    let loaded = b
        .js(
            "return performance.getEntriesByType('resource').filter(e => /\\.(m?js|css)$/.test(e.name)).reduce((s, e) => s + e.decodedBodySize, 0);",
            vec![],
        )
        .await;

    let (d_med, d_p95, d_max) = stats(totals);
    let (a_med, _, a_max) = stats(applies);
    let (f_med, f_p95, f_max) = stats(frame_ms);
    eprintln!("--- dashboard, 10,000 resources ---");
    eprintln!(
        "first render after initialState arrived: {:.0} ms to committed DOM with layout, {:.0} ms to painted (of which {:.0} ms parse + store)",
        first["totalMs"].as_f64().unwrap_or(f64::NAN),
        first["paintMs"].as_f64().unwrap_or(f64::NAN),
        first["applyMs"].as_f64().unwrap_or(f64::NAN),
    );
    eprintln!(
        "100-resource delta, main thread (parse, apply, render, style+layout) over {} deltas: median {d_med:.1} ms, p95 {d_p95:.1} ms, max {d_max:.1} ms (parse+apply median {a_med:.2} ms, max {a_max:.2} ms)",
        deltas.as_array().map_or(0, Vec::len)
    );
    eprintln!("scrolling 10,000 rows, 600 px per frame: frame interval median {f_med:.1} ms, p95 {f_p95:.1} ms, max {f_max:.1} ms; rows in the DOM: {rows_in_dom}");
    eprintln!(
        "page weight: {} bytes of JS + CSS embedded (all files), {} bytes loaded by this page",
        pulse::http::ui::script_and_style_bytes(),
        loaded
    );
    b.finish().await;
}
