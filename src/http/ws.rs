//! `GET /ws`: one session actor per browser (SPEC §6).
//!
//! Flow: subscribe to the tenant hub first, then take a full state at sequence `s` from the
//! registry, send `welcome` + `initialState`, and forward only deltas with a sequence above `s`.
//! The actor is polled only when its connection can take more bytes, so a client that stops reading
//! stops consuming its bounded hub queue; the hub flags it lagging and skips it. When it catches up
//! the session drops what is queued, sends `resync` and a fresh `initialState`. Memory per client is
//! therefore bounded by the queue capacity plus one full state whatever the client does, and a
//! client that never reads again is dropped by the kernel after the idle timeout (`super::peer`).
//! Text frames go out through the session's [`Outbox`] as views of the shared frame texts.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_web_actors::ws;
use pulse_actors::{HubEvent, HubEvents};
use serde_json::{json, Value};

use super::auth::{client_ip, Authed, MonitoringRead};
use super::slices::{Outbox, Slices};
use crate::app::AppState;
use crate::error::{Error, Result};
use crate::monitor::clock;
use crate::monitor::registry::{shared_bytes, FullState, GetFullState, HubItem};
use crate::monitor::TenantHandle;
use crate::telemetry::names;

/// Largest frame a client may send.
const MAX_INBOUND_FRAME: usize = 64 * 1024;

/// Registers `/ws`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/ws").get(upgrade));
}

/// Timing and queue knobs of a session (from settings).
#[derive(Debug, Clone, Copy)]
pub struct WsTuning {
    /// Frames a client may have queued before it is considered lagging.
    pub queue_capacity: usize,
    /// Interval of server protocol pings.
    pub ping_interval: Duration,
    /// A client silent for this long is closed.
    pub idle_timeout: Duration,
}

async fn upgrade(
    req: HttpRequest,
    stream: web::Payload,
    app: web::Data<AppState>,
    auth: Authed<MonitoringRead>,
) -> Result<HttpResponse> {
    check_origin(&req, &app.settings().allowed_origins)?;
    app.ws_limiter
        .check(&client_ip(&req), Instant::now())
        .inspect_err(|_| metrics::counter!(names::RATE_LIMITED, "limiter" => "ws").increment(1))?;
    let tuning = app.ws_tuning();
    let events = auth.tenant.hub().subscribe(tuning.queue_capacity).events();
    let session = WsSession {
        tenant: auth.tenant.clone(),
        events: Some(events),
        tuning,
        last_heard: Instant::now(),
        position: None,
        sync: None,
        outbox: Outbox::default(),
    };
    let outbox = session.outbox.clone();
    let mut response =
        ws::handshake(&req).map_err(|e| Error::validation("upgrade", e.to_string()))?;
    let frames = ws::WebsocketContext::with_codec(
        session,
        stream,
        actix_http::ws::Codec::new().max_size(MAX_INBOUND_FRAME),
    );
    Ok(response.streaming(Slices::new(frames, outbox)))
}

/// Origin check: no Origin (non-browser client) or the same host is allowed; otherwise the origin
/// must be in the configured allow-list (`*` allows any).
pub fn check_origin(req: &HttpRequest, allowed: &[String]) -> Result<()> {
    let Some(origin) = req.headers().get("origin").and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let host = req
        .headers()
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let origin_host = origin.split("://").nth(1).unwrap_or(origin);
    if (!host.is_empty() && origin_host.eq_ignore_ascii_case(host))
        || allowed
            .iter()
            .any(|a| a == "*" || a.eq_ignore_ascii_case(origin))
    {
        Ok(())
    } else {
        Err(Error::Forbidden(format!("origin {origin} is not allowed")))
    }
}

/// Why a full state is being fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SyncKind {
    /// First state after connecting: `welcome` + `initialState`.
    Initial,
    /// After lagging or a registry restart: `resync` + `initialState`.
    Resync,
    /// The client asked with `requestData`: a full `rawData`.
    Requested,
}

