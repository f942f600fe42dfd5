//! Webhook service templates: for each service, the payload that service's API actually accepts
//! (Discord embeds, Slack blocks, Teams MessageCard, Telegram `sendMessage`, Gotify and ntfy
//! messages, Pushover, PagerDuty Events API v2, Mattermost, and Pulse's generic JSON). Pure: the
//! alerts, the webhook and the time go in, a request description comes out.

use pulse_alerts::{Alert, AlertLevel, NotifyItem, NotifyKind};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::channels::Webhook;
use crate::error::{Error, Result};

/// Discord embed colours (upstream): critical red, warning orange, resolved green.
const DISCORD_CRITICAL: u32 = 15_158_332;
/// Warning colour.
const DISCORD_WARNING: u32 = 15_105_570;
/// Resolved colour.
const DISCORD_RESOLVED: u32 = 3_066_993;
/// Discord allows at most 10 embeds per message.
const DISCORD_MAX_EMBEDS: usize = 10;
/// Longest chat message text we build (Telegram's limit is 4096, Discord's description 4096).
const CHAT_TEXT_MAX: usize = 4000;

/// A webhook service template.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    /// Discord incoming webhook.
    Discord,
    /// Slack incoming webhook.
    Slack,
    /// Microsoft Teams incoming webhook (MessageCard).
    Teams,
    /// Telegram Bot API `sendMessage`.
    Telegram,
    /// Gotify `POST /message`.
    Gotify,
    /// ntfy topic.
    Ntfy,
    /// Pushover messages API.
    Pushover,
    /// PagerDuty Events API v2.
    Pagerduty,
    /// Mattermost incoming webhook.
    Mattermost,
    /// Pulse's own JSON shape.
    #[default]
    Generic,
}

/// Template metadata served by `GET /api/notifications/webhook-templates`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateInfo {
    /// The service.
    pub service: Service,
    /// Display name.
    pub label: &'static str,
    /// What it sends.
    pub description: &'static str,
    /// Shape of the URL to paste.
    pub url_pattern: &'static str,
    /// HTTP method.
    pub method: &'static str,
    /// Headers the template sets.
    pub headers: Value,
    /// How to set it up.
    pub instructions: &'static str,
}

impl Service {
    /// Every service, in display order.
    pub const ALL: [Service; 10] = [
        Service::Discord,
        Service::Slack,
        Service::Teams,
        Service::Telegram,
        Service::Gotify,
        Service::Ntfy,
        Service::Pushover,
        Service::Pagerduty,
        Service::Mattermost,
        Service::Generic,
    ];

    /// Whether each alert must go in a request of its own (PagerDuty takes one event per call).
    pub const fn one_alert_per_request(self) -> bool {
        matches!(self, Service::Pagerduty)
    }

