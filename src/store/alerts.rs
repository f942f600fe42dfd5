//! The alert engine's persistence: its state per org (`v1/alert_state`), the append-only event
//! history (`v1/alert_history`, keyed by org, time and a store-wide increasing id), and the one
//! commit that makes a step durable: state, history entries and the deliveries it caused
//! (`v1/delivery_queue` + `v1/delivery_due`) in one transaction, flushed before it returns.

use pulse_alerts::{Alert, AlertLevel, AlertState};
use serde::{Deserialize, Serialize};
use sled::transaction::ConflictableTransactionError;
use sled::Transactional;

use super::codec::{decode, encode};
use super::queue::{due_key, queue_key};
use super::sled_store::{unwrap_tx, Store, Tree};
use crate::error::{Error, Result};
use crate::notify::{Delivery, DeliveryStatus};

/// Most history entries one query returns.
pub const HISTORY_LIMIT_MAX: usize = 1000;

/// One entry of the alert history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertHistoryEntry {
    /// What happened: `fired`, `resolved`, `levelChanged`, `acknowledged`, `unacknowledged`,
    /// `cleared`, `escalated`.
    pub event: String,
    /// When (unix ms).
    pub at: i64,
    /// The alert as it was then.
    pub alert: Alert,
    /// For `levelChanged`: the level before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_level: Option<AlertLevel>,
    /// For `escalated`: the level reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation_level: Option<u32>,
}

/// Which history entries to return, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistoryFilter {
    /// At most this many (capped at [`HISTORY_LIMIT_MAX`]).
    pub limit: usize,
    /// Only about this resource.
    pub resource_id: Option<String>,
    /// Only at this level.
    pub level: Option<AlertLevel>,
    /// Only of this alert type.
    pub alert_type: Option<String>,
    /// Only at or after this time (unix ms).
    pub since: Option<i64>,
}

/// Storage of the alert engine's state and history.
pub trait AlertStore: Send + Sync {
    /// The persisted engine state of `org`.
    fn load_alert_state(&self, org: &str) -> Result<Option<AlertState>>;
    /// Makes one engine step durable: the state (when given), the history entries and the new
    /// deliveries (ones already queued under the same id are left alone), in one transaction,
    /// flushed. Returns the ids of the deliveries that were new.
    fn commit_alert_step(
        &self,
        org: &str,
        state: Option<&AlertState>,
        history: &[AlertHistoryEntry],
        deliveries: &[Delivery],
    ) -> Result<Vec<String>>;
    /// History entries matching `filter`, newest first.
    fn alert_history(&self, org: &str, filter: &HistoryFilter) -> Result<Vec<AlertHistoryEntry>>;
    /// Removes entries older than `before_ms`, and the oldest beyond `keep_max`; returns how many.
    fn prune_alert_history(&self, org: &str, before_ms: i64, keep_max: usize) -> Result<usize>;
}

/// `org \0`: the prefix of one org's keys.
pub(crate) fn org_prefix(org: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(org.len() + 1);
    key.extend_from_slice(org.as_bytes());
    key.push(0);
    key
}

/// `org \0 time(be) id(be)`.
fn history_key(org: &str, at: i64, id: u64) -> Vec<u8> {
    let mut key = org_prefix(org);
    key.extend_from_slice(&(at.max(0) as u64).to_be_bytes());
    key.extend_from_slice(&id.to_be_bytes());
    key
}

impl AlertStore for Store {
    fn load_alert_state(&self, org: &str) -> Result<Option<AlertState>> {
        self.tree(Tree::AlertState)
            .get(org.as_bytes())?
            .map(|v| decode(&v))
            .transpose()
    }

    fn commit_alert_step(
        &self,
        org: &str,
        state: Option<&AlertState>,
        history: &[AlertHistoryEntry],
        deliveries: &[Delivery],
    ) -> Result<Vec<String>> {
        let state = state.map(encode).transpose()?;
        let mut entries = Vec::with_capacity(history.len());
        for entry in history {
            entries.push((
                history_key(org, entry.at, self.generate_id()?),
                encode(entry)?,
            ));
        }
        let mut queued = Vec::with_capacity(deliveries.len());
        for d in deliveries {
            if d.status != DeliveryStatus::Pending {
                return Err(Error::Internal("only pending deliveries are queued".into()));
            }
            queued.push((
                queue_key(org, &d.id),
                due_key(org, d.next_attempt_at, &d.id),
                encode(d)?,
                d.id.clone(),
            ));
        }
        let trees = (
            self.tree(Tree::AlertState),
            self.tree(Tree::AlertHistory),
            self.tree(Tree::DeliveryQueue),
            self.tree(Tree::DeliveryDue),
        );
        let fresh = trees
            .transaction(|(state_tree, history_tree, queue, due)| {
                if let Some(state) = &state {
                    state_tree.insert(org.as_bytes(), state.as_slice())?;
                }
                for (key, value) in &entries {
                    history_tree.insert(key.as_slice(), value.as_slice())?;
                }
                let mut fresh = Vec::new();
                for (key, due_key, value, id) in &queued {
                    if queue.get(key.as_slice())?.is_some() {
                        continue;
                    }
                    queue.insert(key.as_slice(), value.as_slice())?;
                    due.insert(due_key.as_slice(), &[])?;
                    fresh.push(id.clone());
                }
                Ok::<_, ConflictableTransactionError<Error>>(fresh)
            })
            .map_err(unwrap_tx)?;
        self.flush()?;
        Ok(fresh)
    }

    fn alert_history(&self, org: &str, filter: &HistoryFilter) -> Result<Vec<AlertHistoryEntry>> {
        let limit = filter.limit.clamp(1, HISTORY_LIMIT_MAX);
        let prefix = org_prefix(org);
        let start = history_key(org, filter.since.unwrap_or(0), 0);
        let mut end = prefix.clone();
        end.extend_from_slice(&[0xff; 16]);
        let mut out = Vec::new();
        for item in self.tree(Tree::AlertHistory).range(start..end).rev() {
            let (_, value) = item?;
            let entry: AlertHistoryEntry = decode(&value)?;
            let a = &entry.alert;
            if filter
                .resource_id
                .as_deref()
                .is_some_and(|r| r != a.resource_id)
                || filter.level.is_some_and(|l| l != a.level)
                || filter
                    .alert_type
                    .as_deref()
                    .is_some_and(|t| t != a.alert_type)
            {
                continue;
            }
            out.push(entry);
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    fn prune_alert_history(&self, org: &str, before_ms: i64, keep_max: usize) -> Result<usize> {
        let tree = self.tree(Tree::AlertHistory);
        let prefix = org_prefix(org);
        let total = tree.scan_prefix(&prefix).count();
        let cutoff = history_key(org, before_ms, 0);
        let mut removed = 0;
        for item in tree.scan_prefix(&prefix) {
            let (key, _) = item?;
            let over = total - removed > keep_max;
            if key.as_ref() >= cutoff.as_slice() && !over {
                break;
            }
            tree.remove(key)?;
            removed += 1;
        }
        if removed > 0 {
            self.flush()?;
        }
        Ok(removed)
    }
}
