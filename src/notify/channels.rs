//! Notification channels as configured through the API: webhooks and email. Both are kept as
//! sealed documents (webhook URLs, signing secrets and the SMTP password are secrets, SPEC §8) and
//! are write-only where secret: replies carry `hasSigningSecret`/`hasPassword`, never the value.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::templates::Service;
use crate::error::{Error, Result};
use crate::store::Document;

/// Most webhooks per organisation.
pub const MAX_WEBHOOKS: usize = 50;
/// Longest webhook URL.
const MAX_URL: usize = 2048;
/// Most custom headers (and custom fields) per webhook.
const MAX_HEADERS: usize = 32;
/// Longest header name, header value, custom field or mention.
const MAX_TEXT: usize = 1024;
/// Most email recipients.
const MAX_RECIPIENTS: usize = 50;
/// Headers Pulse sets itself; a custom header may not replace them.
const RESERVED_HEADERS: [&str; 6] = [
    "host",
    "content-length",
    "transfer-encoding",
    "x-pulse-event-id",
    "x-pulse-signature",
    "x-pulse-timestamp",
];

/// One webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    /// Stable id (assigned on create).
    #[serde(default)]
    pub id: String,
    /// Display name.
    pub name: String,
    /// Target URL (a secret: it often embeds a token).
    pub url: String,
    /// HTTP method (`POST` or `PUT`; ntfy/gotify/… all take `POST`).
    #[serde(default = "default_method")]
    pub method: String,
    /// Extra request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Deliver to it.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Which service template renders the payload.
    #[serde(default)]
    pub service: Service,
    /// Template fields (pushover `token`/`user`, pagerduty `routing_key`, telegram `chat_id`, …).
    #[serde(default)]
    pub custom_fields: BTreeMap<String, String>,
    /// Text prepended to chat messages (e.g. `@here`, `<@&role>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mention: Option<String>,
    /// HMAC-SHA256 signing secret (write-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_secret: Option<String>,
}

fn default_method() -> String {
    "POST".to_owned()
}

fn default_true() -> bool {
    true
}

impl Webhook {
    /// Checks every field; the error names the field.
    pub fn validate(&self) -> Result<()> {
        let name = self.name.trim();
        if name.is_empty() || name.len() > 128 {
            return Err(Error::validation("name", "must be 1-128 characters"));
        }
        if self.url.is_empty() || self.url.len() > MAX_URL {
            return Err(Error::validation(
                "url",
                format!("must be 1-{MAX_URL} characters"),
            ));
        }
        if !matches!(self.method.as_str(), "POST" | "PUT" | "PATCH") {
            return Err(Error::validation("method", "must be POST, PUT or PATCH"));
        }
        if self.headers.len() > MAX_HEADERS {
            return Err(Error::validation(
                "headers",
                format!("at most {MAX_HEADERS} headers"),
            ));
        }
        for (k, v) in &self.headers {
            let valid_name = !k.is_empty()
                && k.len() <= 128
                && k.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if !valid_name {
                return Err(Error::validation(
                    format!("headers.{k}"),
                    "not a valid HTTP header name",
                ));
            }
            if RESERVED_HEADERS.contains(&k.to_ascii_lowercase().as_str()) {
                return Err(Error::validation(
                    format!("headers.{k}"),
                    "this header is set by Pulse",
                ));
            }
            if v.len() > MAX_TEXT || v.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
                return Err(Error::validation(
                    format!("headers.{k}"),
                    format!("value must be at most {MAX_TEXT} bytes without line breaks"),
                ));
            }
        }
        if self.custom_fields.len() > MAX_HEADERS {
            return Err(Error::validation(
                "customFields",
                format!("at most {MAX_HEADERS} fields"),
            ));
        }
        for (k, v) in &self.custom_fields {
            if k.is_empty() || k.len() > 64 || v.len() > MAX_TEXT {
                return Err(Error::validation(
                    format!("customFields.{k}"),
                    format!("names 1-64 bytes, values at most {MAX_TEXT} bytes"),
                ));
            }
        }
        if self.mention.as_ref().is_some_and(|m| m.len() > 256) {
            return Err(Error::validation("mention", "at most 256 characters"));
        }
        if self
            .signing_secret
            .as_ref()
            .is_some_and(|s| s.is_empty() || s.len() > 512)
        {
            return Err(Error::validation("signingSecret", "must be 1-512 bytes"));
        }
        self.service.check_fields(self)
    }

    /// The API view: everything but the signing secret, which is reported as present or not.
    pub fn public_view(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "url": self.url,
            "method": self.method,
            "headers": self.headers,
            "enabled": self.enabled,
            "service": self.service,
            "customFields": self.custom_fields,
            "mention": self.mention,
            "hasSigningSecret": self.signing_secret.is_some(),
        })
    }
}

/// Every webhook of an organisation (one sealed document).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Webhooks {
    /// The webhooks, in creation order.
    pub webhooks: Vec<Webhook>,
}

impl Document for Webhooks {
    const NAME: &'static str = "notifications-webhooks";
    const VERSION: u32 = 1;
    const SEALED: bool = true;
}

impl Webhooks {
    /// The webhook with this id.
    pub fn get(&self, id: &str) -> Option<&Webhook> {
        self.webhooks.iter().find(|w| w.id == id)
    }
}

/// How an SMTP connection is secured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain connection upgraded with STARTTLS (required; port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption (a relay on a trusted network or loopback).
    None,
}