    /// The template's metadata.
    pub fn info(self) -> TemplateInfo {
        let json_headers = json!({"Content-Type": "application/json"});
        let (label, description, url_pattern, instructions) = match self {
            Service::Discord => ("Discord", "Embeds coloured by level, one per alert",
                "https://discord.com/api/webhooks/{id}/{token}",
                "Server settings → Integrations → Webhooks → New Webhook → Copy Webhook URL. Optional: a mention such as @here or <@&roleId>."),
            Service::Slack => ("Slack", "Block Kit message, one section per alert",
                "https://hooks.slack.com/services/T000/B000/XXXX",
                "Create a Slack app, enable Incoming Webhooks, add one to a channel and copy its URL."),
            Service::Teams => ("Microsoft Teams", "MessageCard with one section per alert",
                "https://{tenant}.webhook.office.com/webhookb2/...",
                "Channel → Connectors (or Workflows) → Incoming Webhook → copy the URL."),
            Service::Telegram => ("Telegram", "Bot message to a chat",
                "https://api.telegram.org/bot{token}/sendMessage?chat_id={chatId}",
                "Create a bot with @BotFather, add it to the chat, and put the chat id in the URL (chat_id=) or in customFields.chat_id."),
            Service::Gotify => ("Gotify", "Message with priority 10 (critical), 5 (warning), 2 (resolved)",
                "https://gotify.example.com/message?token={appToken}",
                "Create an application in Gotify and use its token in the URL."),
            Service::Ntfy => ("ntfy", "Plain-text message with Title, Priority and Tags headers",
                "https://ntfy.sh/{topic}",
                "Pick a topic; for protected topics add an Authorization header."),
            Service::Pushover => ("Pushover", "Message with priority 1 (critical) or 0",
                "https://api.pushover.net/1/messages.json",
                "Set customFields.token (application token) and customFields.user (user or group key); optional sound, device."),
            Service::Pagerduty => ("PagerDuty", "Events API v2 trigger/resolve, one event per alert, deduplicated by alert id",
                "https://events.pagerduty.com/v2/enqueue",
                "Add an Events API v2 integration to a service and set customFields.routing_key to its integration key."),
            Service::Mattermost => ("Mattermost", "Markdown message",
                "https://mattermost.example.com/hooks/{key}",
                "Integrations → Incoming Webhooks → Add, then copy the URL."),
            Service::Generic => ("Generic JSON", "Pulse's JSON: event, alerts[], alert (first), alertCount, timestamp, source",
                "https://receiver.example.com/pulse",
                "Any HTTPS endpoint; add custom headers and a signing secret to verify X-Pulse-Signature."),
        };
        let headers = match self {
            Service::Ntfy => {
                json!({"Content-Type": "text/plain; charset=utf-8", "Title": "…", "Priority": "…", "Tags": "…"})
            }
            _ => json_headers,
        };
        TemplateInfo {
            service: self,
            label,
            description,
            url_pattern,
            method: "POST",
            headers,
            instructions,
        }
    }

    /// Checks the custom fields the service needs.
    pub fn check_fields(self, hook: &Webhook) -> Result<()> {
        let need = |key: &str| -> Result<()> {
            match hook.custom_fields.get(key) {
                Some(v) if !v.trim().is_empty() => Ok(()),
                _ => Err(Error::validation(
                    format!("customFields.{key}"),
                    format!("required by the {} template", self.info().label),
                )),
            }
        };
        match self {
            Service::Pushover => {
                need("token")?;
                need("user")
            }
            Service::Pagerduty => need("routing_key"),
            Service::Telegram if !hook.url.contains("chat_id=") => need("chat_id"),
            _ => Ok(()),
        }
    }
}

/// A request ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// Target URL.
    pub url: String,
    /// HTTP method.
    pub method: String,
    /// Headers (template headers first, then the webhook's custom ones).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// Renders one message about `items` for `hook`. `now_ms` is the send time; `org` is the tenant.
pub fn render(
    hook: &Webhook,
    kind: NotifyKind,
    items: &[NotifyItem],
    org: &str,
    now_ms: i64,
) -> Rendered {
    let mut content_type = "application/json";
    let mut extra: Vec<(String, String)> = Vec::new();
    let url = hook.url.clone();
    let body: Vec<u8> = match hook.service {
        Service::Discord => discord(hook, kind, items, now_ms).to_string().into_bytes(),
        Service::Slack => slack(kind, items).to_string().into_bytes(),
        Service::Teams => teams(kind, items).to_string().into_bytes(),
        Service::Telegram => telegram(hook, kind, items).to_string().into_bytes(),
        Service::Gotify => gotify(kind, items).to_string().into_bytes(),
        Service::Ntfy => {
            content_type = "text/plain; charset=utf-8";
            extra.push(("Title".into(), ascii_header(&title(kind, items))));
            extra.push(("Priority".into(), ntfy_priority(kind, items).into()));
            extra.push(("Tags".into(), ntfy_tags(kind, items).into()));
            lines(hook, kind, items, now_ms).into_bytes()
        }
        Service::Pushover => pushover(hook, kind, items, now_ms).to_string().into_bytes(),
        Service::Pagerduty => pagerduty(hook, kind, items, now_ms)
            .to_string()
            .into_bytes(),
        Service::Mattermost => json!({
            "username": "Pulse",
            "text": format!("#### {}\n{}", title(kind, items), lines(hook, kind, items, now_ms)),
        })
        .to_string()
        .into_bytes(),
        Service::Generic => generic(kind, items, org, now_ms).to_string().into_bytes(),
    };
    let mut headers = vec![("Content-Type".to_owned(), content_type.to_owned())];
    headers.extend(extra);
    for (k, v) in &hook.headers {
        headers.retain(|(name, _)| !name.eq_ignore_ascii_case(k));
        headers.push((k.clone(), v.clone()));
    }
    Rendered {
        url,
        method: hook.method.clone(),
        headers,
        body,
    }
}

