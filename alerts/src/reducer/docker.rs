//! Docker/Podman container and Swarm service rules.
//!
//! Reads the `docker` facet (field names as in the agent's container report, platforms §5.3;
//! numbers may be strings):
//! - `app-container`:
//!   - `state` (`running`, `exited`, `dead`, `restarting`, `paused`, `created`) and `exitCode`:
//!     `exited` with a non-zero `exitCode`, or `dead` → `docker-container-state` (critical);
//!   - `health` (`healthy`, `unhealthy`, `starting`, `none`): `unhealthy` while not exited/dead →
//!     `docker-container-health` (warning);
//!   - `oomKilled` (bool): true → `docker-container-oom-kill` (warning) until the container
//!     starts again without it;
//!   - `restartCount` (cumulative): at least `docker.restartLoop.count` restarts within
//!     `windowSeconds`, counted from the counts seen over time (a lower count means the
//!     container was recreated and restarts the count) → `docker-container-restart-loop`
//!     (critical);
//!   - `memoryUsageBytes` / `memoryLimitBytes` (limit 0 or absent: no limit) →
//!     `docker-container-memory-limit` against `docker.memoryLimit` (90 % warn, 95 % critical).
//!
//!   Containers whose `name` starts with a `docker.ignoredContainerPrefixes` entry are skipped.
//! - `docker-service`: `desiredTasks`, `runningTasks`: the missing share in percent →
//!   `docker-service-health` against `docker.serviceGap` (10 % warn, 50 % critical).

use pulse_model::Timestamp;
use serde_json::{Map, Value};

use crate::alert::{AlertKey, AlertLevel};
use crate::facet;
use crate::reducer::effects::Effects;
use crate::reducer::judge::{threshold_verdict, Finding, Verdict};
use crate::reducer::observe::Observation;
use crate::state::{ResourceAlerts, RestartLog, RestartSample};

/// Milliseconds per second.
const SECOND_MS: u64 = 1_000;

/// Evaluates the container rules (`restarts`: the restart counts seen of every container).
pub(crate) fn evaluate_container(
    entry: &mut ResourceAlerts,
    restarts: &mut RestartLog,
    obs: &Observation,
    fx: &mut Effects,
) {
    let Some(docker) = facet::object(obs.resource, "docker") else {
        return;
    };
    let name = &obs.resource.name;
    let ignored = fx
        .config
        .docker
        .ignored_container_prefixes
        .iter()
        .any(|prefix| !prefix.is_empty() && name.starts_with(prefix.as_str()));
    let state = facet::text(docker, &["state"]);
    let is = |word: &str| state.is_some_and(|s| s.eq_ignore_ascii_case(word));
    let stopped = is("exited") || is("dead");

    let key = AlertKey::ContainerState;
    let verdict = gate(obs, &key, ignored, || container_state(docker, state, name));
    obs.apply(entry, key, verdict, fx);

    let key = AlertKey::ContainerHealth;
    let trackers = &entry.trackers;
    let verdict = gate(obs, &key, ignored, || {
        let unhealthy =
            facet::text(docker, &["health"]).is_some_and(|h| h.eq_ignore_ascii_case("unhealthy"));
        if unhealthy && !stopped {
            Verdict::Breach(Finding::flag(
                AlertLevel::Warning,
                (!obs.has_alert(trackers, &key)).then(|| format!("Container {name} is unhealthy")),
            ))
        } else {
            Verdict::Ok
        }
    });
    obs.apply(entry, key, verdict, fx);

    let key = AlertKey::OomKill;
    let trackers = &entry.trackers;
    let verdict = gate(obs, &key, ignored, || {
        if facet::flag(docker, &["oomKilled"]) == Some(true) {
            Verdict::Breach(Finding::flag(
                AlertLevel::Warning,
                (!obs.has_alert(trackers, &key))
                    .then(|| format!("Container {name} was killed for running out of memory")),
            ))
        } else {
            Verdict::Ok
        }
    });
    obs.apply(entry, key, verdict, fx);

    restart_loop(entry, restarts, obs, docker, ignored, fx);

    let key = AlertKey::MemoryLimit;
    let trackers = &entry.trackers;
    let verdict = gate(obs, &key, ignored, || {
        let usage = facet::number(docker, &["memoryUsageBytes"]);
        let limit = facet::number(docker, &["memoryLimitBytes"]).filter(|l| *l > 0.0);
        match (usage, limit) {
            (Some(usage), Some(limit)) => threshold_verdict(
                usage * 100.0 / limit,
                &fx.config.docker.memory_limit,
                true,
                || obs.prior(trackers, &key),
            ),
            (_, None) => Verdict::Ok,
            (None, Some(_)) => Verdict::Unknown,
        }
    });
    obs.apply(entry, key, verdict, fx);
}

/// Evaluates the Swarm service rule.
pub(crate) fn evaluate_service(entry: &mut ResourceAlerts, obs: &Observation, fx: &mut Effects) {
    let Some(docker) = facet::object(obs.resource, "docker") else {
        return;
    };
    let key = AlertKey::ServiceGap;
    let trackers = &entry.trackers;
    let verdict = gate(obs, &key, false, || {
        let desired = facet::number(docker, &["desiredTasks"]);
        let running = facet::number(docker, &["runningTasks"]);
        match (desired, running) {
            (Some(desired), Some(running)) if desired > 0.0 => {
                let missing = (desired - running).max(0.0) * 100.0 / desired;
                threshold_verdict(missing, &fx.config.docker.service_gap, true, || {
                    obs.prior(trackers, &key)
                })
            }
            (Some(_), Some(_)) => Verdict::Ok,
            _ => Verdict::Unknown,
        }
    });
    obs.apply(entry, key, verdict, fx);
}

