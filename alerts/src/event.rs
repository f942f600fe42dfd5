//! The reducer's outputs: alert lifecycle events for history, API and WebSocket, and
//! notification intents for the notifier.

use serde::{Deserialize, Serialize};

use crate::alert::{Alert, AlertLevel};
use crate::rules::EscalationTarget;

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum NotifyKind {
    /// Alerts started firing (or became critical).
    Fired,
    /// Notified alerts resolved.
    Resolved,
    /// Unacknowledged alerts reached an escalation level.
    Escalated,
}

/// Why a notification was held back or dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SuppressReason {
    /// Inside quiet hours and not critical; sent when they end if still relevant.
    QuietHours,
    /// The alert is flapping; sent once it is stable if still firing.
    Flapping,
    /// The alert was notified less than the cooldown ago; sent after it if still firing.
    Cooldown,
    /// The alert reached its hourly notification cap; sent when below it if still firing.
    RateLimit,
    /// Notifications are switched off; dropped.
    NotificationsDisabled,
}

/// One alert in a notification, with its own idempotency id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotifyItem {
    /// `<alertId>:<event>`, e.g. `vm-…-cpu:fired-1732269600000`, `…:resolved-…`,
    /// `…:critical-…` (a notified warning became critical), `…:escalated-<firing>-<level>`.
    /// Stable across retries and restarts.
    pub event_id: String,
    /// The alert as it was when the notification went out.
    pub alert: Alert,
}

/// Something that happened to the alerts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum AlertEvent {
    /// An alert started firing (its time delay elapsed).
    Fired {
        /// The alert.
        alert: Alert,
    },
    /// A firing alert resolved (`resolvedTime` set).
    Resolved {
        /// The alert.
        alert: Alert,
    },
    /// A firing alert changed level.
    LevelChanged {
        /// The alert, with its new level.
        alert: Alert,
        /// The level before.
        previous: AlertLevel,
    },
    /// An alert was acknowledged.
    Acknowledged {
        /// The alert.
        alert: Alert,
    },
    /// An acknowledgement was withdrawn.
    Unacknowledged {
        /// The alert.
        alert: Alert,
    },
    /// An alert was cleared by hand (`resolvedTime` set).
    Cleared {
        /// The alert.
        alert: Alert,
    },
    /// An unacknowledged alert reached an escalation level.
    Escalated {
        /// The alert.
        alert: Alert,
        /// The level reached (1-based).
        level: u32,
        /// Channels that level notifies.
        notify: EscalationTarget,
    },
    /// A notification about an alert was held back (or dropped, for
    /// [`SuppressReason::NotificationsDisabled`]).
    Suppressed {
        /// The alert.
        alert: Alert,
        /// Why.
        reason: SuppressReason,
    },
    /// Notification intent for the notifier: one message listing every item.
    Notify {
        /// What the notification is about.
        kind: NotifyKind,
        /// Id of the whole message: the first item's event id.
        event_id: String,
        /// The alerts, one item each.
        items: Vec<NotifyItem>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wire_shape() {
        let event = AlertEvent::Notify {
            kind: NotifyKind::Resolved,
            event_id: "x-cpu:resolved-1".into(),
            items: Vec::new(),
        };
        assert_eq!(
            serde_json::to_value(&event).expect("json"),
            json!({"type": "notify", "kind": "resolved", "eventId": "x-cpu:resolved-1", "items": []})
        );
        assert_eq!(
            serde_json::to_value(SuppressReason::QuietHours).expect("json"),
            json!("quietHours")
        );
    }
}