/// The event word of a message kind (`alert`, `resolved`, `escalated`).
pub fn event_word(kind: NotifyKind) -> &'static str {
    match kind {
        NotifyKind::Fired => "alert",
        NotifyKind::Resolved => "resolved",
        NotifyKind::Escalated => "escalated",
    }
}

/// The highest level among the items.
fn top_level(items: &[NotifyItem]) -> AlertLevel {
    items
        .iter()
        .map(|i| i.alert.level)
        .max()
        .unwrap_or(AlertLevel::Warning)
}

/// A one-line title for the message.
pub fn title(kind: NotifyKind, items: &[NotifyItem]) -> String {
    let n = items.len();
    match (kind, items.first()) {
        (_, None) => "Pulse notification".to_owned(),
        (NotifyKind::Resolved, Some(i)) if n == 1 => {
            format!(
                "Resolved: {} on {}",
                i.alert.alert_type, i.alert.resource_name
            )
        }
        (NotifyKind::Resolved, _) => format!("Resolved: {n} alerts"),
        (NotifyKind::Escalated, Some(i)) if n == 1 => format!(
            "Escalated {}: {} on {}",
            i.alert.level.as_str().to_uppercase(),
            i.alert.alert_type,
            i.alert.resource_name
        ),
        (NotifyKind::Escalated, _) => format!("Escalated: {n} alerts"),
        (NotifyKind::Fired, Some(i)) if n == 1 => format!(
            "{}: {} on {}",
            i.alert.level.as_str().to_uppercase(),
            i.alert.alert_type,
            i.alert.resource_name
        ),
        (NotifyKind::Fired, _) => {
            format!("{}: {n} alerts", top_level(items).as_str().to_uppercase())
        }
    }
}

