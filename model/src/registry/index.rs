//! The identity index of the registry: which mergeable resources carry which strong identity
//! facts, so a new record finds its merge candidates without scanning every resource.

use std::collections::{BTreeSet, HashMap};

use crate::identity::{match_identities, short_hostname, type_auto_merges, MatchReason};
use crate::names::ResourceType;
use crate::record::SourceRecord;
use crate::types::{Identity, Resource};

/// One indexed identity fact.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Fact {
    /// A machine id.
    Machine(String),
    /// A DMI UUID.
    Dmi(String),
    /// A short hostname (every auto-merge below machine/DMI needs a shared short hostname).
    Host(String),
}

/// Resources of auto-merging types (agent, physical disk) by type and identity fact.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct IdentityIndex {
    by_fact: HashMap<(ResourceType, Fact), BTreeSet<String>>,
}

/// The facts under which an identity is indexed.
fn facts(identity: &Identity) -> impl Iterator<Item = Fact> + '_ {
    let machine = identity.machine_id.iter().map(|m| Fact::Machine(m.clone()));
    let dmi = identity.dmi_uuid.iter().map(|d| Fact::Dmi(d.clone()));
    let hosts = identity
        .hostnames
        .iter()
        .map(|h| Fact::Host(short_hostname(h).to_owned()));
    machine.chain(dmi).chain(hosts)
}

/// Whether two identities share a short hostname.
fn share_hostname(a: &Identity, b: &Identity) -> bool {
    a.hostnames.iter().any(|h| {
        b.hostnames
            .iter()
            .any(|g| short_hostname(h) == short_hostname(g))
    })
}

impl IdentityIndex {
    /// Indexes a resource (no-op for types that never merge).
    pub(super) fn insert(&mut self, resource: &Resource) {
        if !type_auto_merges(resource.resource_type) {
            return;
        }
        for fact in facts(&resource.identity) {
            self.by_fact
                .entry((resource.resource_type, fact))
                .or_default()
                .insert(resource.id.clone());
        }
    }

    /// Removes a resource as it was indexed.
    pub(super) fn remove(&mut self, resource: &Resource) {
        if !type_auto_merges(resource.resource_type) {
            return;
        }
        for fact in facts(&resource.identity) {
            let key = (resource.resource_type, fact);
            if let Some(ids) = self.by_fact.get_mut(&key) {
                ids.remove(&resource.id);
                if ids.is_empty() {
                    self.by_fact.remove(&key);
                }
            }
        }
    }

    /// The existing resource a record auto-merges into, if any: same type, a match of at least
    /// [`crate::identity::AUTO_MERGE_CONFIDENCE`], and for physical disks also the same parent
    /// (`parent_id`, the record's resolved parent) or a shared hostname. The strongest match
    /// wins, then the smallest id.
    pub(super) fn best_match<'a>(
        &self,
        record: &SourceRecord,
        parent_id: Option<&str>,
        resources: impl Fn(&str) -> Option<&'a Resource>,
    ) -> Option<String> {
        let resource_type = record.resource_type;
        if !type_auto_merges(resource_type) {
            return None;
        }
        let candidates: BTreeSet<&String> = facts(&record.identity)
            .filter_map(|fact| self.by_fact.get(&(resource_type, fact)))
            .flatten()
            .collect();
        candidates
            .into_iter()
            .filter_map(|id| {
                let resource = resources(id)?;
                let reason: MatchReason = match_identities(&record.identity, &resource.identity)?;
                let disk_ok = resource_type != ResourceType::PhysicalDisk
                    || (parent_id.is_some() && parent_id == resource.parent_id.as_deref())
                    || share_hostname(&record.identity, &resource.identity);
                (reason.auto_merges() && disk_ok).then_some((reason, id))
            })
            .min()
            .map(|(_, id)| id.clone())
    }
}
