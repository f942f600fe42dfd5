//! Delivery: gzip-compressed JSON POSTed to the Pulse server (platforms reference §5.1).

use std::fmt;
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use flate2::write::GzEncoder;
use flate2::Compression;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde::Serialize;

/// Path of the host report endpoint.
pub const HOST_REPORT_PATH: &str = "/api/agents/agent/report";
/// Path of the Docker report endpoint.
pub const DOCKER_REPORT_PATH: &str = "/api/agents/docker/report";
/// Time allowed to establish a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for a whole request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How much of an error reply is kept for the log.
const MAX_ERROR_BODY: u64 = 2048;

/// Why a report was not accepted.
#[derive(Debug)]
pub enum SendError {
    /// No answer: DNS, connect, TLS or timeout failure. Worth backing off.
    Unreachable(String),
    /// The server answered with an error status. 5xx and 429 are worth backing off.
    Rejected {
        /// HTTP status.
        status: u16,
        /// Start of the reply body.
        body: String,
    },
    /// The report could not be serialised or compressed.
    Encode(String),
}

impl SendError {
    /// Whether the failure says the server is down or overloaded, so the agent should back off.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Unreachable(_) => true,
            Self::Rejected { status, .. } => *status >= 500 || *status == 429,
            Self::Encode(_) => false,
        }
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreachable(e) => write!(f, "server unreachable: {e}"),
            Self::Rejected { status, body } if body.is_empty() => {
                write!(f, "server answered HTTP {status}")
            }
            Self::Rejected { status, body } => write!(f, "server answered HTTP {status}: {body}"),
            Self::Encode(e) => write!(f, "cannot encode report: {e}"),
        }
    }
}

impl std::error::Error for SendError {}

/// Serialises `value` to JSON and gzips it.
pub fn gzip_json(value: &impl Serialize) -> Result<Vec<u8>, SendError> {
    let json = serde_json::to_vec(value).map_err(|e| SendError::Encode(e.to_string()))?;
    let mut enc = GzEncoder::new(Vec::with_capacity(json.len() / 4), Compression::default());
    enc.write_all(&json)
        .map_err(|e| SendError::Encode(e.to_string()))?;
    enc.finish().map_err(|e| SendError::Encode(e.to_string()))
}

/// Accepts any server certificate (`--insecure`); signatures are still checked so the
/// handshake itself stays sound.
#[derive(Debug)]
struct AcceptAnyCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn insecure_tls() -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(
        rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider)))
            .with_no_client_auth(),
    )
}

/// Posts reports to one server with one token, reusing connections between reports.
pub struct Sender {
    agent: ureq::Agent,
    base_url: String,
    token: String,
    user_agent: String,
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The token stays out of debug output.
        f.debug_struct("Sender")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Sender {
    /// A sender for `base_url` (no trailing slash); `insecure` disables certificate checks.
    pub fn new(base_url: &str, token: &str, insecure: bool) -> Result<Self, SendError> {
        let mut builder = ureq::AgentBuilder::new()
            .timeout_connect(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .max_idle_connections(2)
            .redirects(0);
        if insecure {
            let tls = insecure_tls().map_err(|e| SendError::Encode(format!("TLS setup: {e}")))?;
            builder = builder.tls_config(Arc::new(tls));
        }
        Ok(Self {
            agent: builder.build(),
            base_url: base_url.to_string(),
            token: token.to_string(),
            user_agent: format!("pulse-agent/{}", crate::VERSION),
        })
    }

    /// POSTs `report` as gzip-compressed JSON to `path` with both auth headers.
    pub fn post(&self, path: &str, report: &impl Serialize) -> Result<(), SendError> {
        let body = gzip_json(report)?;
        let url = format!("{}{path}", self.base_url);
        let result = self
            .agent
            .post(&url)
            .set("X-API-Token", &self.token)
            .set("Authorization", &format!("Bearer {}", self.token))
            .set("User-Agent", &self.user_agent)
            .set("Content-Type", "application/json")
            .set("Content-Encoding", "gzip")
            .send_bytes(&body);
        match result {
            Ok(resp) => {
                // Drain the reply so the connection can be reused.
                let _ = std::io::copy(
                    &mut resp.into_reader().take(64 * 1024),
                    &mut std::io::sink(),
                );
                Ok(())
            }
            Err(ureq::Error::Status(status, resp)) => {
                let mut body = String::new();
                let _ = resp
                    .into_reader()
                    .take(MAX_ERROR_BODY)
                    .read_to_string(&mut body);
                Err(SendError::Rejected {
                    status,
                    body: body.trim().to_string(),
                })
            }
            Err(ureq::Error::Transport(t)) => Err(SendError::Unreachable(t.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;

    #[test]
    fn gzips_json() {
        let gz = gzip_json(&serde_json::json!({"a": [1, 2, 3]})).expect("encode");
        let mut out = String::new();
        GzDecoder::new(&gz[..])
            .read_to_string(&mut out)
            .expect("decode");
        assert_eq!(out, r#"{"a":[1,2,3]}"#);
    }

    #[test]
    fn classifies_failures() {
        assert!(SendError::Unreachable("refused".into()).is_retryable());
        assert!(SendError::Rejected {
            status: 503,
            body: String::new()
        }
        .is_retryable());
        assert!(SendError::Rejected {
            status: 429,
            body: String::new()
        }
        .is_retryable());
        assert!(!SendError::Rejected {
            status: 401,
            body: String::new()
        }
        .is_retryable());
        assert_eq!(
            SendError::Rejected {
                status: 413,
                body: "too big".into()
            }
            .to_string(),
            "server answered HTTP 413: too big"
        );
    }

    #[test]
    fn builds_an_insecure_tls_config() {
        assert!(insecure_tls().is_ok());
        assert!(Sender::new("https://localhost:7655", "t", true).is_ok());
    }
}