/// `value unit` of an alert, e.g. `92.5%`.
fn value_text(alert: &Alert) -> String {
    let unit = alert.metadata.unit.as_deref().unwrap_or("");
    if alert.threshold == 0.0 && alert.value == 0.0 {
        return String::new();
    }
    format!(
        "{}{unit} (threshold {}{unit})",
        round1(alert.value),
        round1(alert.threshold)
    )
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// How long an alert has been active, e.g. `5m 3s`.
fn duration_text(alert: &Alert, now_ms: i64) -> String {
    let end = alert.resolved_time.map(|t| t.as_millis()).unwrap_or(now_ms);
    let secs = (end - alert.start_time.as_millis()).max(0) / 1000;
    match secs {
        s if s >= 3600 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        s if s >= 60 => format!("{}m {}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

/// One line per alert, with the mention first; capped for chat services.
fn lines(hook: &Webhook, kind: NotifyKind, items: &[NotifyItem], now_ms: i64) -> String {
    let mut out = String::new();
    if let Some(m) = hook.mention.as_deref().filter(|m| !m.is_empty()) {
        out.push_str(m);
        out.push('\n');
    }
    for item in items {
        out.push_str(&item_line(kind, &item.alert, now_ms));
        out.push('\n');
    }
    cap(out.trim_end().to_owned(), CHAT_TEXT_MAX)
}

/// One alert as a line of text.
fn item_line(kind: NotifyKind, alert: &Alert, now_ms: i64) -> String {
    let state = match kind {
        NotifyKind::Resolved => "RESOLVED".to_owned(),
        _ => alert.level.as_str().to_uppercase(),
    };
    let mut line = format!("[{state}] {}: {}", alert.resource_name, alert.message);
    let value = value_text(alert);
    if !value.is_empty() && kind != NotifyKind::Resolved {
        line.push_str(&format!(" — {value}"));
    }
    if let Some(node) = &alert.node {
        line.push_str(&format!(" (node {node})"));
    }
    line.push_str(&format!(", for {}", duration_text(alert, now_ms)));
    line
}

fn cap(text: String, max: usize) -> String {
    if text.len() <= max {
        text
    } else {
        super::queue::truncate(&text, max)
    }
}

/// An HTTP header value (ASCII, no controls).
fn ascii_header(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '?'
            }
        })
        .take(250)
        .collect()
}

fn iso(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn discord_colour(kind: NotifyKind, level: AlertLevel) -> u32 {
    match (kind, level) {
        (NotifyKind::Resolved, _) => DISCORD_RESOLVED,
        (_, AlertLevel::Critical) => DISCORD_CRITICAL,
        (_, AlertLevel::Warning) => DISCORD_WARNING,
    }
}

fn discord(hook: &Webhook, kind: NotifyKind, items: &[NotifyItem], now_ms: i64) -> Value {
    let embeds: Vec<Value> = if items.len() <= DISCORD_MAX_EMBEDS {
        items
            .iter()
            .map(|i| {
                let a = &i.alert;
                let mut fields = vec![
                    json!({"name": "Resource", "value": a.resource_name, "inline": true}),
                    json!({"name": "Type", "value": a.alert_type, "inline": true}),
                ];
                let value = value_text(a);
                if !value.is_empty() {
                    fields.push(json!({"name": "Value", "value": value, "inline": true}));
                }
                if let Some(node) = &a.node {
                    fields.push(json!({"name": "Node", "value": node, "inline": true}));
                }
                fields.push(
                    json!({"name": "Duration", "value": duration_text(a, now_ms), "inline": true}),
                );
                json!({
                    "title": title(kind, std::slice::from_ref(i)),
                    "description": cap(a.message.clone(), 2000),
                    "color": discord_colour(kind, a.level),
                    "fields": fields,
                    "timestamp": iso(now_ms),
                    "footer": {"text": "Pulse"},
                })
            })
            .collect()
    } else {
        let mut description = String::new();
        for i in items {
            description.push_str(&item_line(kind, &i.alert, now_ms));
            description.push('\n');
        }
        vec![json!({
            "title": title(kind, items),
            "description": cap(description, CHAT_TEXT_MAX),
            "color": discord_colour(kind, top_level(items)),
            "timestamp": iso(now_ms),
            "footer": {"text": "Pulse"},
        })]
    };
    let mut body = json!({"username": "Pulse", "embeds": embeds});
    if let Some(m) = hook.mention.as_deref().filter(|m| !m.is_empty()) {
        body["content"] = Value::from(m);
    }
    body
}

fn slack(kind: NotifyKind, items: &[NotifyItem]) -> Value {
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": cap(title(kind, items), 150)},
    })];
    // Slack allows 50 blocks per message.
    for i in items.iter().take(48) {
        let a = &i.alert;
        let mut text = format!("*{}* — {}", a.resource_name, a.message);
        let value = value_text(a);
        if !value.is_empty() && kind != NotifyKind::Resolved {
            text.push_str(&format!("\n{value}"));
        }
        blocks
            .push(json!({"type": "section", "text": {"type": "mrkdwn", "text": cap(text, 3000)}}));
    }
    if items.len() > 48 {
        let rest: Vec<String> = items[48..]
            .iter()
            .map(|i| format!("• {} — {}", i.alert.resource_name, i.alert.message))
            .collect();
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": cap(rest.join("\n"), 3000)}}));
    }
    json!({"text": title(kind, items), "blocks": blocks})
}

