//! Per-group summaries of PBS snapshots, folded one snapshot at a time so that memory grows with
//! the number of backup groups, never with the number of snapshots.

use std::collections::BTreeMap;

use super::types::Snapshot;

/// What the snapshots of one backup group (`<type>/<id>`) add up to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupSummary {
    /// Snapshots.
    pub count: u64,
    /// Newest snapshot time (unix s).
    pub newest: Option<i64>,
    /// Oldest snapshot time (unix s).
    pub oldest: Option<i64>,
    /// Sum of snapshot sizes (bytes).
    pub total_size: u64,
    /// Snapshots whose verification passed.
    pub verified_ok: u64,
    /// Snapshots whose verification failed.
    pub verify_failed: u64,
    /// Snapshots never verified.
    pub unverified: u64,
    /// Protected snapshots.
    pub protected: u64,
    /// Verification state of the newest snapshot.
    pub newest_verification: Option<String>,
}

/// Summaries of a snapshot listing, by `(backup type, backup id)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotSummary {
    /// Per group.
    pub groups: BTreeMap<(String, String), GroupSummary>,
    /// Snapshots counted.
    pub snapshots: u64,
    /// Malformed entries skipped.
    pub skipped: u64,
}

impl SnapshotSummary {
    /// Folds in one list element given as JSON text; a malformed one is counted as skipped.
    pub fn add_json(&mut self, element: &[u8]) {
        match serde_json::from_slice::<Snapshot>(element) {
            Ok(snapshot) => self.add(snapshot),
            Err(_) => self.skipped += 1,
        }
    }

    /// Folds in one snapshot.
    pub fn add(&mut self, snapshot: Snapshot) {
        self.snapshots += 1;
        let group = self
            .groups
            .entry((snapshot.backup_type, snapshot.backup_id))
            .or_default();
        group.count += 1;
        let time = snapshot.backup_time;
        if group.newest.is_none_or(|n| time >= n) {
            group.newest = Some(time);
            group.newest_verification.clone_from(&snapshot.verification);
        }
        if group.oldest.is_none_or(|o| time < o) {
            group.oldest = Some(time);
        }
        group.total_size = group.total_size.saturating_add(snapshot.size.unwrap_or(0));
        match snapshot.verification.as_deref() {
            Some("ok") => group.verified_ok += 1,
            Some("failed") => group.verify_failed += 1,
            _ => group.unverified += 1,
        }
        if snapshot.protected {
            group.protected += 1;
        }
    }

    /// Totals over all groups.
    pub fn totals(&self) -> SummaryTotals {
        let mut totals = SummaryTotals::default();
        for g in self.groups.values() {
            totals.newest = totals.newest.max(g.newest);
            totals.oldest = match (totals.oldest, g.oldest) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            totals.total_size = totals.total_size.saturating_add(g.total_size);
            totals.verify_failed += g.verify_failed;
            totals.verified_ok += g.verified_ok;
            totals.unverified += g.unverified;
            totals.protected += g.protected;
        }
        totals
    }
}

/// Totals of a [`SnapshotSummary`] over all its groups.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SummaryTotals {
    /// Newest snapshot (unix s).
    pub newest: Option<i64>,
    /// Oldest snapshot (unix s).
    pub oldest: Option<i64>,
    /// Bytes.
    pub total_size: u64,
    /// Failed verifications.
    pub verify_failed: u64,
    /// Passed verifications.
    pub verified_ok: u64,
    /// Never verified.
    pub unverified: u64,
    /// Protected.
    pub protected: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_snapshots_per_group() {
        let mut summary = SnapshotSummary::default();
        for element in [
            r#"{"backup-type":"vm","backup-id":100,"backup-time":1000,"size":10,"verification":{"state":"ok","upid":"x"}}"#,
            r#"{"backup-type":"vm","backup-id":"100","backup-time":"3000","size":"5","verification":"failed","protected":1}"#,
            r#"{"backup-type":"vm","backup-id":"100","backup-time":2000,"files":[{"filename":"a"}]}"#,
            r#"{"backup-type":"ct","backup-id":"101","backup-time":500}"#,
            r#"{"backup-type":"ct","backup-time":500}"#,
            r#"not json"#,
        ] {
            summary.add_json(element.as_bytes());
        }
        assert_eq!((summary.snapshots, summary.skipped), (4, 2));
        let vm = &summary.groups[&("vm".to_owned(), "100".to_owned())];
        assert_eq!(
            vm,
            &GroupSummary {
                count: 3,
                newest: Some(3000),
                oldest: Some(1000),
                total_size: 15,
                verified_ok: 1,
                verify_failed: 1,
                unverified: 1,
                protected: 1,
                newest_verification: Some("failed".into()),
            }
        );
        let totals = summary.totals();
        assert_eq!(
            (
                totals.newest,
                totals.oldest,
                totals.verify_failed,
                totals.unverified
            ),
            (Some(3000), Some(500), 1, 2)
        );
    }
}