/// `Disabled` when the rule is off or the container ignored, else the rule's verdict.
fn gate(
    obs: &Observation,
    key: &AlertKey,
    ignored: bool,
    rule: impl FnOnce() -> Verdict,
) -> Verdict {
    if ignored || obs.view.disabled(key) {
        Verdict::Disabled
    } else {
        rule()
    }
}

/// `docker-container-state`: exited with an error, or dead.
fn container_state(docker: &Map<String, Value>, state: Option<&str>, name: &str) -> Verdict {
    let Some(state) = state else {
        return Verdict::Unknown;
    };
    if state.eq_ignore_ascii_case("dead") {
        return Verdict::Breach(Finding::flag(
            AlertLevel::Critical,
            Some(format!("Container {name} is dead")),
        ));
    }
    if !state.eq_ignore_ascii_case("exited") {
        return Verdict::Ok;
    }
    match facet::number(docker, &["exitCode"]) {
        Some(code) if code != 0.0 => Verdict::Breach(Finding::counted(
            AlertLevel::Critical,
            code,
            0.0,
            format!("Container {name} exited with code {code}"),
        )),
        _ => Verdict::Ok,
    }
}

/// `docker-container-restart-loop`: too many restarts within the window.
fn restart_loop(
    entry: &mut ResourceAlerts,
    restarts: &mut RestartLog,
    obs: &Observation,
    docker: &Map<String, Value>,
    ignored: bool,
    fx: &mut Effects,
) {
    let key = AlertKey::RestartLoop;
    let rule = &fx.config.docker.restart_loop;
    let count = facet::number(docker, &["restartCount"])
        .filter(|c| *c >= 0.0)
        .map(|c| c as u64);
    let id = obs.resource.id.as_str();
    let verdict = match count {
        _ if ignored || obs.view.disabled(&key) => {
            if restarts.remove(id).is_some() {
                fx.touch();
            }
            Verdict::Disabled
        }
        None => Verdict::Unknown,
        Some(count) => {
            let window = rule.window_seconds.saturating_mul(SECOND_MS);
            let (restarted, changed) = record_count(restarts, id, count, fx.now, window);
            if changed {
                fx.touch();
            }
            let limit = u64::from(rule.count.max(1));
            if restarted >= limit {
                Verdict::Breach(Finding::counted(
                    AlertLevel::Critical,
                    restarted as f64,
                    limit as f64,
                    format!(
                        "Container {} restarted {restarted} times in {} s",
                        obs.resource.name, rule.window_seconds
                    ),
                ))
            } else {
                Verdict::Ok
            }
        }
    };
    obs.apply(entry, key, verdict, fx);
}

/// [`restarts_within`] on the samples of container `id` (created on its first count): the
/// restarts within the window, and whether the samples changed.
fn record_count(
    restarts: &mut RestartLog,
    id: &str,
    count: u64,
    now: Timestamp,
    window: u64,
) -> (u64, bool) {
    match restarts.get_mut(id) {
        Some(slot) => {
            let before = (slot.len(), slot.first().copied(), slot.last().copied());
            let mut samples = std::mem::take(slot).into_vec();
            let restarted = restarts_within(&mut samples, count, now, window);
            // Samples are only appended (a new count), cleared (a lower count, then one is
            // appended) or drained from the front, so length and ends tell whether they moved.
            let after = (
                samples.len(),
                samples.first().copied(),
                samples.last().copied(),
            );
            *slot = samples.into_boxed_slice();
            (restarted, before != after)
        }
        None => {
            let mut samples = Vec::with_capacity(1);
            let restarted = restarts_within(&mut samples, count, now, window);
            restarts.insert(Box::from(id), samples.into_boxed_slice());
            (restarted, true)
        }
    }
}

/// Records the restart count `count` seen at `now` and returns the restarts within the last
/// `window` ms: the count now minus the count at the window's start (the latest sample at or
/// before it, or the first sample when the window reaches back before the first observation).
/// Only changes are stored, and samples older than needed are dropped.
fn restarts_within(
    samples: &mut Vec<RestartSample>,
    count: u64,
    now: Timestamp,
    window: u64,
) -> u64 {
    if samples.last().is_some_and(|last| count < last.count) {
        samples.clear();
    }
    if samples.last().is_none_or(|last| last.count != count) {
        samples.push(RestartSample { at: now, count });
    }
    let baseline = samples
        .iter()
        .rposition(|s| now.millis_since(s.at) >= window)
        .unwrap_or(0);
    samples.drain(..baseline);
    samples
        .first()
        .map_or(0, |first| count.saturating_sub(first.count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_counting_over_a_sliding_window() {
        let t = |s: i64| Timestamp::from_millis(s * 1000);
        let window = 300_000;
        let mut samples = Vec::new();
        assert_eq!(restarts_within(&mut samples, 50, t(0), window), 0);
        assert_eq!(restarts_within(&mut samples, 51, t(30), window), 1);
        assert_eq!(restarts_within(&mut samples, 52, t(60), window), 2);
        assert_eq!(restarts_within(&mut samples, 53, t(90), window), 3);
        assert_eq!(restarts_within(&mut samples, 53, t(120), window), 3);
        // At 330 s the window starts at 30 s: baseline 51.
        assert_eq!(restarts_within(&mut samples, 53, t(330), window), 2);
        assert_eq!(restarts_within(&mut samples, 53, t(400), window), 0);
        // Recreated container: count starts over.
        assert_eq!(restarts_within(&mut samples, 1, t(410), window), 0);
        assert_eq!(restarts_within(&mut samples, 3, t(420), window), 2);
        assert!(samples.len() <= 3);
    }
}
