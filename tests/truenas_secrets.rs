//! TrueNAS secrets never reach the logs in clear: everything the process logs at `trace` (with
//! the server's own filter, `log` records of the WebSocket and TLS crates included) while
//! clients log in with API keys and passwords over both transports, succeed and fail, is
//! captured and searched for the secrets. Alone in its binary because it installs the global
//! subscriber.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use common::truenas::{api_key_settings, now, password_settings};
use pulse::config::{LogLevel, Secret};
use pulse::sim::truenas::{TruenasSim, TruenasSimConfig};
use pulse::sources::truenas::{test_connection, TruenasAuth, TruenasClient};

/// A log sink shared with the test.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

#[tokio::test]
async fn secrets_never_reach_the_logs_or_messages() {
    let capture = Capture::default();
    let sink = capture.clone();
    tracing_subscriber::fmt()
        .with_env_filter(pulse::telemetry::log_filter(LogLevel::Trace))
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .try_init()
        .expect("the only subscriber in this binary");

    let scale = TruenasSim::start(TruenasSimConfig::default()).expect("scale");
    let core = TruenasSim::start(TruenasSimConfig::core()).expect("core");
    let mut secrets = Vec::new();
    let mut messages = Vec::new();
    for sim in [&scale, &core] {
        let creds = sim.credentials();
        secrets.push(creds.api_key.clone());
        secrets.push(creds.password.clone());
        secrets.push(
            base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", creds.username, creds.password)),
        );
        let mut no_user = api_key_settings("no-user", sim);
        no_user.auth = TruenasAuth::ApiKey {
            username: None,
            key: Secret::new(creds.api_key.clone()),
        };
        for settings in [
            api_key_settings("key", sim),
            password_settings("password", sim),
            no_user,
        ] {
            messages.push(format!("{settings:?}"));
            let client = TruenasClient::new(settings).expect("client");
            messages.push(format!("{client:?}"));
            let poll = client.poll(now()).await.expect("poll");
            messages.push(format!("{:?}", poll.failures));
            messages.push(serde_json::to_string(&client.status()).expect("status"));
        }
        let wrong_key = "1-wrong-key-that-must-not-appear-anywhere";
        let wrong_password = "wrong-password-that-must-not-appear";
        secrets.push(wrong_key.to_owned());
        secrets.push(wrong_password.to_owned());
        let mut bad_key = api_key_settings("bad-key", sim);
        bad_key.auth = TruenasAuth::ApiKey {
            username: Some(creds.username.clone()),
            key: Secret::new(wrong_key),
        };
        let mut bad_password = password_settings("bad-password", sim);
        bad_password.auth = TruenasAuth::Password {
            username: creds.username.clone(),
            password: Secret::new(wrong_password),
        };
        for settings in [bad_key, bad_password] {
            let err = test_connection(&settings).await.expect_err("rejected");
            assert!(err.is_auth(), "{err}");
            messages.push(err.to_string());
            messages.push(format!("{err:?}"));
            let client = TruenasClient::new(settings).expect("client");
            let err = client.poll(now()).await.expect_err("rejected");
            messages.push(err.to_string());
            messages.push(format!("{:?}", client.status()));
        }
    }
    let logs = capture.text();
    assert!(
        logs.contains("truenas: connected") && logs.contains("truenas: cannot connect"),
        "the capture works: {logs}"
    );
    assert!(
        !logs.contains("Sending frame"),
        "WebSocket frame tracing is capped"
    );
    for secret in &secrets {
        assert!(!logs.contains(secret.as_str()), "a secret reached the logs");
        for message in &messages {
            assert!(
                !message.contains(secret.as_str()),
                "a secret is in {message}"
            );
        }
    }
}
