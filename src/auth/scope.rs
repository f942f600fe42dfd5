//! API token scopes (the upstream names, **compatible**) and the rule of which scope allows which.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One permission a token can carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum Scope {
    /// `*`: everything.
    All,
    /// `monitoring:read`: state, resources, history, alerts, WebSocket.
    MonitoringRead,
    /// `monitoring:write`: acknowledge/clear alerts and other monitoring changes (implies read).
    MonitoringWrite,
    /// `agent:report`: host agent reports.
    AgentReport,
    /// `docker:report`: Docker/Podman agent reports.
    DockerReport,
    /// `kubernetes:report`: Kubernetes agent reports.
    KubernetesReport,
    /// `settings:read`: read configuration.
    SettingsRead,
    /// `settings:write`: change configuration (implies read).
    SettingsWrite,
    /// `audit:read`: read the audit log.
    AuditRead,
    /// `relay:mobile:access`: the mobile app through the relay.
    RelayMobileAccess,
}

impl Scope {
    /// Every scope, in canonical order.
    pub const ALL: [Scope; 10] = [
        Scope::All,
        Scope::MonitoringRead,
        Scope::MonitoringWrite,
        Scope::AgentReport,
        Scope::DockerReport,
        Scope::KubernetesReport,
        Scope::SettingsRead,
        Scope::SettingsWrite,
        Scope::AuditRead,
        Scope::RelayMobileAccess,
    ];

    /// The wire name of the scope.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::All => "*",
            Scope::MonitoringRead => "monitoring:read",
            Scope::MonitoringWrite => "monitoring:write",
            Scope::AgentReport => "agent:report",
            Scope::DockerReport => "docker:report",
            Scope::KubernetesReport => "kubernetes:report",
            Scope::SettingsRead => "settings:read",
            Scope::SettingsWrite => "settings:write",
            Scope::AuditRead => "audit:read",
            Scope::RelayMobileAccess => "relay:mobile:access",
        }
    }

    /// Parses a wire name; an unknown name is a validation error that names it and lists the known ones.
    pub fn parse(name: &str) -> Result<Scope> {
        Scope::ALL
            .into_iter()
            .find(|s| s.as_str() == name)
            .ok_or_else(|| {
                let known: Vec<_> = Scope::ALL.iter().map(|s| s.as_str()).collect();
                Error::validation(
                    "scopes",
                    format!("unknown scope '{name}'; known scopes: {}", known.join(", ")),
                )
            })
    }

    /// Whether holding `self` grants `required` (`*` grants everything; a write scope grants its read).
    fn grants(self, required: Scope) -> bool {
        self == required
            || self == Scope::All
            || matches!(
                (self, required),
                (Scope::MonitoringWrite, Scope::MonitoringRead)
                    | (Scope::SettingsWrite, Scope::SettingsRead)
            )
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Scope::parse(s)
    }
}

impl TryFrom<String> for Scope {
    type Error = Error;

    fn try_from(s: String) -> Result<Self> {
        Scope::parse(&s)
    }
}

impl From<Scope> for &'static str {
    fn from(s: Scope) -> Self {
        s.as_str()
    }
}

/// The non-empty set of scopes of one token; `*` stands alone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<&'static str>")]
pub struct ScopeSet(BTreeSet<Scope>);

impl ScopeSet {
    /// Builds a set; refuses an empty set and `*` combined with anything else. Duplicates collapse.
    pub fn new(scopes: impl IntoIterator<Item = Scope>) -> Result<ScopeSet> {
        let set: BTreeSet<Scope> = scopes.into_iter().collect();
        if set.is_empty() {
            return Err(Error::validation(
                "scopes",
                "at least one scope is required",
            ));
        }
        if set.len() > 1 && set.contains(&Scope::All) {
            return Err(Error::validation(
                "scopes",
                "'*' grants everything and cannot be combined with other scopes",
            ));
        }
        Ok(ScopeSet(set))
    }

    /// Parses wire names (e.g. from a JSON array), with the rules of [`ScopeSet::new`].
    pub fn parse<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Result<ScopeSet> {
        let scopes = names
            .into_iter()
            .map(|n| Scope::parse(n.as_ref().trim()))
            .collect::<Result<Vec<_>>>()?;
        ScopeSet::new(scopes)
    }

