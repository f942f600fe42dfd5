//! Email notifications over SMTP with lettre on rustls: STARTTLS (required, not opportunistic),
//! TLS from the first byte, or plain for a trusted relay. One message lists every alert of a
//! notification; its `Message-ID` derives from the event id so a retried message is recognisable.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use pulse_alerts::{NotifyItem, NotifyKind};

use super::channels::{EmailConfig, TlsMode};
use super::queue::{AttemptFailure, FailureClass};
use super::templates::title;

/// Timeout of one SMTP session.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// An SMTP transport for `config`, secured as it asks.
pub fn transport(
    config: &EmailConfig,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, AttemptFailure> {
    let host = config.server.trim_start_matches('[').trim_end_matches(']');
    let tls = match config.tls {
        TlsMode::None => Tls::None,
        TlsMode::Starttls | TlsMode::Tls => {
            let params = TlsParameters::new(host.to_owned()).map_err(|e| {
                AttemptFailure::new(FailureClass::Configuration, format!("TLS setup: {e}"))
            })?;
            if config.tls == TlsMode::Tls {
                Tls::Wrapper(params)
            } else {
                Tls::Required(params)
            }
        }
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(config.port)
        .tls(tls)
        .timeout(Some(SMTP_TIMEOUT));
    if !config.username.is_empty() {
        builder = builder.credentials(Credentials::new(
            config.username.clone(),
            config.password.clone().unwrap_or_default(),
        ));
    }
    Ok(builder.build())
}

/// The message for one notification.
pub fn message(
    config: &EmailConfig,
    kind: NotifyKind,
    items: &[NotifyItem],
    event_id: &str,
    org: &str,
) -> Result<Message, AttemptFailure> {
    let bad = |field: &str, e: String| {
        AttemptFailure::new(FailureClass::Configuration, format!("{field}: {e}"))
    };
    let from: Mailbox = config
        .from
        .parse()
        .map_err(|e: lettre::address::AddressError| bad("from", e.to_string()))?;
    let mut builder = Message::builder()
        .from(from)
        .subject(format!("[Pulse] {}", title(kind, items)))
        .message_id(Some(message_id(event_id)))
        .header(ContentType::TEXT_PLAIN);
    for to in &config.to {
        let to: Mailbox = to
            .parse()
            .map_err(|e: lettre::address::AddressError| bad("to", e.to_string()))?;
        builder = builder.to(to);
    }
    builder
        .body(body(kind, items, event_id, org))
        .map_err(|e| bad("message", e.to_string()))
}

/// `<event-id-with-safe-characters@pulse>`.
fn message_id(event_id: &str) -> String {
    let local: String = event_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '.'
            }
        })
        .collect();
    format!("<{}@pulse.local>", local.trim_matches('.'))
}

/// The plain-text body: one paragraph per alert.
fn body(kind: NotifyKind, items: &[NotifyItem], event_id: &str, org: &str) -> String {
    let mut out = format!("{}\n\n", title(kind, items));
    for item in items {
        let a = &item.alert;
        out.push_str(&format!(
            "- [{}] {} ({}): {}\n  type {}, value {}, threshold {}\n",
            if kind == NotifyKind::Resolved {
                "RESOLVED"
            } else {
                a.level.as_str()
            },
            a.resource_name,
            a.resource_id,
            a.message,
            a.alert_type,
            a.value,
            a.threshold
        ));
    }
    out.push_str(&format!(
        "\nOrganisation: {org}\nEvent: {event_id}\n-- \nPulse\n"
    ));
    out
}

/// Sends one notification to the configured recipients.
pub async fn send(
    config: &EmailConfig,
    kind: NotifyKind,
    items: &[NotifyItem],
    event_id: &str,
    org: &str,
) -> Result<(), AttemptFailure> {
    let message = message(config, kind, items, event_id, org)?;
    let transport = transport(config)?;
    transport
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| classify(&e))
}

/// Classifies an SMTP failure (the text carries no password).
fn classify(e: &lettre::transport::smtp::Error) -> AttemptFailure {
    let code = e.status().map(|c| c.to_string());
    let class = if e.is_tls() {
        FailureClass::Tls
    } else if e.is_timeout() {
        FailureClass::Connectivity
    } else if code
        .as_deref()
        .is_some_and(|c| c == "535" || c == "534" || c == "530")
    {
        FailureClass::Authentication
    } else if e.is_transient() {
        if code.as_deref() == Some("421") || code.as_deref() == Some("450") {
            FailureClass::RateLimited
        } else {
            FailureClass::Connectivity
        }
    } else if e.is_permanent() {
        FailureClass::Rejected
    } else if e.is_client() {
        FailureClass::Configuration
    } else {
        FailureClass::Connectivity
    };
    AttemptFailure::new(class, format!("SMTP: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulse_alerts::Alert;
    use serde_json::json;

    fn config(tls: TlsMode) -> EmailConfig {
        EmailConfig {
            enabled: true,
            server: "smtp.example.com".into(),
            port: 587,
            username: "u".into(),
            password: Some("p".into()),
            from: "Pulse <pulse@example.com>".into(),
            to: vec!["ops@example.com".into(), "b@example.com".into()],
            tls,
        }
    }

    #[test]
    fn transports_build_for_every_tls_mode() {
        for mode in [TlsMode::Starttls, TlsMode::Tls, TlsMode::None] {
            assert!(transport(&config(mode)).is_ok(), "{mode:?}");
        }
    }

    #[test]
    fn message_lists_every_alert() {
        let items: Vec<NotifyItem> = (0..3)
            .map(|n| {
                let alert: Alert = serde_json::from_value(json!({
                    "id": format!("vm-{n}-cpu"), "type": "cpu", "level": "warning",
                    "resourceId": format!("vm-{n}"), "resourceName": format!("web-{n}"),
                    "message": "CPU high", "value": 91.0, "threshold": 80.0,
                    "startTime": "1970-01-01T00:00:01.000Z", "lastSeen": "1970-01-01T00:00:02.000Z", "acknowledged": false, "firing": 1
                }))
                .expect("alert");
                NotifyItem {
                    event_id: alert.event_id("fired-1"),
                    alert,
                }
            })
            .collect();
        let msg = message(
            &config(TlsMode::Starttls),
            NotifyKind::Fired,
            &items,
            "vm-0-cpu:fired-1",
            "default",
        )
        .expect("message");
        let text = String::from_utf8(msg.formatted()).expect("utf8");
        assert!((0..3).all(|n| text.contains(&format!("web-{n}"))), "{text}");
        assert!(
            text.contains("Message-ID: <vm-0-cpu.fired-1@pulse.local>"),
            "{text}"
        );
        assert!(
            text.contains("To: ops@example.com, b@example.com"),
            "{text}"
        );
    }
}
