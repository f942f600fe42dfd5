//! [`WsSession`]: one JSON-RPC 2.0 session over a WebSocket at `wss://host:port/api/current`,
//! on TCP + rustls (the TLS modes of [`crate::sources::tls`]) + tungstenite.
//!
//! Calls are sequential: a call sends a request with the next id and reads messages until the
//! response with that id arrives, skipping notifications and late answers to earlier requests
//! (e.g. one that timed out). Every step has a deadline, every message a size cap. Opening tells
//! an endpoint that does not offer `/api/current` (404-ish, or a redirect) apart from one that
//! cannot be reached, because only the former may lead to the legacy REST fallback.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rustls::ClientConfig;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::time::{timeout_at, Instant};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

use crate::sources::tls::{error_chain, PinReport};

use super::error::TruenasError;
use super::rpc::{encode_request, parse_incoming, truncate, Incoming};
use super::settings::TruenasEndpoint;

/// Largest message accepted (a snapshot listing of 10,000 entries is a few MB).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;
/// Largest single frame accepted.
const MAX_FRAME_BYTES: usize = 16 * 1024 * 1024;

/// Why a session could not be opened.
#[derive(Debug)]
pub enum OpenError {
    /// The appliance answered the handshake but does not offer `/api/current` (404-ish status or
    /// a redirect): the legacy REST API may be an option.
    Unsupported(String),
    /// Anything else (unreachable, TLS, pin mismatch, timeout, another HTTP status).
    Failed(TruenasError),
}

/// An open JSON-RPC session.
pub struct WsSession {
    stream: WebSocketStream<TlsStream<TcpStream>>,
    next_id: u64,
    origin: String,
}

impl std::fmt::Debug for WsSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsSession")
            .field("origin", &self.origin)
            .field("next_id", &self.next_id)
            .finish_non_exhaustive()
    }
}

impl WsSession {
    /// Connects, completes TLS and the WebSocket handshake within `timeout`.
    pub async fn open(
        endpoint: &TruenasEndpoint,
        tls: Arc<ClientConfig>,
        pins: &PinReport,
        timeout: Duration,
    ) -> Result<Self, OpenError> {
        let origin = endpoint.origin();
        let deadline = Instant::now() + timeout;
        let timed_out = |what: &str| {
            OpenError::Failed(TruenasError::Timeout {
                endpoint: origin.clone(),
                what: what.to_owned(),
                after: timeout,
            })
        };
        let server_name = endpoint.server_name().map_err(OpenError::Failed)?;
        let tcp = timeout_at(
            deadline,
            TcpStream::connect((endpoint.host(), endpoint.port())),
        )
        .await
        .map_err(|_| timed_out("connecting"))?
        .map_err(|e| {
            OpenError::Failed(TruenasError::Connect {
                endpoint: origin.clone(),
                message: e.to_string(),
            })
        })?;
        // Requests are small and latency matters more than packet count.
        let _ = tcp.set_nodelay(true);
        let tls_stream = timeout_at(deadline, TlsConnector::from(tls).connect(server_name, tcp))
            .await
            .map_err(|_| timed_out("the TLS handshake"))?
            .map_err(|e| {
                OpenError::Failed(match pins.last_mismatch() {
                    Some(mismatch) => TruenasError::FingerprintMismatch {
                        endpoint: origin.clone(),
                        mismatch,
                    },
                    None => TruenasError::Tls {
                        endpoint: origin.clone(),
                        message: error_chain(&e),
                    },
                })
            })?;
        let config = WebSocketConfig {
            max_message_size: Some(MAX_MESSAGE_BYTES),
            max_frame_size: Some(MAX_FRAME_BYTES),
            ..WebSocketConfig::default()
        };
        let handshake = tokio_tungstenite::client_async_with_config(
            endpoint.ws_url(),
            tls_stream,
            Some(config),
        );
        let (stream, _) = match timeout_at(deadline, handshake).await {
            Err(_) => return Err(timed_out("the WebSocket handshake")),
            Ok(Ok(done)) => done,
            Ok(Err(WsError::Http(response))) => {
                return Err(handshake_refusal(
                    response.status().as_u16(),
                    response
                        .headers()
                        .get("location")
                        .and_then(|l| l.to_str().ok()),
                    response.body().as_deref(),
                ))
            }
            Ok(Err(e)) => {
                return Err(OpenError::Failed(TruenasError::Closed {
                    endpoint: origin,
                    message: format!("WebSocket handshake failed: {e}"),
                }))
            }
        };
        Ok(WsSession {
            stream,
            next_id: 1,
            origin,
        })
    }

