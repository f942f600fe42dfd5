//! Source priority, staleness and status aggregation (upstream §6.4–6.5).
//!
//! Rules, as implemented:
//! - **Freshness** of one contribution at `now`, with `age = now − observedAt` (never negative):
//!   `offline` if the record sets `offlineAfterMs` and `age > offlineAfterMs`; else `stale` if
//!   `age > staleAfterMs` (the record's override, else 60 s for proxmox and agent, 120 s for every
//!   other source); else `online`.
//! - **Ranking** of a resource's contributions: fresher tier first (online, stale, offline), then
//!   higher [`priority`], then `(source, scope, sourceId)` for determinism. Observation times
//!   never break ties, so a re-poll alone never changes a winner.
//! - **Aggregate status** ([`aggregate_status`]): the first-ranked online contribution's reported
//!   status; if none is online, the first-ranked stale one's reported status, with `online`
//!   turned into `warning`; if none is stale either, `offline` when any contribution is offline
//!   by age; `unknown` when there is nothing at all.

use crate::names::{ResourceType, Source, SourceState, Status};
use crate::time::Timestamp;

/// Upstream's staleness threshold for a source, in milliseconds.
pub const fn default_stale_after_ms(source: Source) -> u64 {
    match source {
        Source::Proxmox | Source::Agent => 60_000,
        Source::Pbs | Source::Pmg | Source::Truenas | Source::Docker | Source::Kubernetes => {
            120_000
        }
    }
}

/// How current an observation made at `observed_at` is at `now` (see the module docs).
pub fn freshness(
    source: Source,
    stale_after_ms: Option<u64>,
    offline_after_ms: Option<u64>,
    observed_at: Timestamp,
    now: Timestamp,
) -> SourceState {
    let age = now.millis_since(observed_at);
    if offline_after_ms.is_some_and(|limit| age > limit) {
        SourceState::Offline
    } else if age > stale_after_ms.unwrap_or(default_stale_after_ms(source)) {
        SourceState::Stale
    } else {
        SourceState::Online
    }
}

/// Rank of a freshness state: lower is better (online, stale, offline, unknown).
pub(crate) const fn tier(state: SourceState) -> u8 {
    match state {
        SourceState::Online => 0,
        SourceState::Stale => 1,
        SourceState::Offline => 2,
        SourceState::Unknown => 3,
    }
}

/// Priority of a source for name, status and metrics: agent 3 > proxmox 2 > docker 1 > others 0.
pub const fn priority(source: Source) -> u8 {
    match source {
        Source::Agent => 3,
        Source::Proxmox => 2,
        Source::Docker => 1,
        Source::Pbs | Source::Pmg | Source::Truenas | Source::Kubernetes => 0,
    }
}

/// Priority of a source for the metrics of a resource of `resource_type`: as [`priority`], except
/// that on hypervisor guests (VM, LXC) the agent drops to 1 so the platform's numbers win.
pub const fn metric_priority(source: Source, resource_type: ResourceType) -> u8 {
    match (source, resource_type) {
        (Source::Agent, ResourceType::Vm | ResourceType::SystemContainer) => 1,
        _ => priority(source),
    }
}