/// Email notification settings (one sealed document).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailConfig {
    /// Send email notifications.
    #[serde(default)]
    pub enabled: bool,
    /// SMTP server host name or address.
    #[serde(default)]
    pub server: String,
    /// SMTP port.
    #[serde(default = "default_port")]
    pub port: u16,
    /// SMTP user (empty: no authentication).
    #[serde(default)]
    pub username: String,
    /// SMTP password (write-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Sender address.
    #[serde(default)]
    pub from: String,
    /// Recipients.
    #[serde(default)]
    pub to: Vec<String>,
    /// Connection security.
    #[serde(default)]
    pub tls: TlsMode,
}

fn default_port() -> u16 {
    587
}

impl Default for EmailConfig {
    fn default() -> Self {
        EmailConfig {
            enabled: false,
            server: String::new(),
            port: default_port(),
            username: String::new(),
            password: None,
            from: String::new(),
            to: Vec::new(),
            tls: TlsMode::default(),
        }
    }
}

impl Document for EmailConfig {
    const NAME: &'static str = "notifications-email";
    const VERSION: u32 = 1;
    const SEALED: bool = true;
}

impl EmailConfig {
    /// Checks every field; an enabled config must be complete. The error names the field.
    pub fn validate(&self) -> Result<()> {
        if self.server.len() > 253
            || self
                .server
                .bytes()
                .any(|b| !(b.is_ascii_alphanumeric() || b"-.:[]".contains(&b)))
        {
            return Err(Error::validation(
                "server",
                "must be a host name or address (at most 253 characters)",
            ));
        }
        if self.port == 0 {
            return Err(Error::validation("port", "must be 1-65535"));
        }
        if self.username.len() > 256 {
            return Err(Error::validation("username", "at most 256 characters"));
        }
        if self.password.as_ref().is_some_and(|p| p.len() > 1024) {
            return Err(Error::validation("password", "at most 1024 bytes"));
        }
        if self.to.len() > MAX_RECIPIENTS {
            return Err(Error::validation(
                "to",
                format!("at most {MAX_RECIPIENTS} recipients"),
            ));
        }
        if !self.from.is_empty() {
            check_address("from", &self.from)?;
        }
        for (i, to) in self.to.iter().enumerate() {
            check_address(&format!("to[{i}]"), to)?;
        }
        if self.enabled {
            if self.server.is_empty() {
                return Err(Error::validation("server", "required when enabled"));
            }
            if self.from.is_empty() {
                return Err(Error::validation("from", "required when enabled"));
            }
            if self.to.is_empty() {
                return Err(Error::validation(
                    "to",
                    "at least one recipient when enabled",
                ));
            }
        }
        Ok(())
    }

    /// The API view: everything but the password, reported as present or not.
    pub fn public_view(&self) -> Value {
        json!({
            "enabled": self.enabled,
            "server": self.server,
            "port": self.port,
            "username": self.username,
            "from": self.from,
            "to": self.to,
            "tls": self.tls,
            "hasPassword": self.password.is_some(),
        })
    }
}

/// Checks that `value` parses as a mailbox (`a@b.c` or `Name <a@b.c>`).
fn check_address(field: &str, value: &str) -> Result<()> {
    if value.len() > 320 {
        return Err(Error::validation(field, "at most 320 characters"));
    }
    value
        .parse::<lettre::message::Mailbox>()
        .map(|_| ())
        .map_err(|e| Error::validation(field, format!("not an email address: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook() -> Webhook {
        serde_json::from_value(json!({"name": "ops", "url": "https://example.com/h"}))
            .expect("parse")
    }

    #[test]
    fn defaults_and_public_view_hide_the_secret() {
        let mut w = hook();
        assert_eq!((w.method.as_str(), w.enabled), ("POST", true));
        assert_eq!(w.service, Service::Generic);
        w.signing_secret = Some("s3cret".into());
        let view = w.public_view();
        assert_eq!(view["hasSigningSecret"], true);
        assert!(!view.to_string().contains("s3cret"));
        w.validate().expect("valid");
    }

    #[test]
    fn bad_fields_are_named() {
        type Change = Box<dyn Fn(&mut Webhook)>;
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|w| w.name = String::new()), "name"),
            (Box::new(|w| w.method = "GET".into()), "method"),
            (
                Box::new(|w| {
                    w.headers.insert("X-Pulse-Event-ID".into(), "x".into());
                }),
                "headers.X-Pulse-Event-ID",
            ),
            (
                Box::new(|w| {
                    w.headers.insert("X-A".into(), "a\r\nb".into());
                }),
                "headers.X-A",
            ),
            (Box::new(|w| w.url = "x".repeat(3000)), "url"),
        ];
        for (change, field) in cases {
            let mut w = hook();
            change(&mut w);
            match w.validate() {
                Err(Error::Validation { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn email_validation() {
        let mut e = EmailConfig {
            enabled: true,
            server: "smtp.example.com".into(),
            from: "pulse@example.com".into(),
            to: vec!["ops@example.com".into()],
            password: Some("pw".into()),
            ..EmailConfig::default()
        };
        e.validate().expect("valid");
        assert!(!e.public_view().to_string().contains("\"pw\""));
        e.to = vec!["not an address".into()];
        assert!(matches!(e.validate(), Err(Error::Validation { field, .. }) if field == "to[0]"));
        e.to.clear();
        assert!(matches!(e.validate(), Err(Error::Validation { field, .. }) if field == "to"));
        let parsed: EmailConfig =
            serde_json::from_value(json!({"tls": "none", "port": 25})).expect("parse");
        assert_eq!(parsed.tls, TlsMode::None);
    }
}
