//! What one step produces besides tracker changes: events, queued notifications, resolved
//! alerts.

use std::collections::VecDeque;

use pulse_model::Timestamp;

use crate::alert::{Alert, AlertKey};
use crate::event::AlertEvent;
use crate::rules::AlertConfig;
use crate::state::{Outgoing, OutgoingItem, Token, RECENTLY_RESOLVED_MAX, RECENTLY_RESOLVED_MS};

/// The output side of a step.
pub(crate) struct Effects<'a> {
    /// The configuration in force.
    pub config: &'a AlertConfig,
    /// The step's time.
    pub now: Timestamp,
    /// Events produced so far.
    pub events: Vec<AlertEvent>,
    /// Notifications waiting to go out.
    pub outgoing: &'a mut Outgoing,
    /// Recently resolved alerts.
    pub resolved: &'a mut VecDeque<Alert>,
    /// The step changed something persisted (see [`Effects::touch`]).
    pub changed: bool,
}

impl Effects<'_> {
    /// Records that the step changed something persisted (an entry, a tracker, restart
    /// samples, a queue); the state's generation moves at the end of the step.
    pub fn touch(&mut self) {
        self.changed = true;
    }

    /// Queues the notification `token` about firing `firing` of `key`'s alert (a resolve item
    /// carries the resolved alert).
    pub fn queue(
        &mut self,
        token: Token,
        resource_id: &str,
        key: &AlertKey,
        firing: i64,
        resolved: Option<Box<Alert>>,
    ) {
        let item = OutgoingItem {
            token,
            resource_id: resource_id.to_owned(),
            key: key.clone(),
            firing,
            resolved,
            held: None,
            release: None,
        };
        self.outgoing.push(item, self.now);
        self.touch();
    }

    /// Adds a resolved or cleared alert to the recently-resolved list.
    pub fn remember_resolved(&mut self, alert: Alert) {
        if self.resolved.len() >= RECENTLY_RESOLVED_MAX {
            self.resolved.pop_front();
        }
        self.resolved.push_back(alert);
        self.touch();
    }

    /// Drops recently-resolved alerts older than five minutes.
    pub fn prune_resolved(&mut self) {
        let now = self.now;
        while self.resolved.front().is_some_and(|a| {
            a.resolved_time
                .is_none_or(|t| now.millis_since(t) > RECENTLY_RESOLVED_MS)
        }) {
            self.resolved.pop_front();
            self.changed = true;
        }
    }
}
