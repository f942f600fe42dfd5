//! TLS for platform clients: a rustls [`ClientConfig`] per endpoint, in one of three modes.
//!
//! Proxmox and TrueNAS appliances ship self-signed certificates, so besides normal verification
//! against the webpki roots ([`TlsMode::Verified`]) an endpoint may pin the SHA-256 fingerprint of
//! its leaf certificate ([`TlsMode::Pinned`]) or skip verification ([`TlsMode::InsecureSkipVerify`]).
//! In every mode the handshake signatures are still checked with the crypto provider's algorithms,
//! so a peer must hold the private key of the certificate it presents.
//!
//! A pin mismatch fails the handshake and is recorded as a [`FingerprintMismatch`] naming both
//! fingerprints in the configuration's [`PinReport`], where the client picks it up (the HTTP stack
//! flattens the TLS error to text on its way up, so it cannot be recovered from the error itself).
//! [`probe_fingerprint`] reads the fingerprint an endpoint presents (trust on first use, used by
//! "test connection").

use std::error::Error as StdError;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, OtherError, SignatureScheme};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The SHA-256 fingerprint of a DER certificate: 64 lower-case hex digits, no separators.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The fingerprint of a DER-encoded certificate.
    pub fn of_der(der: &[u8]) -> Self {
        Fingerprint(hex::encode(Sha256::digest(der)))
    }

    /// The 64 lower-case hex digits.
    pub fn as_hex(&self) -> &str {
        &self.0
    }
}

impl FromStr for Fingerprint {
    type Err = Error;

    /// Parses hex with optional `:` or space separators, in any case (as browsers and `openssl`
    /// print it).
    fn from_str(s: &str) -> Result<Self> {
        let digits: String = s
            .chars()
            .filter(|c| !matches!(c, ':' | ' ' | '-'))
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if digits.len() == 64 && digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Fingerprint(digits))
        } else {
            Err(Error::validation(
                "fingerprint",
                "expected a SHA-256 fingerprint: 64 hex digits, optionally separated by colons",
            ))
        }
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.0)
    }
}

/// How a client checks the server's certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsMode {
    /// Full verification against the webpki root certificates and the host name.
    Verified,
    /// Accept any certificate (still checking handshake signatures). For lab setups only.
    InsecureSkipVerify,
    /// Accept exactly the leaf certificate with this SHA-256 fingerprint, whoever signed it.
    Pinned(Fingerprint),
}

impl TlsMode {
    /// The mode for an endpoint's settings: a fingerprint pins (whatever `verify_ssl` says, as
    /// upstream does), otherwise `verify_ssl` chooses between verified and insecure.
    pub fn from_settings(verify_ssl: bool, fingerprint: Option<&str>) -> Result<Self> {
        match fingerprint.map(str::trim).filter(|f| !f.is_empty()) {
            Some(fp) => Ok(TlsMode::Pinned(fp.parse()?)),
            None if verify_ssl => Ok(TlsMode::Verified),
            None => Ok(TlsMode::InsecureSkipVerify),
        }
    }
}

/// The handshake failed because the server presented another certificate than the pinned one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FingerprintMismatch {
    /// The configured fingerprint.
    pub expected: Fingerprint,
    /// The fingerprint of the certificate the server presented.
    pub presented: Fingerprint,
}

impl fmt::Display for FingerprintMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TLS certificate fingerprint mismatch: expected {}, server presented {}",
            self.expected, self.presented
        )
    }
}

impl StdError for FingerprintMismatch {}

/// The crypto provider all platform clients use (ring, as the rest of the server).
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Where a pinned configuration records the last fingerprint mismatch it refused; cleared by the
/// next handshake that matches.
#[derive(Clone, Debug, Default)]
pub struct PinReport(Arc<Mutex<Option<FingerprintMismatch>>>);

impl PinReport {
    /// The last refused certificate, if the last handshake was refused.
    pub fn last_mismatch(&self) -> Option<FingerprintMismatch> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Records a handshake outcome.
    fn record(&self, mismatch: Option<FingerprintMismatch>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = mismatch;
    }
}

/// A client TLS configuration and the report of its pin checks.
#[derive(Debug)]
pub struct ClientTls {
    /// The rustls configuration (hand it to the HTTP client).
    pub config: ClientConfig,
    /// Pin mismatches seen by this configuration (always empty unless pinned).
    pub pin_report: PinReport,
}

/// Builds the rustls client configuration for `mode`.
pub fn client_config(mode: &TlsMode) -> Result<ClientTls> {
    let provider = provider();
    let pin_report = PinReport::default();
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Internal(format!("TLS protocol versions: {e}")))?;
    let config = match mode {
        TlsMode::Verified => {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        TlsMode::InsecureSkipVerify => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(LeafVerifier::new(provider, Leaf::Any)))
            .with_no_client_auth(),
        TlsMode::Pinned(expected) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(LeafVerifier::new(
                provider,
                Leaf::Pinned(expected.clone(), pin_report.clone()),
            )))
            .with_no_client_auth(),
    };
    Ok(ClientTls { config, pin_report })
}

