//! Helpers shared by the Proxmox client tests: endpoint settings for the simulators.

use std::time::Duration;

use pulse::sim::pve::SimCredentials;
use pulse::sources::proxmox::{Credentials, EndpointSettings};
use pulse::sources::tls::TlsMode;

/// Settings for a simulator at `url` with its token, pinned to `fingerprint`.
pub fn token_settings(url: &str, creds: &SimCredentials, fingerprint: &str) -> EndpointSettings {
    EndpointSettings::new(
        url,
        Credentials::token(&creds.token_id, creds.token_secret.clone(), None).expect("token"),
        TlsMode::Pinned(fingerprint.parse().expect("fingerprint")),
    )
    .with_timeout(Duration::from_secs(10))
}

/// Settings for a simulator at `url` with user and password, certificate not verified.
pub fn password_settings(url: &str, creds: &SimCredentials) -> EndpointSettings {
    EndpointSettings::new(
        url,
        Credentials::password(&creds.user, creds.password.clone()),
        TlsMode::InsecureSkipVerify,
    )
    .with_timeout(Duration::from_secs(10))
}

/// A loopback URL nothing listens on.
pub fn dead_url() -> String {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("https://127.0.0.1:{port}")
}
