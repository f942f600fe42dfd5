//! A WebSocket test client that keeps the state a browser would: initialState, then deltas.

use std::collections::BTreeMap;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

/// A connected client.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Connects with an API token header (and optional extra headers).
pub async fn connect(
    url: &str,
    token: &str,
    extra: &[(&str, &str)],
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let mut req = url.into_client_request()?;
    req.headers_mut()
        .insert("X-API-Token", token.parse().expect("header"));
    for (k, v) in extra {
        req.headers_mut().insert(
            tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(k.as_bytes())
                .expect("name"),
            v.parse().expect("value"),
        );
    }
    connect_async(req).await.map(|(ws, _)| ws)
}

/// The next JSON text frame (pings and pongs skipped).
pub async fn next_json(ws: &mut Ws) -> Value {
    loop {
        match ws.next().await.expect("stream open").expect("frame") {
            Message::Text(t) => return serde_json::from_str(&t).expect("json frame"),
            Message::Close(c) => panic!("closed: {c:?}"),
            _ => continue,
        }
    }
}

/// Sends a JSON text frame.
pub async fn send_json(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string())).await.expect("send");
}

/// The state a client holds, built only from frames.
#[derive(Default, Debug)]
pub struct ClientState {
    /// Resources by id.
    pub resources: BTreeMap<String, Value>,
    /// Every other top-level field of the state.
    pub fields: Map<String, Value>,
    /// Frame types seen, in order.
    pub seen: Vec<String>,
}

impl ClientState {
    /// Applies one frame as a browser would.
    pub fn apply(&mut self, frame: &Value) {
        let kind = frame["type"].as_str().unwrap_or_default().to_owned();
        self.seen.push(kind.clone());
        let Some(data) = frame["data"].as_object() else {
            return;
        };
        match kind.as_str() {
            "initialState" | "rawData" => {
                for (k, v) in data {
                    match k.as_str() {
                        "resources" => {
                            self.resources = v
                                .as_array()
                                .expect("resources array")
                                .iter()
                                .map(|r| (r["id"].as_str().expect("id").to_owned(), r.clone()))
                                .collect();
                        }
                        "resourceDelta" => {
                            let diff: pulse::model::ResourceDiff =
                                serde_json::from_value(v.clone()).expect("delta shape");
                            pulse::model::apply_diff(&mut self.resources, &diff)
                                .expect("delta applies");
                        }
                        _ => {
                            self.fields.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// The state as `/api/state` serialises it.
    pub fn as_state(&self) -> Value {
        let mut out = self.fields.clone();
        out.insert(
            "resources".into(),
            Value::Array(self.resources.values().cloned().collect()),
        );
        Value::Object(out)
    }
}