fn teams(kind: NotifyKind, items: &[NotifyItem]) -> Value {
    let colour = match (kind, top_level(items)) {
        (NotifyKind::Resolved, _) => "2ECC71",
        (_, AlertLevel::Critical) => "E74C3C",
        (_, AlertLevel::Warning) => "E67E22",
    };
    let sections: Vec<Value> = items
        .iter()
        .map(|i| {
            let a = &i.alert;
            let mut facts = vec![
                json!({"name": "Resource", "value": a.resource_name}),
                json!({"name": "Type", "value": a.alert_type}),
                json!({"name": "Level", "value": a.level.as_str()}),
            ];
            let value = value_text(a);
            if !value.is_empty() {
                facts.push(json!({"name": "Value", "value": value}));
            }
            json!({"activityTitle": a.message, "facts": facts})
        })
        .collect();
    json!({
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "themeColor": colour,
        "summary": title(kind, items),
        "title": title(kind, items),
        "sections": sections,
    })
}

fn telegram(hook: &Webhook, kind: NotifyKind, items: &[NotifyItem]) -> Value {
    let text = format!("{}\n{}", title(kind, items), lines(hook, kind, items, 0));
    let mut body = json!({
        "text": cap(text, CHAT_TEXT_MAX),
        "disable_web_page_preview": true,
    });
    if let Some(chat) = hook.custom_fields.get("chat_id") {
        body["chat_id"] = Value::from(chat.as_str());
    } else if let Some(chat) = query_param(&hook.url, "chat_id") {
        body["chat_id"] = Value::from(chat);
    }
    body
}

/// The value of query parameter `key` in `url`.
fn query_param(url: &str, key: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| v.to_owned())
    })
}

fn gotify(kind: NotifyKind, items: &[NotifyItem]) -> Value {
    let priority = match (kind, top_level(items)) {
        (NotifyKind::Resolved, _) => 2,
        (_, AlertLevel::Critical) => 10,
        (_, AlertLevel::Warning) => 5,
    };
    let text: Vec<String> = items
        .iter()
        .map(|i| format!("- **{}**: {}", i.alert.resource_name, i.alert.message))
        .collect();
    json!({
        "title": title(kind, items),
        "message": cap(text.join("\n"), 60_000),
        "priority": priority,
        "extras": {"client::display": {"contentType": "text/markdown"}},
    })
}

fn ntfy_priority(kind: NotifyKind, items: &[NotifyItem]) -> &'static str {
    match (kind, top_level(items)) {
        (NotifyKind::Resolved, _) => "default",
        (_, AlertLevel::Critical) => "urgent",
        (_, AlertLevel::Warning) => "high",
    }
}

fn ntfy_tags(kind: NotifyKind, items: &[NotifyItem]) -> &'static str {
    match (kind, top_level(items)) {
        (NotifyKind::Resolved, _) => "white_check_mark",
        (_, AlertLevel::Critical) => "rotating_light",
        (_, AlertLevel::Warning) => "warning",
    }
}

fn pushover(hook: &Webhook, kind: NotifyKind, items: &[NotifyItem], now_ms: i64) -> Value {
    let priority = match (kind, top_level(items)) {
        (NotifyKind::Resolved, _) => 0,
        (_, AlertLevel::Critical) => 1,
        (_, AlertLevel::Warning) => 0,
    };
    let field = |k: &str| hook.custom_fields.get(k).cloned().unwrap_or_default();
    let mut body = json!({
        "token": field("token"),
        "user": field("user"),
        "title": cap(title(kind, items), 250),
        "message": cap(lines(hook, kind, items, now_ms), 1024),
        "priority": priority,
        "timestamp": now_ms / 1000,
    });
    for optional in ["sound", "device"] {
        if let Some(v) = hook.custom_fields.get(optional).filter(|v| !v.is_empty()) {
            body[optional] = Value::from(v.as_str());
        }
    }
    body
}

