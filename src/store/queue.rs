//! The durable delivery queue: records by `org \0 id` in `v1/delivery_queue`, and for pending ones
//! an index by due time, `org \0 due(be) id`, in `v1/delivery_due`, so the notifier finds what is
//! due with one bounded range scan and never holds the queue in memory. Deliveries are created by
//! the alert engine's commit (see [`super::AlertStore::commit_alert_step`]).

use std::collections::HashSet;

use serde::Serialize;
use sled::transaction::ConflictableTransactionError;
use sled::Transactional;

use super::alerts::org_prefix;
use super::codec::{decode, encode};
use super::sled_store::{unwrap_tx, Store, Tree};
use crate::error::{Error, Result};
use crate::notify::{Delivery, DeliveryStatus};

/// Sent and cancelled deliveries are kept this long (upstream: 7 days).
pub const KEEP_DONE_MS: i64 = 7 * 24 * 3_600_000;
/// Dead-lettered deliveries are kept this long (upstream: 30 days).
pub const KEEP_DLQ_MS: i64 = 30 * 24 * 3_600_000;

/// Counts of one org's deliveries by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueStats {
    /// Waiting for an attempt.
    pub pending: u64,
    /// Delivered.
    pub sent: u64,
    /// Dead-lettered.
    pub dlq: u64,
    /// Cancelled.
    pub cancelled: u64,
    /// Due time of the oldest pending delivery (unix ms).
    pub next_due_at: Option<i64>,
}

/// `org \0 id`.
pub(crate) fn queue_key(org: &str, id: &str) -> Vec<u8> {
    let mut key = org_prefix(org);
    key.extend_from_slice(id.as_bytes());
    key
}

/// `org \0 due(be) id`.
pub(crate) fn due_key(org: &str, due_ms: i64, id: &str) -> Vec<u8> {
    let mut key = org_prefix(org);
    key.extend_from_slice(&(due_ms.max(0) as u64).to_be_bytes());
    key.extend_from_slice(id.as_bytes());
    key
}

/// The durable delivery queue.
pub trait QueueStore: Send + Sync {
    /// Up to `limit` pending deliveries due at `now_ms`, earliest first, skipping `skip` (those in
    /// flight).
    fn due_deliveries(
        &self,
        org: &str,
        now_ms: i64,
        limit: usize,
        skip: &HashSet<String>,
    ) -> Result<Vec<Delivery>>;
    /// When the earliest pending delivery is due.
    fn next_due_at(&self, org: &str) -> Result<Option<i64>>;
    /// One delivery by id.
    fn get_delivery(&self, org: &str, id: &str) -> Result<Option<Delivery>>;
    /// Writes a changed delivery (after an attempt, a cancel, or a requeue) and moves its due
    /// index entry from `previous_due` (when it was pending); durable when this returns.
    fn update_delivery(&self, delivery: &Delivery, previous_due: Option<i64>) -> Result<()>;
    /// Up to `limit` deliveries with `status`, newest first.
    fn list_deliveries(
        &self,
        org: &str,
        status: DeliveryStatus,
        limit: usize,
    ) -> Result<Vec<Delivery>>;
    /// Counts by status.
    fn queue_stats(&self, org: &str) -> Result<QueueStats>;
    /// Removes finished deliveries past their retention; returns how many.
    fn purge_deliveries(&self, org: &str, now_ms: i64) -> Result<usize>;
}

