//! Helpers shared by the TrueNAS tests: connection settings for a simulator and a wall clock.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pulse::config::Secret;
use pulse::sim::truenas::TruenasSim;
use pulse::sources::tls::TlsMode;
use pulse::sources::truenas::{TruenasAuth, TruenasSettings};
use pulse_model::Timestamp;

/// Settings for `sim` with its API key and username, pinned to its certificate.
pub fn api_key_settings(id: &str, sim: &TruenasSim) -> TruenasSettings {
    let creds = sim.credentials();
    TruenasSettings::new(
        id,
        &sim.host(),
        TruenasAuth::ApiKey {
            username: Some(creds.username.clone()),
            key: Secret::new(creds.api_key.clone()),
        },
        TlsMode::Pinned(sim.fingerprint().parse().expect("fingerprint")),
    )
    .expect("settings")
    .with_timeout(Duration::from_secs(20))
}

/// Settings for `sim` with username and password, certificate not verified.
pub fn password_settings(id: &str, sim: &TruenasSim) -> TruenasSettings {
    let creds = sim.credentials();
    TruenasSettings::new(
        id,
        &sim.url(),
        TruenasAuth::Password {
            username: creds.username.clone(),
            password: Secret::new(creds.password.clone()),
        },
        TlsMode::InsecureSkipVerify,
    )
    .expect("settings")
    .with_timeout(Duration::from_secs(20))
}

/// The wall clock as a model timestamp.
pub fn now() -> Timestamp {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis();
    Timestamp::from_millis(i64::try_from(ms).expect("ms"))
}
