//! Which deliveries a step of the alert engine causes: every `Notify` event becomes one delivery
//! per enabled channel (escalations only to the channels their level names). Pure.

use std::collections::HashSet;

use pulse_alerts::{AlertEvent, EscalationTarget, NotifyKind};

use super::channels::{EmailConfig, Webhooks};
use super::queue::{Channel, Delivery};

/// The deliveries for the `Notify` events among `events`.
pub fn deliveries(
    org: &str,
    events: &[AlertEvent],
    webhooks: &Webhooks,
    email: &EmailConfig,
    now_ms: i64,
) -> Vec<Delivery> {
    let mut out = Vec::new();
    for event in events {
        let AlertEvent::Notify {
            kind,
            event_id,
            items,
        } = event
        else {
            continue;
        };
        let (to_webhooks, to_email) = targets(*kind, items, events);
        if to_webhooks {
            for hook in webhooks.webhooks.iter().filter(|w| w.enabled) {
                let channel = Channel::Webhook {
                    id: hook.id.clone(),
                };
                if hook.service.one_alert_per_request() {
                    for item in items {
                        out.push(Delivery::new(
                            org,
                            channel.clone(),
                            *kind,
                            item.event_id.clone(),
                            vec![item.clone()],
                            now_ms,
                        ));
                    }
                } else {
                    out.push(Delivery::new(
                        org,
                        channel,
                        *kind,
                        event_id.clone(),
                        items.clone(),
                        now_ms,
                    ));
                }
            }
        }
        if to_email && email.enabled {
            out.push(Delivery::new(
                org,
                Channel::Email,
                *kind,
                event_id.clone(),
                items.clone(),
                now_ms,
            ));
        }
    }
    out
}

/// Whether a message goes to webhooks and to email: everything does, except escalations, which
/// go where the levels reached say.
fn targets(
    kind: NotifyKind,
    items: &[pulse_alerts::NotifyItem],
    events: &[AlertEvent],
) -> (bool, bool) {
    if kind != NotifyKind::Escalated {
        return (true, true);
    }
    let ids: HashSet<&str> = items.iter().map(|i| i.alert.id.as_str()).collect();
    let mut webhook = false;
    let mut email = false;
    for event in events {
        if let AlertEvent::Escalated { alert, notify, .. } = event {
            if ids.contains(alert.id.as_str()) {
                match notify {
                    EscalationTarget::Webhook => webhook = true,
                    EscalationTarget::Email => email = true,
                    EscalationTarget::All => {
                        webhook = true;
                        email = true;
                    }
                    EscalationTarget::Apprise => {}
                }
            }
        }
    }
    (webhook, email)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::channels::Webhook;
    use crate::notify::templates::Service;
    use pulse_alerts::{Alert, NotifyItem};
    use serde_json::json;

    fn item(n: u32) -> NotifyItem {
        let alert: Alert = serde_json::from_value(json!({
            "id": format!("vm-{n}-cpu"), "type": "cpu", "level": "warning",
            "resourceId": format!("vm-{n}"), "resourceName": "x", "message": "m",
            "value": 1.0, "threshold": 1.0, "startTime": "1970-01-01T00:00:01.000Z", "lastSeen": "1970-01-01T00:00:02.000Z",
            "acknowledged": false, "firing": 1
        }))
        .expect("alert");
        NotifyItem {
            event_id: alert.event_id("fired-1"),
            alert,
        }
    }

    fn hook(id: &str, service: Service, enabled: bool) -> Webhook {
        let mut w: Webhook =
            serde_json::from_value(json!({"name": id, "url": "https://e.com/"})).expect("hook");
        w.id = id.into();
        w.service = service;
        w.enabled = enabled;
        w
    }

    #[test]
    fn one_delivery_per_enabled_channel_and_pagerduty_per_alert() {
        let items = vec![item(1), item(2)];
        let events = vec![AlertEvent::Notify {
            kind: NotifyKind::Fired,
            event_id: items[0].event_id.clone(),
            items,
        }];
        let hooks = Webhooks {
            webhooks: vec![
                hook("a", Service::Generic, true),
                hook("b", Service::Slack, false),
                hook("c", Service::Pagerduty, true),
            ],
        };
        let email = EmailConfig {
            enabled: true,
            ..EmailConfig::default()
        };
        let out = deliveries("default", &events, &hooks, &email, 7);
        let ids: Vec<&str> = out.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "vm-1-cpu:fired-1|webhook:a",
                "vm-1-cpu:fired-1|webhook:c",
                "vm-2-cpu:fired-1|webhook:c",
                "vm-1-cpu:fired-1|email",
            ]
        );
        assert_eq!(out[0].items.len(), 2);
        assert!(out.iter().all(|d| d.next_attempt_at == 7));
    }

    #[test]
    fn escalations_go_only_where_their_level_says() {
        let it = item(1);
        let events = vec![
            AlertEvent::Escalated {
                alert: it.alert.clone(),
                level: 1,
                notify: EscalationTarget::Email,
            },
            AlertEvent::Notify {
                kind: NotifyKind::Escalated,
                event_id: "vm-1-cpu:escalated-1-1".into(),
                items: vec![it],
            },
        ];
        let hooks = Webhooks {
            webhooks: vec![hook("a", Service::Generic, true)],
        };
        let email = EmailConfig {
            enabled: true,
            ..EmailConfig::default()
        };
        let out = deliveries("o", &events, &hooks, &email, 0);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].channel, Channel::Email);
    }
}