impl QueueStore for Store {
    fn due_deliveries(
        &self,
        org: &str,
        now_ms: i64,
        limit: usize,
        skip: &HashSet<String>,
    ) -> Result<Vec<Delivery>> {
        let prefix = org_prefix(org);
        let mut end = prefix.clone();
        end.extend_from_slice(&(now_ms.max(0) as u64 + 1).to_be_bytes());
        let queue = self.tree(Tree::DeliveryQueue);
        let mut out = Vec::new();
        for item in self.tree(Tree::DeliveryDue).range(prefix.clone()..end) {
            let (key, _) = item?;
            let Some(id) = key
                .get(prefix.len() + 8..)
                .and_then(|b| std::str::from_utf8(b).ok())
            else {
                continue;
            };
            if skip.contains(id) {
                continue;
            }
            if let Some(value) = queue.get(queue_key(org, id))? {
                out.push(decode::<Delivery>(&value)?);
            }
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    fn next_due_at(&self, org: &str) -> Result<Option<i64>> {
        let prefix = org_prefix(org);
        let Some(item) = self.tree(Tree::DeliveryDue).scan_prefix(&prefix).next() else {
            return Ok(None);
        };
        let (key, _) = item?;
        let due = key
            .get(prefix.len()..prefix.len() + 8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(|b| i64::try_from(u64::from_be_bytes(b)).unwrap_or(i64::MAX));
        Ok(due)
    }

    fn get_delivery(&self, org: &str, id: &str) -> Result<Option<Delivery>> {
        self.tree(Tree::DeliveryQueue)
            .get(queue_key(org, id))?
            .map(|v| decode(&v))
            .transpose()
    }

    fn update_delivery(&self, delivery: &Delivery, previous_due: Option<i64>) -> Result<()> {
        let org = delivery.org.as_str();
        let key = queue_key(org, &delivery.id);
        let value = encode(delivery)?;
        let old_due = previous_due.map(|at| due_key(org, at, &delivery.id));
        let new_due = (delivery.status == DeliveryStatus::Pending)
            .then(|| due_key(org, delivery.next_attempt_at, &delivery.id));
        let trees = (self.tree(Tree::DeliveryQueue), self.tree(Tree::DeliveryDue));
        trees
            .transaction(|(queue, due)| {
                if let Some(old) = &old_due {
                    due.remove(old.as_slice())?;
                }
                queue.insert(key.as_slice(), value.as_slice())?;
                if let Some(new) = &new_due {
                    due.insert(new.as_slice(), &[])?;
                }
                Ok::<_, ConflictableTransactionError<Error>>(())
            })
            .map_err(unwrap_tx)?;
        self.flush()
    }

    fn list_deliveries(
        &self,
        org: &str,
        status: DeliveryStatus,
        limit: usize,
    ) -> Result<Vec<Delivery>> {
        let mut out = Vec::new();
        for item in self.tree(Tree::DeliveryQueue).scan_prefix(org_prefix(org)) {
            let (_, value) = item?;
            let d: Delivery = decode(&value)?;
            if d.status == status {
                out.push(d);
            }
        }
        out.sort_by(|a, b| {
            b.finished_at
                .unwrap_or(b.created_at)
                .cmp(&a.finished_at.unwrap_or(a.created_at))
        });
        out.truncate(limit);
        Ok(out)
    }

    fn queue_stats(&self, org: &str) -> Result<QueueStats> {
        let mut stats = QueueStats {
            next_due_at: self.next_due_at(org)?,
            ..QueueStats::default()
        };
        for item in self.tree(Tree::DeliveryQueue).scan_prefix(org_prefix(org)) {
            let (_, value) = item?;
            let d: Delivery = decode(&value)?;
            match d.status {
                DeliveryStatus::Pending => stats.pending += 1,
                DeliveryStatus::Sent => stats.sent += 1,
                DeliveryStatus::Dlq => stats.dlq += 1,
                DeliveryStatus::Cancelled => stats.cancelled += 1,
            }
        }
        Ok(stats)
    }

    fn purge_deliveries(&self, org: &str, now_ms: i64) -> Result<usize> {
        let tree = self.tree(Tree::DeliveryQueue);
        let mut removed = 0;
        for item in tree.scan_prefix(org_prefix(org)) {
            let (key, value) = item?;
            let d: Delivery = decode(&value)?;
            let keep = match d.status {
                DeliveryStatus::Pending => true,
                DeliveryStatus::Dlq => d.finished_at.unwrap_or(now_ms) + KEEP_DLQ_MS > now_ms,
                DeliveryStatus::Sent | DeliveryStatus::Cancelled => {
                    d.finished_at.unwrap_or(now_ms) + KEEP_DONE_MS > now_ms
                }
            };
            if !keep {
                tree.remove(key)?;
                removed += 1;
            }
        }
        if removed > 0 {
            self.flush()?;
        }
        Ok(removed)
    }
}