    /// Whether a token with these scopes may do what needs `required`.
    pub fn allows(&self, required: Scope) -> bool {
        self.0.iter().any(|held| held.grants(required))
    }

    /// `Ok` when [`ScopeSet::allows`] `required`, else the `missing_scope` error naming it (403).
    pub fn require(&self, required: Scope) -> Result<()> {
        if self.allows(required) {
            Ok(())
        } else {
            Err(Error::MissingScope(required.as_str()))
        }
    }

    /// The scopes, in canonical order.
    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }
}

/// Comma-separated wire names, as on the command line (`--scopes monitoring:read,agent:report`).
impl FromStr for ScopeSet {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        ScopeSet::parse(s.split(',').filter(|part| !part.trim().is_empty()))
    }
}

impl TryFrom<Vec<String>> for ScopeSet {
    type Error = Error;

    fn try_from(names: Vec<String>) -> Result<Self> {
        ScopeSet::parse(names)
    }
}

impl From<ScopeSet> for Vec<&'static str> {
    fn from(set: ScopeSet) -> Self {
        set.iter().map(Scope::as_str).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_roundtrip() {
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()).unwrap(), scope);
            assert_eq!(scope.to_string(), scope.as_str());
        }
        let err = Scope::parse("monitoring:admin").unwrap_err();
        assert_eq!(err.code(), "validation_error");
        assert!(err.to_string().contains("'monitoring:admin'"), "{err}");
    }

    #[test]
    fn set_rules() {
        assert!(ScopeSet::parse(Vec::<String>::new()).is_err());
        let err = "*,monitoring:read".parse::<ScopeSet>().unwrap_err();
        assert!(err.to_string().contains("cannot be combined"), "{err}");
        let err = "monitoring:read,bogus".parse::<ScopeSet>().unwrap_err();
        assert!(err.to_string().contains("'bogus'"), "{err}");
        let set: ScopeSet = " settings:read , monitoring:read,settings:read"
            .parse()
            .unwrap();
        assert_eq!(
            Vec::<&str>::from(set),
            ["monitoring:read", "settings:read"],
            "canonical order, duplicates collapsed"
        );
    }

    #[test]
    fn implication() {
        let write: ScopeSet = "monitoring:write,settings:write".parse().unwrap();
        assert!(write.allows(Scope::MonitoringRead));
        assert!(write.allows(Scope::SettingsRead));
        assert!(!write.allows(Scope::AgentReport));
        let read: ScopeSet = "monitoring:read,settings:read".parse().unwrap();
        assert!(!read.allows(Scope::MonitoringWrite));
        assert!(!read.allows(Scope::SettingsWrite));
        assert_eq!(
            read.require(Scope::SettingsWrite).unwrap_err().code(),
            "missing_scope"
        );
        let star: ScopeSet = "*".parse().unwrap();
        assert!(Scope::ALL.into_iter().all(|s| star.allows(s)));
    }

    #[test]
    fn serde_is_the_wire_names_and_validates() {
        let set: ScopeSet = "agent:report,docker:report".parse().unwrap();
        let json = serde_json::to_string(&set).unwrap();
        assert_eq!(json, r#"["agent:report","docker:report"]"#);
        assert_eq!(serde_json::from_str::<ScopeSet>(&json).unwrap(), set);
        assert!(serde_json::from_str::<ScopeSet>(r#"["*","audit:read"]"#).is_err());
        assert!(serde_json::from_str::<ScopeSet>(r#"["nope"]"#).is_err());
    }

    #[test]
    fn every_pair_follows_the_rule() {
        for held in Scope::ALL {
            let set = ScopeSet::new([held]).unwrap();
            for required in Scope::ALL {
                let expected = held == required
                    || held == Scope::All
                    || (held, required) == (Scope::MonitoringWrite, Scope::MonitoringRead)
                    || (held, required) == (Scope::SettingsWrite, Scope::SettingsRead);
                assert_eq!(set.allows(required), expected, "{held} -> {required}");
            }
        }
    }
}