/// The aggregate status of a resource from its contributions' `(freshness, reported status)`,
/// **in rank order** (see the module docs).
pub fn aggregate_status<I>(ranked: I) -> Status
where
    I: IntoIterator<Item = (SourceState, Status)>,
{
    let mut first_stale = None;
    let mut any_offline = false;
    for (state, reported) in ranked {
        match state {
            SourceState::Online => return reported,
            SourceState::Stale => {
                first_stale.get_or_insert(reported);
            }
            SourceState::Offline => any_offline = true,
            SourceState::Unknown => {}
        }
    }
    match first_stale {
        Some(Status::Online) => Status::Warning,
        Some(reported) => reported,
        None if any_offline => Status::Offline,
        None => Status::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Timestamp = Timestamp::from_millis(1_000_000_000);

    fn at(ms: u64) -> Timestamp {
        T0.plus_millis(ms)
    }

    #[test]
    fn thresholds_per_source() {
        assert_eq!(default_stale_after_ms(Source::Proxmox), 60_000);
        assert_eq!(default_stale_after_ms(Source::Agent), 60_000);
        for s in [
            Source::Pbs,
            Source::Pmg,
            Source::Truenas,
            Source::Docker,
            Source::Kubernetes,
        ] {
            assert_eq!(default_stale_after_ms(s), 120_000);
        }
    }

    #[test]
    fn freshness_by_age() {
        let f = |source, stale, offline, age| freshness(source, stale, offline, T0, at(age));
        assert_eq!(f(Source::Proxmox, None, None, 60_000), SourceState::Online);
        assert_eq!(f(Source::Proxmox, None, None, 60_001), SourceState::Stale);
        assert_eq!(f(Source::Docker, None, None, 60_001), SourceState::Online);
        assert_eq!(f(Source::Docker, None, None, 120_001), SourceState::Stale);
        assert_eq!(
            f(Source::Docker, Some(5_000), None, 5_001),
            SourceState::Stale
        );
        assert_eq!(
            f(Source::Agent, None, Some(300_000), 300_000),
            SourceState::Stale
        );
        assert_eq!(
            f(Source::Agent, None, Some(300_000), 300_001),
            SourceState::Offline
        );
        assert_eq!(
            f(Source::Agent, None, Some(10_000), 10_001),
            SourceState::Offline
        );
        assert_eq!(f(Source::Agent, None, None, 10_000_000), SourceState::Stale);
        // An observation from the future (clock skew) is fresh.
        assert_eq!(
            freshness(Source::Agent, None, None, at(5_000), T0),
            SourceState::Online
        );
    }

    #[test]
    fn priorities() {
        assert!(priority(Source::Agent) > priority(Source::Proxmox));
        assert!(priority(Source::Proxmox) > priority(Source::Docker));
        assert!(priority(Source::Docker) > priority(Source::Truenas));
        assert_eq!(metric_priority(Source::Agent, ResourceType::Vm), 1);
        assert_eq!(
            metric_priority(Source::Agent, ResourceType::SystemContainer),
            1
        );
        assert_eq!(metric_priority(Source::Agent, ResourceType::Agent), 3);
        assert_eq!(metric_priority(Source::Proxmox, ResourceType::Vm), 2);
    }

    #[test]
    fn aggregate_fresh_winner_decides() {
        use SourceState as S;
        let status = aggregate_status([(S::Online, Status::Offline), (S::Online, Status::Online)]);
        assert_eq!(status, Status::Offline);
        let status = aggregate_status([(S::Online, Status::Warning), (S::Stale, Status::Online)]);
        assert_eq!(status, Status::Warning);
    }

    #[test]
    fn aggregate_stale_online_becomes_warning() {
        use SourceState as S;
        assert_eq!(
            aggregate_status([(S::Stale, Status::Online)]),
            Status::Warning
        );
        assert_eq!(
            aggregate_status([(S::Stale, Status::Online), (S::Offline, Status::Online)]),
            Status::Warning
        );
    }

    #[test]
    fn aggregate_stale_other_status_is_kept() {
        use SourceState as S;
        assert_eq!(
            aggregate_status([(S::Stale, Status::Offline)]),
            Status::Offline
        );
        assert_eq!(
            aggregate_status([(S::Stale, Status::Warning)]),
            Status::Warning
        );
        assert_eq!(
            aggregate_status([(S::Stale, Status::Unknown)]),
            Status::Unknown
        );
    }

    #[test]
    fn aggregate_offline_and_nothing() {
        use SourceState as S;
        assert_eq!(
            aggregate_status([(S::Offline, Status::Online)]),
            Status::Offline
        );
        assert_eq!(
            aggregate_status([(S::Unknown, Status::Online)]),
            Status::Unknown
        );
        assert_eq!(aggregate_status(std::iter::empty()), Status::Unknown);
    }
}
