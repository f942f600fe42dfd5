//! The reducer's inputs.

use pulse_model::Resource;
use serde::{Deserialize, Serialize};

/// Something that happened and may change the alerts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Signal {
    /// A resource as it now is in the registry; every rule about it is evaluated. Send one per
    /// poll or report of the resource (offline recovery counts observations).
    Observed {
        /// The resource.
        resource: Box<Resource>,
    },
    /// A resource left the registry: its firing alerts resolve and its state is forgotten.
    Removed {
        /// The resource id.
        id: String,
    },
    /// Time passed: time delays and clear delays elapse, escalations fall due, held
    /// notifications are re-checked and the grouping window flushes. Send about once a second.
    Tick,
    /// A user acknowledged an alert (stops its escalation).
    Acknowledge {
        /// The alert id.
        alert_id: String,
        /// Who acknowledged it.
        user: String,
    },
    /// A user withdrew an acknowledgement.
    Unacknowledge {
        /// The alert id.
        alert_id: String,
    },
    /// A user cleared an alert by hand. It leaves the active list without a resolve
    /// notification and stays quiet until its condition has gone away once.
    Clear {
        /// The alert id.
        alert_id: String,
    },
    /// The full current list of a resource's platform-native alerts (TrueNAS `alert.list`);
    /// replaces the previous list.
    NativeAlerts {
        /// The resource the alerts belong to (the TrueNAS system).
        resource_id: String,
        /// The alerts.
        alerts: Vec<NativeAlert>,
    },
    /// The notifier durably accepted the notification `<alertId>:<event>` (one signal per item
    /// of a group). Until then the engine re-emits it after a restart.
    Delivered {
        /// The alert id.
        alert_id: String,
        /// The event token, e.g. `fired-1732269600000` (the part after `:` in the event id).
        event: String,
    },
    /// The engine restarted from persisted state: notifications emitted but never confirmed by
    /// [`Signal::Delivered`] are emitted again, one per item, with their original event ids.
    Restarted,
}

/// One platform-native alert (TrueNAS `alert.list` item).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NativeAlert {
    /// The platform's alert id (stable while the alert exists).
    pub id: String,
    /// The platform's level: `CRITICAL`/`ERROR`/`ALERT` → critical, `WARNING`/`WARN` → warning;
    /// `INFO`, `NOTICE` and anything else are not alerts here.
    pub level: String,
    /// The platform's text (`formatted`).
    pub message: String,
    /// The platform's alert source (e.g. `VolumeStatus`).
    #[serde(default)]
    pub source: String,
    /// Dismissed by a user on the platform (then not an alert here).
    #[serde(default)]
    pub dismissed: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wire_shape() {
        let signal = Signal::Acknowledge {
            alert_id: "vm-1-cpu".into(),
            user: "alice".into(),
        };
        assert_eq!(
            serde_json::to_value(&signal).expect("json"),
            json!({"type": "acknowledge", "alertId": "vm-1-cpu", "user": "alice"})
        );
        let parsed: Signal = serde_json::from_value(json!({
            "type": "nativeAlerts", "resourceId": "agent-1",
            "alerts": [{"id": "a", "level": "WARNING", "message": "m"}]
        }))
        .expect("parse");
        assert_eq!(
            parsed,
            Signal::NativeAlerts {
                resource_id: "agent-1".into(),
                alerts: vec![NativeAlert {
                    id: "a".into(),
                    level: "WARNING".into(),
                    message: "m".into(),
                    source: String::new(),
                    dismissed: false,
                }],
            }
        );
        assert_eq!(
            serde_json::to_value(Signal::Tick).expect("json"),
            json!({"type": "tick"})
        );
    }
}
