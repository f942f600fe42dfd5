//! A fleet of WebSocket clients on loopback measuring change-to-client latency.
//!
//! Each client binds its own source address in 127.0.1.0/24 (the server limits connects per IP),
//! reads frames, and finds latency markers `"status":"Up t=<unix µs>"` with a substring scan —
//! cheap enough that 500 clients in one process do not distort what they measure.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::stats::Latencies;

/// Marker prefix embedded by the change driver.
pub const MARKER: &str = "Up t=";

/// Shared counters of the fleet.
#[derive(Default)]
pub struct FleetStats {
    /// Latencies seen by all reading clients.
    pub latencies: Mutex<Latencies>,
    /// Frames received.
    pub frames: AtomicU64,
    /// Delta frames received after `initialState`, and their bytes (frame size drives the
    /// server's per-connection write buffer).
    pub deltas: AtomicU64,
    /// Bytes of those delta frames.
    pub delta_bytes: AtomicU64,
    /// `resync` frames received (a healthy client should see none).
    pub resyncs: AtomicU64,
    /// Clients that failed to connect or were disconnected.
    pub errors: AtomicU64,
}

/// Microseconds since the epoch.
pub fn now_micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

fn source_addr(i: usize) -> SocketAddr {
    // 10 clients per source address keeps every address well under 30 connects per minute.
    let host = 1 + (i / 10) as u8;
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(127, 0, 1, host), 0))
}

/// Connects client `i` and returns the stream.
pub async fn connect(
    i: usize,
    server: SocketAddr,
    token: &str,
) -> Result<tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>, String> {
    let socket = TcpSocket::new_v4().map_err(|e| e.to_string())?;
    socket.bind(source_addr(i)).map_err(|e| e.to_string())?;
    let stream = socket.connect(server).await.map_err(|e| e.to_string())?;
    let mut req = format!("ws://{server}/ws")
        .into_client_request()
        .map_err(|e| e.to_string())?;
    req.headers_mut().insert(
        "X-API-Token",
        token.parse().map_err(|_| "token header".to_owned())?,
    );
    let (ws, _) = tokio_tungstenite::client_async(req, stream)
        .await
        .map_err(|e| e.to_string())?;
    Ok(ws)
}

/// Scans a frame for latency markers and records them.
fn record_markers(text: &str, now: u64, out: &mut Vec<Duration>) {
    let mut rest = text;
    while let Some(pos) = rest.find(MARKER) {
        rest = &rest[pos + MARKER.len()..];
        let digits: &str = &rest[..rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len())];
        if let Ok(sent) = digits.parse::<u64>() {
            out.push(Duration::from_micros(now.saturating_sub(sent)));
        }
    }
}

/// Runs one reading client until `stop` is set.
pub async fn run_reader(
    i: usize,
    server: SocketAddr,
    token: String,
    stats: Arc<FleetStats>,
    stop: Arc<AtomicBool>,
) {
    let mut ws = match connect(i, server, &token).await {
        Ok(ws) => ws,
        Err(e) => {
            eprintln!("client {i}: {e}");
            stats.errors.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    let mut local = Vec::new();
    let mut seen_initial = false;
    while !stop.load(Ordering::Relaxed) {
        match tokio::time::timeout(Duration::from_millis(500), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                let now = now_micros();
                stats.frames.fetch_add(1, Ordering::Relaxed);
                if t.starts_with("{\"type\":\"resync\"") {
                    stats.resyncs.fetch_add(1, Ordering::Relaxed);
                }
                if t.starts_with("{\"type\":\"initialState\"") {
                    seen_initial = true;
                    continue;
                }
                if seen_initial {
                    stats.deltas.fetch_add(1, Ordering::Relaxed);
                    stats
                        .delta_bytes
                        .fetch_add(t.len() as u64, Ordering::Relaxed);
                    record_markers(&t, now, &mut local);
                }
            }
            Ok(Some(Ok(_))) | Err(_) => {}
            Ok(Some(Err(_))) | Ok(None) => {
                stats.errors.fetch_add(1, Ordering::Relaxed);
                break;
            }
        }
    }
    if let Ok(mut l) = stats.latencies.lock() {
        l.0.extend(local);
    }
}

/// Connects a client that stops reading (a stalled browser tab): at once, or once it has its
/// initial state. At the end it reads again to tell whether the server still holds the
/// connection (it should abort it after the WebSocket idle timeout).
pub async fn run_stalled(
    after_initial: bool,
    i: usize,
    server: SocketAddr,
    token: String,
    stop: Arc<AtomicBool>,
) {
    let Ok(mut ws) = connect(i, server, &token).await else {
        eprintln!("fanout: the stalled client could not connect");
        return;
    };
    if after_initial {
        while let Some(Ok(msg)) = ws.next().await {
            if msg
                .to_text()
                .is_ok_and(|t| t.starts_with("{\"type\":\"initialState\""))
            {
                break;
            }
        }
    }
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A dropped connection shows once the client reads again: what was buffered is delivered,
    // the window update then meets a reset. A held one goes on delivering frames, or the
    // session, polled again, closes it properly for having been silent.
    let verdict = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(_))) => break true,
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break false,
            }
        }
    })
    .await;
    let held = verdict.unwrap_or(true);
    println!(
        "fanout: the stalled client's connection was {} at the end",
        if held {
            "still held"
        } else {
            "dropped by the server"
        }
    );
}
