//! The health mapping of reference §4.4, pure: TrueNAS states → unified statuses and incident
//! severities. Words are compared case-insensitively; unknown words map to `unknown` (statuses)
//! or nothing (severities), never to a guess.

use pulse_model::Status;
use serde::Serialize;

/// How bad an incident is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth watching (alert levels INFO/NOTICE).
    Monitor,
    /// Degraded.
    Warning,
    /// Failed or at risk of data loss.
    Critical,
}

/// Whether `word` is one of `words`, ignoring case and surrounding space.
fn is_any(word: &str, words: &[&str]) -> bool {
    let word = word.trim();
    words.iter().any(|w| word.eq_ignore_ascii_case(w))
}

/// Pool status: ONLINE/HEALTHY → online; DEGRADED → warning; FAULTED/OFFLINE/REMOVED/UNAVAIL →
/// offline; anything else (SUSPENDED included) → unknown.
pub fn pool_status(state: &str) -> Status {
    if is_any(state, &["ONLINE", "HEALTHY"]) {
        Status::Online
    } else if is_any(state, &["DEGRADED"]) {
        Status::Warning
    } else if is_any(state, &["FAULTED", "OFFLINE", "REMOVED", "UNAVAIL"]) {
        Status::Offline
    } else {
        Status::Unknown
    }
}

/// Pool incident (`zfs_pool_state`): DEGRADED → warning; FAULTED/OFFLINE/REMOVED/UNAVAIL/SUSPENDED
/// → critical; otherwise none.
pub fn pool_severity(state: &str) -> Option<Severity> {
    if is_any(state, &["DEGRADED"]) {
        Some(Severity::Warning)
    } else if is_any(
        state,
        &["FAULTED", "OFFLINE", "REMOVED", "UNAVAIL", "SUSPENDED"],
    ) {
        Some(Severity::Critical)
    } else {
        None
    }
}

/// Dataset: locked → offline; not mounted → offline; read-only and not a replication target →
/// warning; else online.
pub fn dataset_status(
    locked: bool,
    mounted: bool,
    readonly: bool,
    replication_target: bool,
) -> Status {
    if locked || !mounted {
        Status::Offline
    } else if readonly && !replication_target {
        Status::Warning
    } else {
        Status::Online
    }
}

/// Disk incident (`truenas_disk_state`): DEGRADED → warning; FAULTED/FAILED/OFFLINE/REMOVED/UNAVAIL
/// → critical; otherwise none.
pub fn disk_severity(state: &str) -> Option<Severity> {
    if is_any(state, &["DEGRADED"]) {
        Some(Severity::Warning)
    } else if is_any(
        state,
        &["FAULTED", "FAILED", "OFFLINE", "REMOVED", "UNAVAIL"],
    ) {
        Some(Severity::Critical)
    } else {
        None
    }
}

/// Whether a SMART overall result means the disk is failing (`FAIL`, `FAILED`, `FAILING`).
pub fn smart_failed(result: &str) -> bool {
    result
        .trim()
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("FAIL"))
}

/// Disk status from its state and SMART result: a critical state → offline, a warning state or a
/// failing SMART result → warning, a known good state or a passing SMART result → online,
/// nothing known → unknown.
pub fn disk_status(state: Option<&str>, smart: Option<&str>) -> Status {
    match (state.and_then(disk_severity), smart.map(smart_failed)) {
        (Some(Severity::Critical), _) => Status::Offline,
        (Some(_), _) | (None, Some(true)) => Status::Warning,
        (None, _) if state.is_some_and(|s| is_any(s, &["ONLINE", "HEALTHY"])) => Status::Online,
        (None, Some(false)) => Status::Online,
        (None, None) if state.is_some() => Status::Unknown,
        (None, None) => Status::Online,
    }
}

/// Native alert level: CRITICAL/ERROR/ALERT → critical; WARNING/WARN → warning; INFO/NOTICE →
/// monitor; anything else is ignored.
pub fn alert_severity(level: &str) -> Option<Severity> {
    if is_any(level, &["CRITICAL", "ERROR", "ALERT"]) {
        Some(Severity::Critical)
    } else if is_any(level, &["WARNING", "WARN"]) {
        Some(Severity::Warning)
    } else if is_any(level, &["INFO", "NOTICE"]) {
        Some(Severity::Monitor)
    } else {
        None
    }
}

/// App state: RUNNING → online; DEPLOYING/STOPPING/CRASHED → warning; STOPPED → offline; else
/// unknown.
pub fn app_status(state: &str) -> Status {
    if is_any(state, &["RUNNING"]) {
        Status::Online
    } else if is_any(state, &["DEPLOYING", "STOPPING", "CRASHED"]) {
        Status::Warning
    } else if is_any(state, &["STOPPED"]) {
        Status::Offline
    } else {
        Status::Unknown
    }
}

/// VM state: RUNNING/ACTIVE → online; STOPPED/SHUTOFF/SHUTDOWN/POWEROFF → offline;
/// PAUSED/SUSPENDED/ERROR/CRASHED/PANICKED → warning; else unknown.
pub fn vm_status(state: &str) -> Status {
    if is_any(state, &["RUNNING", "ACTIVE"]) {
        Status::Online
    } else if is_any(state, &["STOPPED", "SHUTOFF", "SHUTDOWN", "POWEROFF"]) {
        Status::Offline
    } else if is_any(
        state,
        &["PAUSED", "SUSPENDED", "ERROR", "CRASHED", "PANICKED"],
    ) {
        Status::Warning
    } else {
        Status::Unknown
    }
}

