//! The simulator's JSON-RPC 2.0 endpoint at `/api/current`: one actor per WebSocket session,
//! login (`auth.login_ex`, `auth.login_with_api_key`, `auth.login`), the data methods from the
//! rendered scenario, notifications interleaved with answers, and the fault knobs (dropped
//! sessions, slow, failing and unknown methods, refused logins).

use std::sync::Arc;

use actix::{Actor, ActorContext, AsyncContext, StreamHandler};
use actix_web::{web, HttpRequest, HttpResponse};
use actix_web_actors::ws;
use serde_json::{json, Value};

use super::scenario::SimFlavor;
use super::SimState;

/// Largest request frame accepted.
const MAX_FRAME_BYTES: usize = 1 << 20;

/// `GET /api/current`: upgrades to a JSON-RPC session where the version has one; otherwise
/// answers as that release's web server does (CORE redirects to its UI, older SCALE 404s).
pub(super) async fn upgrade(
    req: HttpRequest,
    stream: web::Payload,
    state: web::Data<SimState>,
) -> Result<HttpResponse, actix_web::Error> {
    if !state.ws_available() {
        return Ok(match state.flavor {
            SimFlavor::Core => HttpResponse::Found()
                .insert_header(("Location", "/ui/"))
                .finish(),
            SimFlavor::Scale(_) => HttpResponse::NotFound()
                .content_type("text/html")
                .body("<html><body><h1>404 Not Found</h1></body></html>"),
        });
    }
    let session = RpcSession {
        generation: state.faults.generation(),
        state: state.into_inner(),
        authed: false,
        handled: 0,
    };
    ws::WsResponseBuilder::new(session, &req, stream)
        .frame_size(MAX_FRAME_BYTES)
        .start()
}

/// One client session.
struct RpcSession {
    state: Arc<SimState>,
    authed: bool,
    /// The fault generation at connect; a newer one means "dropped".
    generation: u64,
    /// Requests handled.
    handled: u64,
}

impl Actor for RpcSession {
    type Context = ws::WebsocketContext<Self>;
}

impl StreamHandler<Result<ws::Message, ws::ProtocolError>> for RpcSession {
    fn handle(&mut self, item: Result<ws::Message, ws::ProtocolError>, ctx: &mut Self::Context) {
        match item {
            Ok(ws::Message::Text(text)) => self.on_request(&text, ctx),
            Ok(ws::Message::Binary(bytes)) => {
                if let Ok(text) = std::str::from_utf8(&bytes) {
                    self.on_request(text, ctx);
                }
            }
            Ok(ws::Message::Ping(payload)) => ctx.pong(&payload),
            Ok(ws::Message::Close(reason)) => {
                ctx.close(reason);
                ctx.stop();
            }
            Ok(_) => {}
            Err(_) => ctx.stop(),
        }
    }
}

impl RpcSession {
    /// Answers one request (or drops the session when a fault says so).
    fn on_request(&mut self, text: &str, ctx: &mut ws::WebsocketContext<Self>) {
        let faults = Arc::clone(&self.state.faults);
        let Ok(request) = serde_json::from_str::<Value>(text) else {
            faults.count("");
            ctx.text(
                json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "Parse error"}})
                    .to_string(),
            );
            return;
        };
        let method = request
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        faults.count(&method);
        self.handled += 1;
        let every = faults.disconnect_every();
        if faults.generation() != self.generation || (every > 0 && self.handled % every == 0) {
            ctx.stop();
            return;
        }
        let id = request.get("id").cloned().unwrap_or(Value::Null);
        let params = request.get("params").cloned().unwrap_or_else(|| json!([]));
        let answer = match self.dispatch(&method, &params) {
            Ok(result) => format!("{{\"jsonrpc\":\"2.0\",\"id\":{id},\"result\":{result}}}"),
            Err(error) => json!({"jsonrpc": "2.0", "id": id, "error": error}).to_string(),
        };
        if faults.notifications() && self.handled % 3 == 0 {
            ctx.text(
                json!({"jsonrpc": "2.0", "method": "collection_update",
                       "params": {"msg": "changed", "collection": "alert.list", "id": self.handled}})
                .to_string(),
            );
        }
        match faults.delay(&method) {
            Some(delay) => {
                ctx.run_later(delay, move |_, ctx| ctx.text(answer));
            }
            None => ctx.text(answer),
        }
    }

    /// The result text of `method`, or its error object.
    fn dispatch(&mut self, method: &str, params: &Value) -> Result<String, Value> {
        let faults = &self.state.faults;
        let creds = &self.state.credentials;
        let first = params.get(0).unwrap_or(&Value::Null);
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        match method {
            "auth.login_ex" => {
                let user = text(first, "username");
                let ok = !faults.auth_failure()
                    && user.as_deref() == Some(creds.username.as_str())
                    && match text(first, "mechanism").as_deref() {
                        Some("API_KEY_PLAIN") => {
                            text(first, "api_key").as_deref() == Some(creds.api_key.as_str())
                        }
                        Some("PASSWORD_PLAIN") => {
                            text(first, "password").as_deref() == Some(creds.password.as_str())
                        }
                        _ => false,
                    };
                self.login(ok);
                Ok(if ok {
                    json!({"response_type": "SUCCESS", "authenticator": "LEVEL_1", "user_info": null})
                } else {
                    json!({"response_type": "AUTH_ERR"})
                }
                .to_string())
            }
            "auth.login_with_api_key" => {
                let ok = !faults.auth_failure() && first.as_str() == Some(creds.api_key.as_str());
                self.login(ok);
                Ok(ok.to_string())
            }
            "auth.login" => {
                let ok = !faults.auth_failure()
                    && first.as_str() == Some(creds.username.as_str())
                    && params.get(1).and_then(Value::as_str) == Some(creds.password.as_str());
                self.login(ok);
                Ok(ok.to_string())
            }
            "core.ping" => Ok("\"pong\"".into()),
            _ if !self.authed => Err(json!({
                "code": -32001, "message": "Method call error",
                "data": {"error": 13, "errname": "EACCES", "reason": "Not authenticated"}
            })),
            _ if faults.is_unknown(method) => Err(method_not_found()),
            _ if faults.is_failing(method) => Err(json!({
                "code": -32001, "message": "Method call error",
                "data": {"error": 14, "errname": "EFAULT",
                         "reason": format!("[EFAULT] simulated failure of {method}")}
            })),
            _ => match self.state.rendered().rpc.get(method) {
                Some(result) => Ok(result.to_string()),
                None => Err(method_not_found()),
            },
        }
    }

    /// Records a login attempt's outcome.
    fn login(&mut self, ok: bool) {
        self.authed = ok;
        if ok {
            self.state.faults.count_login();
        }
    }
}

/// The JSON-RPC "method not found" error as the middleware sends it.
fn method_not_found() -> Value {
    json!({"code": -32601, "message": "Method does not exist"})
}
