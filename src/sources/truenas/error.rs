//! What can go wrong talking to a TrueNAS appliance, classified so that the client can decide
//! what to do (reconnect on [`TruenasError::is_transport`], skip a method the release does not
//! have on [`TruenasError::is_unsupported`], record anything else against that one method) and the
//! operator sees what to fix. Messages name the endpoint, the method and the user, never a
//! secret.

use std::time::Duration;

use crate::error::Error;
use crate::sources::tls::FingerprintMismatch;

/// A failed operation against a TrueNAS appliance.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TruenasError {
    /// The connection settings are unusable (bad host, missing credentials).
    #[error("invalid TrueNAS connection settings: {0}")]
    Config(String),
    /// The endpoint is plain HTTP and credentials would travel in clear.
    #[error("refusing to send TrueNAS credentials over plain HTTP to {endpoint}: use https (useHttps=true)")]
    PlainHttpRefused {
        /// The endpoint as configured.
        endpoint: String,
    },
    /// The appliance rejected the credentials.
    #[error("authentication failed on {endpoint} for {who} ({mechanism}): {detail}")]
    AuthFailed {
        /// `https://host:port`.
        endpoint: String,
        /// `user 'name'`, or `the API key` when no username was given.
        who: String,
        /// `API_KEY_PLAIN`, `PASSWORD_PLAIN`, `login_with_api_key`, `REST bearer` or `REST basic`.
        mechanism: &'static str,
        /// What the appliance answered and what to check.
        detail: String,
    },
    /// The TCP connection could not be made.
    #[error("cannot connect to {endpoint}: {message}")]
    Connect {
        /// `https://host:port`.
        endpoint: String,
        /// What the network stack said.
        message: String,
    },
    /// The TLS handshake failed for another reason than a pin mismatch.
    #[error("TLS error with {endpoint}: {message}")]
    Tls {
        /// `https://host:port`.
        endpoint: String,
        /// What the TLS stack said.
        message: String,
    },
    /// The certificate does not match the pinned fingerprint.
    #[error("{endpoint}: {mismatch}")]
    FingerprintMismatch {
        /// `https://host:port`.
        endpoint: String,
        /// Both fingerprints.
        mismatch: FingerprintMismatch,
    },
    /// An established WebSocket session ended (the appliance restarted, a proxy cut it).
    #[error("connection to {endpoint} closed: {message}")]
    Closed {
        /// `https://host:port`.
        endpoint: String,
        /// Why, as far as known.
        message: String,
    },
    /// No answer within the timeout.
    #[error("{endpoint}: {what} gave no answer within {} s", after.as_secs_f64())]
    Timeout {
        /// `https://host:port`.
        endpoint: String,
        /// The step or method that timed out.
        what: String,
        /// The timeout that elapsed.
        after: Duration,
    },
    /// A REST call answered a non-success status.
    #[error("{path} answered HTTP {status}: {message}")]
    Http {
        /// REST path.
        path: String,
        /// HTTP status.
        status: u16,
        /// The appliance's message or the start of the body.
        message: String,
    },
    /// A JSON-RPC method answered with an error object.
    #[error("{method} failed (JSON-RPC error {code}): {message}")]
    Rpc {
        /// The method.
        method: String,
        /// The JSON-RPC error code.
        code: i64,
        /// The message, with the middleware's reason when it gave one.
        message: String,
    },
    /// The release does not have this method (JSON-RPC -32601, or REST 404).
    #[error("{method} is not available on this appliance")]
    MethodNotFound {
        /// The method or REST path.
        method: String,
    },
    /// The answer did not have the expected shape.
    #[error("{method}: unexpected response: {message}")]
    Decode {
        /// The method or REST path.
        method: String,
        /// What was wrong.
        message: String,
    },
    /// The answer exceeded the size limit.
    #[error("{method}: response larger than {limit} bytes")]
    TooLarge {
        /// The method or REST path.
        method: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// The appliance offers no JSON-RPC endpoint and is too new for the legacy REST API.
    #[error("{endpoint} does not offer the JSON-RPC API at /api/current ({why}) and its version {version} refuses the legacy REST fallback (only SCALE < 25.04 and CORE 13 use REST)")]
    DowngradeRefused {
        /// `https://host:port`.
        endpoint: String,
        /// What the WebSocket handshake answered.
        why: String,
        /// The version `system/info` reported.
        version: String,
    },
    /// Neither API answers: the host and port are probably not a TrueNAS appliance.
    #[error("{endpoint} offers neither the JSON-RPC API at /api/current ({why}) nor the REST API at /api/v2.0: check the host and port")]
    NoApi {
        /// `https://host:port`.
        endpoint: String,
        /// What the WebSocket handshake answered.
        why: String,
    },
    /// A reconnect is not due yet after earlier failures.
    #[error("{endpoint}: waiting {} s before reconnecting (last error: {last_error})", retry_in.as_secs())]
    Backoff {
        /// `https://host:port`.
        endpoint: String,
        /// How long until the next attempt.
        retry_in: Duration,
        /// The failure that started the wait.
        last_error: String,
    },
}

impl TruenasError {
    /// Whether the failure is the connection's (connect, TLS, closed session, handshake timeout):
    /// the session is dropped and re-established.
    pub fn is_transport(&self) -> bool {
        matches!(
            self,
            TruenasError::Connect { .. }
                | TruenasError::Tls { .. }
                | TruenasError::FingerprintMismatch { .. }
                | TruenasError::Closed { .. }
        )
    }

    /// Whether the appliance does not have the method (older or newer release): not a failure.
    pub fn is_unsupported(&self) -> bool {
        matches!(self, TruenasError::MethodNotFound { .. })
    }

    /// Whether the credentials were rejected.
    pub fn is_auth(&self) -> bool {
        matches!(self, TruenasError::AuthFailed { .. })
    }
}

/// Appliance failures surface as `service_unavailable` (the remote service is what failed); bad
/// settings are validation errors of what the operator typed.
impl From<TruenasError> for Error {
    fn from(e: TruenasError) -> Self {
        match e {
            TruenasError::Config(message) => Error::validation("truenas", message),
            TruenasError::PlainHttpRefused { .. } => Error::validation("useHttps", e.to_string()),
            other => Error::Unavailable(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_and_mapping() {
        let closed = TruenasError::Closed {
            endpoint: "https://nas:443".into(),
            message: "reset".into(),
        };
        assert!(closed.is_transport() && !closed.is_unsupported());
        let missing = TruenasError::MethodNotFound {
            method: "app.query".into(),
        };
        assert!(missing.is_unsupported() && !missing.is_transport());
        let auth = TruenasError::AuthFailed {
            endpoint: "https://nas:443".into(),
            who: "user 'pulse'".into(),
            mechanism: "API_KEY_PLAIN",
            detail: "AUTH_ERR".into(),
        };
        assert!(auth.is_auth());
        assert!(auth.to_string().contains("user 'pulse'"));
        assert!(matches!(Error::from(auth), Error::Unavailable(_)));
        assert!(matches!(
            Error::from(TruenasError::PlainHttpRefused {
                endpoint: "http://nas".into()
            }),
            Error::Validation { .. }
        ));
        let backoff = TruenasError::Backoff {
            endpoint: "https://nas:443".into(),
            retry_in: Duration::from_secs(8),
            last_error: "refused".into(),
        };
        assert!(backoff.to_string().contains("8 s"));
    }
}