/// A full-state fetch in flight, with the deltas that arrived meanwhile.
struct PendingSync {
    kind: SyncKind,
    buffered: VecDeque<(u64, u64, Arc<str>)>,
    overflowed: bool,
}

/// One browser connection.
pub struct WsSession {
    tenant: TenantHandle,
    events: Option<HubEvents<HubItem>>,
    tuning: WsTuning,
    last_heard: Instant,
    /// `(epoch, seq)` of the state the client holds.
    position: Option<(u64, u64)>,
    sync: Option<PendingSync>,
    /// Where text frames go (shared, not copied); the context writes only control frames.
    outbox: Outbox,
}

impl WsSession {
    fn send(&self, kind: &'static str, text: impl Into<bytes::Bytes>) {
        metrics::counter!(names::WS_FRAMES, "type" => kind).increment(1);
        self.outbox.text(text.into());
    }

    fn envelope(kind: &str, data: &str) -> String {
        format!(
            "{{\"type\":\"{kind}\",\"data\":{data},\"timestamp\":{}}}",
            clock::now_millis()
        )
    }

    /// Starts fetching a full state; deltas arriving meanwhile are buffered (bounded).
    fn start_sync(&mut self, kind: SyncKind, ctx: &mut ws::WebsocketContext<Self>) {
        if let Some(pending) = &mut self.sync {
            // A fetch is already in flight; the stronger kind wins.
            if kind == SyncKind::Resync {
                pending.kind = SyncKind::Resync;
            }
            return;
        }
        self.sync = Some(PendingSync {
            kind,
            buffered: VecDeque::new(),
            overflowed: false,
        });
        let registry = match self.tenant.registry() {
            Ok(r) => r,
            Err(_) => {
                ctx.run_later(Duration::from_millis(200), move |act, ctx| {
                    act.sync = None;
                    act.start_sync(kind, ctx);
                });
                return;
            }
        };
        registry
            .send(GetFullState)
            .into_actor(self)
            .map(move |res, act, ctx| match res {
                Ok(full) => act.finish_sync(full, ctx),
                Err(_) => {
                    act.sync = None;
                    ctx.run_later(Duration::from_millis(200), move |act, ctx| {
                        act.start_sync(kind, ctx)
                    });
                }
            })
            .spawn(ctx);
    }

    fn finish_sync(&mut self, full: FullState, ctx: &mut ws::WebsocketContext<Self>) {
        let Some(pending) = self.sync.take() else {
            return;
        };
        match pending.kind {
            SyncKind::Initial => self.send("initialState", full.frame_bytes()),
            SyncKind::Resync => {
                metrics::counter!(names::WS_RESYNCS).increment(1);
                self.send("resync", Self::envelope("resync", "{}"));
                self.send("initialState", full.frame_bytes());
            }
            SyncKind::Requested => {
                let data = String::from_utf8_lossy(&full.data_bytes()).into_owned();
                self.send("rawData", Self::envelope("rawData", &data));
            }
        }
        self.position = Some((full.epoch, full.seq));
        if pending.overflowed {
            self.start_sync(SyncKind::Resync, ctx);
            return;
        }
        for (epoch, seq, frame) in pending.buffered {
            self.forward(epoch, seq, frame, ctx);
        }
    }

    /// Sends a delta if it is newer than what the client holds; a gap means a resync.
    fn forward(
        &mut self,
        epoch: u64,
        seq: u64,
        frame: Arc<str>,
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
        match self.position {
            Some((e, s)) if e == epoch && seq <= s => {}
            Some((e, s)) if e == epoch && seq == s + 1 => {
                self.position = Some((e, seq));
                self.send("rawData", shared_bytes(&frame));
            }
            _ => self.start_sync(SyncKind::Resync, ctx),
        }
    }

    fn on_client_text(&mut self, text: &str, ctx: &mut ws::WebsocketContext<Self>) {
        let kind = serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| v.get("type").and_then(Value::as_str).map(str::to_owned));
        match kind.as_deref() {
            Some("ping") => self.send("pong",
                json!({"type": "pong", "data": {"timestamp": clock::now_millis()}}).to_string(),
            ),
            Some("requestData") => self.start_sync(SyncKind::Requested, ctx),
            _ => self.send("error",
                json!({"type": "error", "data": {"code": "invalid_message", "message": "expected {\"type\":\"ping\"} or {\"type\":\"requestData\"}"}}).to_string(),
            ),
        }
    }
}

