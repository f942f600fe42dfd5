//! Alerting end to end: agent reports that cross a CPU threshold (time delay 0) → alert engine →
//! durable queue → webhook on a loopback receiver, measured while background reports flow at a
//! fixed rate; and the delivery queue holding many pending deliveries while its receiver is down.
//!
//! ```text
//! cargo bench --bench loadgen -- alerts [--rate 1000] [--crossings 5] [--seconds 60]
//! cargo bench --bench loadgen -- queue [--hosts 2500] [--webhooks 4]
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::server::{cpu_time_of, ServerProcess};
use crate::stats::{mb, Latencies};

/// Seeds of probe hosts start here (background hosts use 0..N).
const PROBE_SEED: u64 = 100_000;

/// What the receiver saw: arrival time per alerted host name, and a count.
#[derive(Default)]
struct Seen {
    arrivals: Mutex<HashMap<String, Instant>>,
    requests: AtomicU64,
    up: AtomicBool,
}

/// A loopback webhook receiver answering 200 while `up`, else 503.
async fn receiver(seen: Arc<Seen>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut reader = BufReader::new(stream);
                loop {
                    let mut length = 0usize;
                    let mut line = String::new();
                    if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let h = h.trim_end().to_ascii_lowercase();
                        if h.is_empty() {
                            break;
                        }
                        if let Some(v) = h.strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    let at = Instant::now();
                    seen.requests.fetch_add(1, Ordering::Relaxed);
                    let up = seen.up.load(Ordering::Relaxed);
                    if up {
                        if let Ok(v) = serde_json::from_slice::<Value>(&body) {
                            if v["event"] == "alert" {
                                for a in v["alerts"].as_array().into_iter().flatten() {
                                    if let Some(name) = a["resource_name"].as_str() {
                                        if let Ok(mut m) = seen.arrivals.lock() {
                                            m.entry(name.to_owned()).or_insert(at);
                                        }
                                    }
                                }
                            }
                        }
                    }
                    let status = if up { "200 OK" } else { "503 Unavailable" };
                    let reply = format!("HTTP/1.1 {status}\r\ncontent-length: 2\r\n\r\nok");
                    if reader.get_mut().write_all(reply.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

async fn api(
    client: &reqwest::Client,
    server: &ServerProcess,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> Value {
    let resp = client
        .request(method, format!("{}{path}", server.base))
        .header("X-API-Token", &server.token)
        .json(&body)
        .send()
        .await
        .expect("api call");
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().await.unwrap_or(Value::Null)
}

/// Alerts fire at once, each notification goes out alone, no cooldown.
async fn configure(
    client: &reqwest::Client,
    server: &ServerProcess,
    hook: SocketAddr,
    webhooks: usize,
) {
    api(client, server, reqwest::Method::PUT, "/api/alerts/config",
        json!({"delays": {"defaultSeconds": 0, "byType": {}},
               "notifications": {"grouping": {"enabled": false}, "cooldownMinutes": 0, "maxPerHour": 0},
               "flapping": {"enabled": false}})).await;
    for i in 0..webhooks {
        api(
            client,
            server,
            reqwest::Method::POST,
            "/api/notifications/webhooks",
            json!({"name": format!("loadgen-{i}"), "url": format!("http://{hook}/hook/{i}")}),
        )
        .await;
    }
}

/// A gzip host report of host `seed` with a fixed CPU percent.
fn report(seed: u64, cpu: f64) -> Vec<u8> {
    let mut r = pulse::sim::agents::host_report(seed, 0);
    r["metrics"]["cpuUsagePercent"] = json!(cpu);
    pulse::sim::agents::gzip_json(&r).unwrap_or_default()
}

async fn post(client: &reqwest::Client, url: &str, token: &str, body: Vec<u8>) -> bool {
    client
        .post(url)
        .header("X-API-Token", token)
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .body(body)
        .send()
        .await
        .map(|r| r.status().is_success())
        .unwrap_or(false)
}

/// End-to-end latency of threshold crossings under background load.
pub async fn run_latency(rate: u64, crossings_per_s: u64, seconds: u64) {
    let seen = Arc::new(Seen::default());
    seen.up.store(true, Ordering::Relaxed);
    let hook = receiver(seen.clone()).await;
    let server = ServerProcess::start(&[("PULSE_WEBHOOK_ALLOWED_CIDRS", "127.0.0.0/8")]);
    let client = reqwest::Client::new();
    configure(&client, &server, hook, 1).await;
    let url = format!("{}/api/agents/agent/report", server.base);
    let hosts = 1000u64;
    let background: Arc<Vec<Vec<u8>>> = Arc::new((0..hosts).map(|s| report(s, 20.0)).collect());
    let duration = Duration::from_secs(seconds);
    let started = Instant::now();
    let cpu_before = cpu_time_of(server.pid());
    let sent_bg = Arc::new(AtomicU64::new(0));
    let connections = 32u64;
    let interval = Duration::from_secs_f64(connections as f64 / rate as f64);
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (url, token, bodies, sent) = (
            url.clone(),
            server.token.clone(),
            background.clone(),
            sent_bg.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .expect("client");
            let begin = Instant::now() + interval.mul_f64(c as f64 / connections as f64);
            let mut n = 0u32;
            let mut i = c;
            while started.elapsed() < duration {
                tokio::time::sleep_until((begin + interval * n).into()).await;
                n += 1;
                let body = bodies[(i % hosts) as usize].clone();
                i += connections;
                if post(&client, &url, &token, body).await {
                    sent.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    // Probes: each a fresh host whose first report crosses the threshold.
    let probe_interval = Duration::from_secs_f64(1.0 / crossings_per_s as f64);
    let probes = (seconds.saturating_sub(2)) * crossings_per_s;
    let sent_at: Arc<Mutex<HashMap<String, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
    let probe_client = reqwest::Client::new();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let begin = Instant::now();
    for k in 0..probes {
        tokio::time::sleep_until((begin + probe_interval * k as u32).into()).await;
        let seed = PROBE_SEED + k;
        let body = report(seed, 95.0);
        let name = format!("sim-host-{seed:03}");
        let t0 = Instant::now();
        if let Ok(mut m) = sent_at.lock() {
            m.insert(name, t0);
        }
        let (c, u, t) = (probe_client.clone(), url.clone(), server.token.clone());
        tokio::spawn(async move { post(&c, &u, &t, body).await });
    }
    for t in tasks {
        let _ = t.await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_time_of(server.pid()).saturating_sub(cpu_before);
    let mut lat = Latencies::default();
    let mut missing = 0;
    let arrivals = seen.arrivals.lock().map(|m| m.clone()).unwrap_or_default();
    for (name, t0) in sent_at.lock().map(|m| m.clone()).unwrap_or_default() {
        match arrivals.get(&name) {
            Some(at) => lat.0.push(at.saturating_duration_since(t0)),
            None => missing += 1,
        }
    }
    println!(
        "alerts: background {:.0} reports/s for {seconds} s, {} threshold crossings ({missing} not notified)",
        sent_bg.load(Ordering::Relaxed) as f64 / duration.as_secs_f64(),
        probes
    );
    println!("alerts: report → webhook received {}", lat.summary());
    println!(
        "alerts: server CPU {:.0} % of one core, RSS {:.1} MB",
        cpu.as_secs_f64() / elapsed * 100.0,
        mb(server.rss_bytes())
    );
}

/// Many pending deliveries while the receiver is down, then the drain once it is back.
pub async fn run_queue(hosts: u64, webhooks: usize) {
    let seen = Arc::new(Seen::default());
    let hook = receiver(seen.clone()).await;
    let server = ServerProcess::start(&[("PULSE_WEBHOOK_ALLOWED_CIDRS", "127.0.0.0/8")]);
    let client = reqwest::Client::new();
    let url = format!("{}/api/agents/agent/report", server.base);
    // The resources first, below the threshold, so their memory is in the baseline.
    for seed in 0..hosts {
        post(&client, &url, &server.token, report(seed, 20.0)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_resources = server.rss_bytes();
    configure(&client, &server, hook, webhooks).await;
    let started = Instant::now();
    for seed in 0..hosts {
        post(&client, &url, &server.token, report(seed, 95.0)).await;
    }
    let expected = hosts * webhooks as u64;
    let stats = loop {
        let stats = api(
            &client,
            &server,
            reqwest::Method::GET,
            "/api/notifications/queue/stats",
            Value::Null,
        )
        .await;
        if stats["pending"].as_u64().unwrap_or(0) + stats["sent"].as_u64().unwrap_or(0) >= expected
            || started.elapsed() > Duration::from_secs(300)
        {
            break stats;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    println!(
        "queue: {hosts} alerts × {webhooks} webhooks queued in {:.1} s: {stats}",
        started.elapsed().as_secs_f64()
    );
    // Let the notifier work against the failing receiver for a while.
    let mut peak = 0u64;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        peak = peak.max(server.rss_bytes());
    }
    println!(
        "queue: RSS with the resources {:.1} MB; with {} pending deliveries failing for 20 s, peak {:.1} MB; {} attempts refused",
        mb(rss_resources),
        stats["pending"],
        mb(peak),
        seen.requests.load(Ordering::Relaxed)
    );
    seen.up.store(true, Ordering::Relaxed);
    let drain = Instant::now();
    let stats = loop {
        let stats = api(
            &client,
            &server,
            reqwest::Method::GET,
            "/api/notifications/queue/stats",
            Value::Null,
        )
        .await;
        if stats["pending"] == 0 || drain.elapsed() > Duration::from_secs(600) {
            break stats;
        }
        peak = peak.max(server.rss_bytes());
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    println!(
        "queue: receiver back: drained in {:.1} s ({:.0} deliveries/s), peak RSS {:.1} MB, final {stats}",
        drain.elapsed().as_secs_f64(),
        expected as f64 / drain.elapsed().as_secs_f64(),
        mb(peak)
    );
}