    /// Calls `method` with `params` and decodes its result as `T` (a `null` result is decoded
    /// from `null`).
    pub async fn call<T: DeserializeOwned>(
        &mut self,
        method: &str,
        params: &Value,
        timeout: Duration,
    ) -> Result<T, TruenasError> {
        let deadline = Instant::now() + timeout;
        let id = self.next_id;
        self.next_id += 1;
        let request = encode_request(id, method, params);
        let timed_out = || TruenasError::Timeout {
            endpoint: self.origin.clone(),
            what: method.to_owned(),
            after: timeout,
        };
        timeout_at(deadline, self.stream.send(Message::Text(request)))
            .await
            .map_err(|_| timed_out())?
            .map_err(|e| self.stream_error(method, e))?;
        loop {
            let message = timeout_at(deadline, self.stream.next())
                .await
                .map_err(|_| timed_out())?;
            let text = match message {
                None => {
                    return Err(TruenasError::Closed {
                        endpoint: self.origin.clone(),
                        message: "the appliance closed the connection".into(),
                    })
                }
                Some(Err(e)) => return Err(self.stream_error(method, e)),
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Binary(bytes))) => match String::from_utf8(bytes) {
                    Ok(text) => text,
                    Err(_) => continue,
                },
                Some(Ok(Message::Close(frame))) => {
                    return Err(TruenasError::Closed {
                        endpoint: self.origin.clone(),
                        message: match frame {
                            Some(f) if !f.reason.is_empty() => {
                                format!("closed by the appliance: {}", truncate(&f.reason))
                            }
                            _ => "closed by the appliance".into(),
                        },
                    })
                }
                Some(Ok(_)) => continue,
            };
            match parse_incoming(&text) {
                Err(e) => {
                    return Err(TruenasError::Decode {
                        method: method.to_owned(),
                        message: format!("a message that is not JSON-RPC: {e}"),
                    })
                }
                Ok(Incoming::Response { id: got, outcome }) if got == id => {
                    return match outcome {
                        Ok(raw) => {
                            serde_json::from_str(raw.map_or("null", |r| r.get())).map_err(|e| {
                                TruenasError::Decode {
                                    method: method.to_owned(),
                                    message: e.to_string(),
                                }
                            })
                        }
                        Err(error) if error.is_method_not_found() => {
                            Err(TruenasError::MethodNotFound {
                                method: method.to_owned(),
                            })
                        }
                        Err(error) => Err(TruenasError::Rpc {
                            method: method.to_owned(),
                            code: error.code(),
                            message: error.describe(),
                        }),
                    };
                }
                Ok(Incoming::Unmatched(Some(error))) => {
                    return Err(TruenasError::Rpc {
                        method: method.to_owned(),
                        code: error.code(),
                        message: error.describe(),
                    })
                }
                Ok(
                    Incoming::Response { .. } | Incoming::Notification | Incoming::Unmatched(None),
                ) => {}
            }
        }
    }

    /// Closes the session politely (best effort, bounded).
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(1), self.stream.close(None)).await;
    }

    /// Maps a stream error during `method`.
    fn stream_error(&self, method: &str, e: WsError) -> TruenasError {
        match e {
            WsError::Capacity(_) => TruenasError::TooLarge {
                method: method.to_owned(),
                limit: MAX_MESSAGE_BYTES,
            },
            other => TruenasError::Closed {
                endpoint: self.origin.clone(),
                message: other.to_string(),
            },
        }
    }
}

/// Classifies an HTTP answer to the upgrade request: 404-ish statuses and redirects mean the
/// appliance has no `/api/current`; anything else is a failure.
fn handshake_refusal(status: u16, location: Option<&str>, body: Option<&[u8]>) -> OpenError {
    match status {
        300..=399 => OpenError::Unsupported(format!(
            "/api/current redirects (HTTP {status}) to {}",
            location.unwrap_or("another page")
        )),
        // A page instead of an upgrade (a web UI's catch-all) is "not here" as much as a 404.
        200..=299 | 400 | 404 | 405 | 410 | 426 | 501 => {
            OpenError::Unsupported(format!("/api/current answered HTTP {status}"))
        }
        _ => OpenError::Failed(TruenasError::Http {
            path: "/api/current".into(),
            status,
            message: body
                .map(|b| truncate(String::from_utf8_lossy(b).trim()))
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| "WebSocket upgrade refused".into()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_refusals() {
        assert!(matches!(
            handshake_refusal(404, None, None),
            OpenError::Unsupported(m) if m.contains("404")
        ));
        assert!(matches!(
            handshake_refusal(302, Some("/ui/"), None),
            OpenError::Unsupported(m) if m.contains("/ui/")
        ));
        assert!(matches!(
            handshake_refusal(503, None, Some(b"busy")),
            OpenError::Failed(TruenasError::Http { status: 503, message, .. }) if message == "busy"
        ));
    }
}