impl Actor for WsSession {
    type Context = ws::WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        metrics::gauge!(names::WS_CLIENTS).increment(1.0);
        let welcome =
            json!({"message": "Connected to Pulse WebSocket", "orgId": self.tenant.org()});
        self.send("welcome", Self::envelope("welcome", &welcome.to_string()));
        if let Some(events) = self.events.take() {
            ctx.add_stream(events);
        }
        self.start_sync(SyncKind::Initial, ctx);
        ctx.run_interval(self.tuning.ping_interval, |act, ctx| {
            if act.last_heard.elapsed() > act.tuning.idle_timeout {
                ctx.close(Some(ws::CloseReason {
                    code: ws::CloseCode::Away,
                    description: Some("idle timeout".into()),
                }));
                ctx.stop();
            } else {
                ctx.ping(b"");
            }
        });
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        metrics::gauge!(names::WS_CLIENTS).decrement(1.0);
    }
}

impl StreamHandler<HubEvent<HubItem>> for WsSession {
    fn handle(&mut self, event: HubEvent<HubItem>, ctx: &mut Self::Context) {
        match event {
            HubEvent::Lagged { dropped, .. } => {
                // We fell behind: what was queued is gone; start over from a full state.
                metrics::counter!(names::WS_DROPPED, "org" => self.tenant.org().to_owned())
                    .increment(dropped);
                self.position = None;
                if let Some(pending) = &mut self.sync {
                    pending.buffered.clear();
                }
                self.start_sync(SyncKind::Resync, ctx);
            }
            HubEvent::Item(HubItem::Alert { kind, frame }) => {
                self.send(kind, shared_bytes(&frame));
            }
            HubEvent::Item(HubItem::Reset) => {
                self.position = None;
                self.start_sync(SyncKind::Resync, ctx);
            }
            HubEvent::Item(HubItem::Delta {
                epoch, seq, frame, ..
            }) => match &mut self.sync {
                Some(pending) => {
                    if pending.buffered.len() >= self.tuning.queue_capacity {
                        pending.buffered.clear();
                        pending.overflowed = true;
                    } else if !pending.overflowed {
                        pending.buffered.push_back((epoch, seq, frame));
                    }
                }
                None => self.forward(epoch, seq, frame, ctx),
            },
        }
    }

    fn finished(&mut self, ctx: &mut Self::Context) {
        // The hub went away (tenant stopped): nothing more will come.
        ctx.stop();
    }
}

impl StreamHandler<std::result::Result<ws::Message, ws::ProtocolError>> for WsSession {
    fn handle(
        &mut self,
        msg: std::result::Result<ws::Message, ws::ProtocolError>,
        ctx: &mut Self::Context,
    ) {
        self.last_heard = Instant::now();
        match msg {
            Ok(ws::Message::Text(text)) => self.on_client_text(&text, ctx),
            Ok(ws::Message::Ping(p)) => ctx.pong(&p),
            Ok(ws::Message::Pong(_)) => {}
            Ok(ws::Message::Close(reason)) => {
                ctx.close(reason);
                ctx.stop();
            }
            Ok(ws::Message::Binary(_)) | Ok(ws::Message::Continuation(_)) => {
                ctx.close(Some(ws::CloseReason {
                    code: ws::CloseCode::Unsupported,
                    description: Some("binary frames are not supported".into()),
                }));
                ctx.stop();
            }
            Ok(ws::Message::Nop) => {}
            Err(e) => {
                tracing::debug!(error = %e, "websocket protocol error");
                ctx.close(Some(ws::CloseReason {
                    code: ws::CloseCode::Protocol,
                    description: Some("protocol error".into()),
                }));
                ctx.stop();
            }
        }
    }
}