/// Connects to `url` accepting any certificate and returns the fingerprint of the leaf the server
/// presented (trust on first use). The HTTP answer itself is ignored; only the handshake matters.
pub async fn probe_fingerprint(url: &str, timeout: Duration) -> Result<Fingerprint> {
    let seen = Arc::new(Mutex::new(None));
    let verifier = LeafVerifier::new(provider(), Leaf::Capture(Arc::clone(&seen)));
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Internal(format!("TLS protocol versions: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    let client = reqwest::Client::builder()
        .use_preconfigured_tls(config)
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| Error::Internal(format!("HTTP client: {e}")))?;
    let outcome = client.get(url).send().await;
    let captured = seen.lock().unwrap_or_else(PoisonError::into_inner).take();
    match (captured, outcome) {
        (Some(fp), _) => Ok(fp),
        (None, Err(e)) => Err(Error::Unavailable(format!(
            "could not read the certificate of {url}: {}",
            error_chain(&e)
        ))),
        (None, Ok(_)) => Err(Error::Unavailable(format!(
            "{url} did not present a TLS certificate (plain HTTP?)"
        ))),
    }
}

/// An error and its sources on one line, for messages.
pub fn error_chain(err: &(dyn StdError + 'static)) -> String {
    let mut text = err.to_string();
    let mut current = err.source();
    while let Some(e) = current {
        let part = e.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        current = e.source();
    }
    text
}

/// What a [`LeafVerifier`] accepts as the leaf certificate.
#[derive(Debug)]
enum Leaf {
    /// Anything.
    Any,
    /// Only this fingerprint; refusals are recorded in the report.
    Pinned(Fingerprint, PinReport),
    /// Anything, remembering the fingerprint presented.
    Capture(Arc<Mutex<Option<Fingerprint>>>),
}

/// A certificate verifier that judges the leaf by fingerprint (or not at all) and checks the
/// handshake signatures with the provider's algorithms.
#[derive(Debug)]
struct LeafVerifier {
    provider: Arc<CryptoProvider>,
    leaf: Leaf,
}

impl LeafVerifier {
    /// A verifier using `provider`'s signature algorithms.
    fn new(provider: Arc<CryptoProvider>, leaf: Leaf) -> Self {
        LeafVerifier { provider, leaf }
    }
}

impl ServerCertVerifier for LeafVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let presented = Fingerprint::of_der(end_entity.as_ref());
        match &self.leaf {
            Leaf::Any => Ok(ServerCertVerified::assertion()),
            Leaf::Capture(slot) => {
                *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(presented);
                Ok(ServerCertVerified::assertion())
            }
            Leaf::Pinned(expected, report) if *expected == presented => {
                report.record(None);
                Ok(ServerCertVerified::assertion())
            }
            Leaf::Pinned(expected, report) => {
                let mismatch = FingerprintMismatch {
                    expected: expected.clone(),
                    presented,
                };
                report.record(Some(mismatch.clone()));
                Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                    OtherError(Arc::new(mismatch)),
                )))
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_parsing_ignores_separators_and_case() {
        let plain = "ab".repeat(32);
        let colons = vec!["AB"; 32].join(":");
        assert_eq!(
            plain.parse::<Fingerprint>().map(|f| f.to_string()).ok(),
            Some(plain.clone())
        );
        assert_eq!(
            colons.parse::<Fingerprint>().map(|f| f.to_string()).ok(),
            Some(plain)
        );
        assert!("abcd".parse::<Fingerprint>().is_err());
        assert!("zz".repeat(32).parse::<Fingerprint>().is_err());
    }

    #[test]
    fn mode_from_settings() {
        let fp = "01".repeat(32);
        assert!(matches!(
            TlsMode::from_settings(true, Some(&fp)),
            Ok(TlsMode::Pinned(_))
        ));
        assert_eq!(
            TlsMode::from_settings(true, Some("  ")).ok(),
            Some(TlsMode::Verified)
        );
        assert_eq!(
            TlsMode::from_settings(false, None).ok(),
            Some(TlsMode::InsecureSkipVerify)
        );
        assert!(TlsMode::from_settings(false, Some("nope")).is_err());
    }

    #[test]
    fn mismatch_names_both_fingerprints() {
        let mismatch = FingerprintMismatch {
            expected: Fingerprint("aa".repeat(32)),
            presented: Fingerprint("bb".repeat(32)),
        };
        let text = mismatch.to_string();
        assert!(text.contains(&"aa".repeat(32)) && text.contains(&"bb".repeat(32)));
        let report = PinReport::default();
        report.record(Some(mismatch.clone()));
        assert_eq!(report.clone().last_mismatch(), Some(mismatch));
        report.record(None);
        assert_eq!(report.last_mismatch(), None);
    }

    #[test]
    fn configs_build_in_every_mode() {
        for mode in [
            TlsMode::Verified,
            TlsMode::InsecureSkipVerify,
            TlsMode::Pinned(Fingerprint("cc".repeat(32))),
        ] {
            assert!(client_config(&mode).is_ok());
        }
    }
}
