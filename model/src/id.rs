//! Stable resource ids (upstream §6.3): `<type>-<first 8 bytes of SHA-256(stable key) as hex>`.
//!
//! The stable key comes from identity where upstream derives it from identity (Proxmox guests,
//! hosts with a machine id / DMI UUID / cluster, physical disks with a disk-unique id), otherwise
//! from `<source>:<sourceId>`. The same inputs give the same id forever, across restarts.

use sha2::{Digest, Sha256};

use crate::identity::is_matchable_ip;
use crate::names::{ResourceType, Source};
use crate::record::SourceRecord;
use crate::types::Identity;

/// The id of a resource of `resource_type` whose stable key is `stable_key`.
pub fn stable_id(resource_type: ResourceType, stable_key: &str) -> String {
    let digest = Sha256::digest(stable_key.as_bytes());
    let type_name = resource_type.as_str();
    let mut id = String::with_capacity(type_name.len() + 17);
    id.push_str(type_name);
    id.push('-');
    id.push_str(&hex::encode(&digest[..8]));
    id
}

/// The identity-derived stable key of a (normalised) identity, by upstream priority:
/// `machine:<id>` → `dmi:<uuid>` → `cluster:<cluster>:<hostname>` → `hostname:<hostname>` →
/// `ip:<ip>`. The hostname is the first (sorted) full hostname; the IP the first matchable one.
pub fn identity_key(identity: &Identity) -> Option<String> {
    if let Some(machine) = &identity.machine_id {
        return Some(format!("machine:{machine}"));
    }
    if let Some(dmi) = &identity.dmi_uuid {
        return Some(format!("dmi:{dmi}"));
    }
    if let Some(host) = identity.hostnames.first() {
        return Some(match &identity.cluster_name {
            Some(cluster) => format!("cluster:{cluster}:{host}"),
            None => format!("hostname:{host}"),
        });
    }
    identity
        .ip_addresses
        .iter()
        .find(|ip| is_matchable_ip(ip))
        .map(|ip| format!("ip:{ip}"))
}

/// The stable key of a (canonical) record of `source`.
///
/// `proxmox-guest:<guestKey>` when the record has a guest key; the identity key for hosts
/// (`agent`) that have a machine id, DMI UUID or cluster name and for physical disks with a
/// machine id or DMI UUID; `<source>:<sourceId>` otherwise.
pub fn record_stable_key(source: Source, record: &SourceRecord) -> String {
    if let Some(guest) = &record.guest_key {
        return format!("proxmox-guest:{guest}");
    }
    let identity = &record.identity;
    let strong = identity.machine_id.is_some() || identity.dmi_uuid.is_some();
    let derived = match record.resource_type {
        ResourceType::Agent => strong || identity.cluster_name.is_some(),
        ResourceType::PhysicalDisk => strong,
        _ => false,
    };
    derived
        .then(|| identity_key(identity))
        .flatten()
        .unwrap_or_else(|| format!("{}:{}", source.as_str(), record.source_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::Status;

    #[test]
    fn pinned_ids() {
        // These literals must never change: they are persisted and used by clients.
        assert_eq!(
            stable_id(ResourceType::Agent, "machine:abc123"),
            "agent-103eba7607098875"
        );
        assert_eq!(
            stable_id(ResourceType::Vm, "proxmox-guest:pve1:100"),
            "vm-978ee110202da67b"
        );
        assert_eq!(
            stable_id(ResourceType::AppContainer, "docker:4f2a9c"),
            "app-container-ddf7a6f9a52c8a17"
        );
        assert_eq!(
            stable_id(ResourceType::PhysicalDisk, "machine:wwn-0x5000c500a1b2c3d4"),
            "physical_disk-91fecbf8969b5118"
        );
    }

    #[test]
    fn identity_key_priority() {
        let mut id = Identity {
            machine_id: Some("m".into()),
            dmi_uuid: Some("d".into()),
            hostnames: vec!["a.lan".into(), "b".into()],
            ip_addresses: vec!["127.0.0.1".into(), "10.0.0.1".into()],
            cluster_name: Some("c".into()),
            ..Identity::default()
        };
        assert_eq!(identity_key(&id).as_deref(), Some("machine:m"));
        id.machine_id = None;
        assert_eq!(identity_key(&id).as_deref(), Some("dmi:d"));
        id.dmi_uuid = None;
        assert_eq!(identity_key(&id).as_deref(), Some("cluster:c:a.lan"));
        id.cluster_name = None;
        assert_eq!(identity_key(&id).as_deref(), Some("hostname:a.lan"));
        id.hostnames.clear();
        assert_eq!(identity_key(&id).as_deref(), Some("ip:10.0.0.1"));
        id.ip_addresses.pop();
        assert_eq!(identity_key(&id), None);
    }

    #[test]
    fn record_keys() {
        let mut host = SourceRecord::new("agent-7", ResourceType::Agent, "h", Status::Online);
        assert_eq!(record_stable_key(Source::Agent, &host), "agent:agent-7");
        host.identity.hostnames = vec!["h1".into()];
        assert_eq!(record_stable_key(Source::Agent, &host), "agent:agent-7");
        host.identity.cluster_name = Some("prod".into());
        assert_eq!(record_stable_key(Source::Proxmox, &host), "cluster:prod:h1");
        host.identity.machine_id = Some("abc".into());
        assert_eq!(record_stable_key(Source::Agent, &host), "machine:abc");

        let mut guest = SourceRecord::new("pve1-100", ResourceType::Vm, "g", Status::Online);
        guest.identity.machine_id = Some("abc".into());
        assert_eq!(
            record_stable_key(Source::Proxmox, &guest),
            "proxmox:pve1-100"
        );
        guest.guest_key = Some("pve1:100".into());
        assert_eq!(
            record_stable_key(Source::Agent, &guest),
            "proxmox-guest:pve1:100"
        );

        let mut disk = SourceRecord::new("sda", ResourceType::PhysicalDisk, "sda", Status::Online);
        disk.identity.cluster_name = Some("prod".into());
        disk.identity.hostnames = vec!["h1".into()];
        assert_eq!(record_stable_key(Source::Agent, &disk), "agent:sda");
        disk.identity.dmi_uuid = Some("wwn".into());
        assert_eq!(record_stable_key(Source::Agent, &disk), "dmi:wwn");
    }
}