fn pagerduty(hook: &Webhook, kind: NotifyKind, items: &[NotifyItem], now_ms: i64) -> Value {
    // Rendered per alert (see `one_alert_per_request`); a group renders its first alert.
    let Some(item) = items.first() else {
        return json!({});
    };
    let a = &item.alert;
    let action = if kind == NotifyKind::Resolved {
        "resolve"
    } else {
        "trigger"
    };
    json!({
        "routing_key": hook.custom_fields.get("routing_key").cloned().unwrap_or_default(),
        "event_action": action,
        "dedup_key": a.id,
        "payload": {
            "summary": cap(format!("{}: {}", a.resource_name, a.message), 1000),
            "source": a.resource_name,
            "severity": a.level.as_str(),
            "timestamp": iso(now_ms),
            "component": a.resource_id,
            "class": a.alert_type,
            "custom_details": {
                "value": a.value,
                "threshold": a.threshold,
                "node": a.node,
                "startTime": iso(a.start_time.as_millis()),
            },
        },
        "client": "Pulse",
    })
}

/// Pulse's generic payload: every alert, plus `alert` (the first) for receivers written against
/// the single-alert upstream shape.
pub fn generic(kind: NotifyKind, items: &[NotifyItem], org: &str, now_ms: i64) -> Value {
    let alerts: Vec<Value> = items
        .iter()
        .map(|i| {
            let a = &i.alert;
            json!({
                "id": a.id,
                "eventId": i.event_id,
                "level": a.level,
                "type": a.alert_type,
                "resource_id": a.resource_id,
                "resource_name": a.resource_name,
                "node": a.node,
                "message": a.message,
                "value": a.value,
                "threshold": a.threshold,
                "start_time": iso(a.start_time.as_millis()),
                "resolved_time": a.resolved_time.map(|t| iso(t.as_millis())),
                "acknowledged": a.acknowledged,
                "duration": duration_text(a, now_ms),
            })
        })
        .collect();
    json!({
        "event": event_word(kind),
        "alert": alerts.first().cloned().unwrap_or(Value::Null),
        "alerts": alerts,
        "alertCount": items.len(),
        "tenant": org,
        "timestamp": iso(now_ms),
        "source": "pulse-monitoring",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulse_model::Timestamp;

    pub(crate) fn item(n: usize, level: AlertLevel) -> NotifyItem {
        let alert: Alert = serde_json::from_value(json!({
            "id": format!("vm-{n}-cpu"), "type": "cpu", "level": level,
            "resourceId": format!("vm-{n}"), "resourceName": format!("web-{n}"),
            "message": "CPU usage 95% ≥ 80%", "value": 95.0, "threshold": 80.0,
            "startTime": "1970-01-01T00:00:01.000Z", "lastSeen": "1970-01-01T00:00:02.000Z", "acknowledged": false,
            "metadata": {"unit": "%"}, "firing": 1_000
        }))
        .expect("alert");
        NotifyItem {
            event_id: alert.event_id("fired-1000"),
            alert,
        }
    }

    fn hook(service: Service) -> Webhook {
        let mut w: Webhook = serde_json::from_value(json!({
            "name": "h", "url": "https://example.com/h?chat_id=42"
        }))
        .expect("hook");
        w.service = service;
        w.custom_fields.insert("routing_key".into(), "rk".into());
        w.custom_fields.insert("token".into(), "t".into());
        w.custom_fields.insert("user".into(), "u".into());
        w
    }

    fn body(r: &Rendered) -> Value {
        serde_json::from_slice(&r.body).expect("json body")
    }

    #[test]
    fn every_service_renders_n_items() {
        let items: Vec<NotifyItem> = (0..3).map(|n| item(n, AlertLevel::Warning)).collect();
        for service in Service::ALL {
            let r = render(&hook(service), NotifyKind::Fired, &items, "default", 5_000);
            assert!(!r.body.is_empty(), "{service:?}");
            let text = String::from_utf8_lossy(&r.body).into_owned();
            let expected = if service.one_alert_per_request() {
                1
            } else {
                3
            };
            let named = (0..3)
                .filter(|n| text.contains(&format!("web-{n}")))
                .count();
            assert_eq!(named, expected, "{service:?}: {text}");
        }
    }

    #[test]
    fn payload_shapes_match_the_services() {
        let items = vec![item(1, AlertLevel::Critical)];
        let d = body(&render(
            &hook(Service::Discord),
            NotifyKind::Fired,
            &items,
            "o",
            0,
        ));
        assert_eq!(d["embeds"][0]["color"], DISCORD_CRITICAL);
        let r = body(&render(
            &hook(Service::Discord),
            NotifyKind::Resolved,
            &items,
            "o",
            0,
        ));
        assert_eq!(r["embeds"][0]["color"], DISCORD_RESOLVED);
        let t = body(&render(
            &hook(Service::Telegram),
            NotifyKind::Fired,
            &items,
            "o",
            0,
        ));
        assert_eq!(t["chat_id"], "42");
        let p = body(&render(
            &hook(Service::Pagerduty),
            NotifyKind::Resolved,
            &items,
            "o",
            0,
        ));
        assert_eq!(p["event_action"], "resolve");
        assert_eq!(p["dedup_key"], "vm-1-cpu");
        assert_eq!(p["payload"]["severity"], "critical");
        let g = body(&render(
            &hook(Service::Gotify),
            NotifyKind::Fired,
            &items,
            "o",
            0,
        ));
        assert_eq!(g["priority"], 10);
        let m = body(&render(
            &hook(Service::Teams),
            NotifyKind::Fired,
            &items,
            "o",
            0,
        ));
        assert_eq!(m["@type"], "MessageCard");
        let po = body(&render(
            &hook(Service::Pushover),
            NotifyKind::Fired,
            &items,
            "o",
            0,
        ));
        assert_eq!(
            (po["priority"].as_i64(), po["token"].as_str()),
            (Some(1), Some("t"))
        );
        let n = render(&hook(Service::Ntfy), NotifyKind::Fired, &items, "o", 0);
        assert!(n.headers.contains(&("Priority".into(), "urgent".into())));
        assert!(String::from_utf8_lossy(&n.body).contains("web-1"));
        let gen = body(&render(
            &hook(Service::Generic),
            NotifyKind::Resolved,
            &items,
            "o",
            0,
        ));
        assert_eq!(gen["event"], "resolved");
        assert_eq!(gen["alertCount"], 1);
        assert_eq!(gen["alert"]["id"], "vm-1-cpu");
    }

    #[test]
    fn discord_groups_beyond_ten_still_name_every_alert() {
        let items: Vec<NotifyItem> = (0..12).map(|n| item(n, AlertLevel::Warning)).collect();
        let d = body(&render(
            &hook(Service::Discord),
            NotifyKind::Fired,
            &items,
            "o",
            0,
        ));
        let text = d.to_string();
        assert!((0..12).all(|n| text.contains(&format!("web-{n}"))));
        assert_eq!(d["embeds"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn custom_headers_replace_template_ones_and_fields_are_checked() {
        let mut h = hook(Service::Generic);
        h.headers
            .insert("content-type".into(), "application/x-custom".into());
        let r = render(
            &h,
            NotifyKind::Fired,
            &[item(1, AlertLevel::Warning)],
            "o",
            0,
        );
        assert_eq!(
            r.headers,
            vec![("content-type".to_owned(), "application/x-custom".to_owned())]
        );
        let mut p = hook(Service::Pushover);
        p.custom_fields.remove("user");
        assert!(p.validate().is_err());
        let _ = Timestamp::from_millis(0);
    }
}