/// Share: disabled → offline; locked → warning; else online.
pub fn share_status(enabled: bool, locked: bool) -> Status {
    if !enabled {
        Status::Offline
    } else if locked {
        Status::Warning
    } else {
        Status::Online
    }
}

/// The appliance: online when healthy, warning when any storage risk or incident is present.
pub fn system_status(worst_incident: Option<Severity>) -> Status {
    match worst_incident {
        Some(Severity::Warning | Severity::Critical) => Status::Warning,
        Some(Severity::Monitor) | None => Status::Online,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_rows() {
        for (state, status, severity) in [
            ("ONLINE", Status::Online, None),
            ("healthy", Status::Online, None),
            ("DEGRADED", Status::Warning, Some(Severity::Warning)),
            ("FAULTED", Status::Offline, Some(Severity::Critical)),
            ("OFFLINE", Status::Offline, Some(Severity::Critical)),
            ("REMOVED", Status::Offline, Some(Severity::Critical)),
            ("UNAVAIL", Status::Offline, Some(Severity::Critical)),
            ("SUSPENDED", Status::Unknown, Some(Severity::Critical)),
            ("SOMETHING", Status::Unknown, None),
            ("", Status::Unknown, None),
        ] {
            assert_eq!(pool_status(state), status, "{state}");
            assert_eq!(pool_severity(state), severity, "{state}");
        }
    }

    #[test]
    fn dataset_rows() {
        assert_eq!(dataset_status(true, true, false, false), Status::Offline);
        assert_eq!(dataset_status(false, false, false, false), Status::Offline);
        assert_eq!(dataset_status(false, true, true, false), Status::Warning);
        assert_eq!(dataset_status(false, true, true, true), Status::Online);
        assert_eq!(dataset_status(false, true, false, false), Status::Online);
        assert_eq!(dataset_status(true, false, true, true), Status::Offline);
    }

    #[test]
    fn disk_rows() {
        for (state, severity) in [
            ("ONLINE", None),
            ("DEGRADED", Some(Severity::Warning)),
            ("FAULTED", Some(Severity::Critical)),
            ("FAILED", Some(Severity::Critical)),
            ("OFFLINE", Some(Severity::Critical)),
            ("REMOVED", Some(Severity::Critical)),
            ("unavail", Some(Severity::Critical)),
        ] {
            assert_eq!(disk_severity(state), severity, "{state}");
        }
        assert_eq!(disk_status(Some("ONLINE"), Some("PASS")), Status::Online);
        assert_eq!(disk_status(Some("ONLINE"), Some("FAILED")), Status::Warning);
        assert_eq!(disk_status(Some("DEGRADED"), None), Status::Warning);
        assert_eq!(disk_status(Some("FAULTED"), Some("PASS")), Status::Offline);
        assert_eq!(disk_status(None, Some("FAIL")), Status::Warning);
        assert_eq!(disk_status(None, Some("PASS")), Status::Online);
        assert_eq!(disk_status(None, None), Status::Online);
        assert_eq!(disk_status(Some("WEIRD"), None), Status::Unknown);
        assert!(smart_failed("failing") && !smart_failed("PASS") && !smart_failed("no"));
    }

    #[test]
    fn alert_rows() {
        for (level, severity) in [
            ("CRITICAL", Some(Severity::Critical)),
            ("ERROR", Some(Severity::Critical)),
            ("ALERT", Some(Severity::Critical)),
            ("WARNING", Some(Severity::Warning)),
            ("warn", Some(Severity::Warning)),
            ("INFO", Some(Severity::Monitor)),
            ("NOTICE", Some(Severity::Monitor)),
            ("DEBUG", None),
        ] {
            assert_eq!(alert_severity(level), severity, "{level}");
        }
    }

    #[test]
    fn app_vm_share_system_rows() {
        for (state, status) in [
            ("RUNNING", Status::Online),
            ("DEPLOYING", Status::Warning),
            ("STOPPING", Status::Warning),
            ("CRASHED", Status::Warning),
            ("STOPPED", Status::Offline),
            ("UNKNOWN", Status::Unknown),
        ] {
            assert_eq!(app_status(state), status, "app {state}");
        }
        for (state, status) in [
            ("RUNNING", Status::Online),
            ("ACTIVE", Status::Online),
            ("STOPPED", Status::Offline),
            ("SHUTOFF", Status::Offline),
            ("SHUTDOWN", Status::Offline),
            ("POWEROFF", Status::Offline),
            ("PAUSED", Status::Warning),
            ("SUSPENDED", Status::Warning),
            ("ERROR", Status::Warning),
            ("CRASHED", Status::Warning),
            ("PANICKED", Status::Warning),
            ("NOSTATE", Status::Unknown),
        ] {
            assert_eq!(vm_status(state), status, "vm {state}");
        }
        assert_eq!(share_status(false, false), Status::Offline);
        assert_eq!(share_status(false, true), Status::Offline);
        assert_eq!(share_status(true, true), Status::Warning);
        assert_eq!(share_status(true, false), Status::Online);
        assert_eq!(system_status(None), Status::Online);
        assert_eq!(system_status(Some(Severity::Monitor)), Status::Online);
        assert_eq!(system_status(Some(Severity::Warning)), Status::Warning);
        assert_eq!(system_status(Some(Severity::Critical)), Status::Warning);
    }
}
