//! What can go wrong talking to a Proxmox product, classified so that callers can decide: fail
//! over to another endpoint ([`PlatformError::is_transport`]), retry ([`PlatformError::is_transient`]),
//! or show the operator what to fix (the messages name the endpoint and the remedy, never a secret).

use std::time::Duration;

use crate::error::Error;
use crate::sources::tls::FingerprintMismatch;

/// A failed call to a Proxmox VE, Backup Server or Mail Gateway API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    /// The endpoint settings are unusable (bad URL, malformed token id).
    #[error("invalid endpoint configuration: {0}")]
    Config(String),
    /// 401: the token or password was rejected.
    #[error("authentication error: invalid credentials for {endpoint} (401): check the token id and secret, or the user and password")]
    InvalidCredentials {
        /// Base URL of the endpoint.
        endpoint: String,
    },
    /// 403: authenticated but not allowed.
    #[error("authentication error: permission denied on {path} (403){hint}")]
    PermissionDenied {
        /// API path that was refused.
        path: String,
        /// Extra advice, e.g. about privilege-separated tokens; empty when there is none.
        hint: &'static str,
    },
    /// 595 on a node-specific path: the cluster could not reach that node.
    #[error("node '{node}' is offline or unreachable from the cluster (595)")]
    NodeOffline {
        /// The node named in the path.
        node: String,
    },
    /// 595 elsewhere: PVE could not establish the proxied connection, usually an auth failure.
    #[error("authentication error on {path} (595): {message}")]
    ProxyFailure {
        /// API path.
        path: String,
        /// Status text of the answer.
        message: String,
    },
    /// Any other non-success HTTP status.
    #[error("{path} answered HTTP {status}: {message}")]
    Http {
        /// API path.
        path: String,
        /// HTTP status code.
        status: u16,
        /// The reason or the start of the body (capped).
        message: String,
    },
    /// The endpoint answered something other than JSON (an HTML page, a proxy's error page).
    #[error("{path} answered {what} instead of JSON: check the URL and port of the endpoint")]
    NotJson {
        /// API path.
        path: String,
        /// What arrived, e.g. `"HTML"`.
        what: String,
    },
    /// The JSON did not have the expected shape.
    #[error("{path}: unexpected response: {message}")]
    Decode {
        /// API path.
        path: String,
        /// What was wrong.
        message: String,
    },
    /// The body was larger than the client accepts.
    #[error("{path}: response larger than {limit} bytes")]
    BodyTooLarge {
        /// API path.
        path: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// No complete answer within the timeout.
    #[error("{endpoint}{path}: no answer within {} s", after.as_secs_f64())]
    Timeout {
        /// Base URL.
        endpoint: String,
        /// API path.
        path: String,
        /// The timeout that elapsed.
        after: Duration,
    },
    /// The TCP connection could not be made or broke.
    #[error("cannot connect to {endpoint}: {message}")]
    Connect {
        /// Base URL.
        endpoint: String,
        /// What the network stack said.
        message: String,
    },
    /// The TLS handshake failed for another reason than a pin mismatch.
    #[error("TLS error with {endpoint}: {message}")]
    Tls {
        /// Base URL.
        endpoint: String,
        /// What the TLS stack said.
        message: String,
    },
    /// The certificate does not match the pinned fingerprint.
    #[error("{endpoint}: {mismatch}")]
    FingerprintMismatch {
        /// Base URL.
        endpoint: String,
        /// Both fingerprints.
        mismatch: FingerprintMismatch,
    },
}

impl PlatformError {
    /// Whether the failure is the endpoint's reachability (connect, TLS, timeout), which makes a
    /// cluster client mark it unhealthy and fail over.
    pub fn is_transport(&self) -> bool {
        matches!(
            self,
            PlatformError::Timeout { .. }
                | PlatformError::Connect { .. }
                | PlatformError::Tls { .. }
                | PlatformError::FingerprintMismatch { .. }
        )
    }

    /// Whether the HTTP status is one that usually clears by itself (408, 425, 429, 502, 503, 504).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            PlatformError::Http {
                status: 408 | 425 | 429 | 502 | 503 | 504,
                ..
            }
        )
    }

    /// Whether the credentials were rejected (a ticket client re-logs in once on this).
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, PlatformError::InvalidCredentials { .. })
    }
}

/// Platform failures surface as `service_unavailable` (the remote service is what failed); a bad
/// endpoint configuration is a validation error of the `host`/`tokenName` the operator typed.
impl From<PlatformError> for Error {
    fn from(e: PlatformError) -> Self {
        match e {
            PlatformError::Config(message) => Error::validation("endpoint", message),
            other => Error::Unavailable(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        let timeout = PlatformError::Timeout {
            endpoint: "https://a:8006/api2/json".into(),
            path: "/nodes".into(),
            after: Duration::from_secs(2),
        };
        assert!(timeout.is_transport());
        assert!(timeout.to_string().contains("2 s"));
        let busy = PlatformError::Http {
            path: "/nodes".into(),
            status: 503,
            message: "busy".into(),
        };
        assert!(busy.is_transient() && !busy.is_transport());
        let denied = PlatformError::PermissionDenied {
            path: "/nodes".into(),
            hint: "",
        };
        assert!(!denied.is_transient());
        assert!(matches!(Error::from(denied), Error::Unavailable(_)));
        assert!(matches!(
            Error::from(PlatformError::Config("x".into())),
            Error::Validation { .. }
        ));
    }
}
