//! The closed vocabularies of the model (resource types, sources, statuses, facet keys) and their
//! wire names.
//!
//! Each is a plain enum with `as_str`, `FromStr`, `Display` and serde as the exact upstream string,
//! so they also work as JSON object keys (`sourceStatus`).

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::ModelError;

/// Defines a fieldless enum whose wire form is a fixed string per variant.
macro_rules! name_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $kind:literal {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every variant, in declaration order (which is also the sort order).
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire name.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl FromStr for $name {
            type Err = ModelError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(ModelError::UnknownName { kind: $kind, value: s.to_owned() }),
                }
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_str(NameVisitor::<$name>::new($kind))
            }
        }
    };
}

/// Serde visitor shared by every name enum: reads a string and parses it.
struct NameVisitor<T> {
    kind: &'static str,
    target: std::marker::PhantomData<T>,
}

impl<T> NameVisitor<T> {
    /// A visitor expecting a name of `kind`.
    const fn new(kind: &'static str) -> Self {
        NameVisitor {
            kind,
            target: std::marker::PhantomData,
        }
    }
}

impl<T: FromStr<Err = ModelError>> Visitor<'_> for NameVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} name", self.kind)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        v.parse().map_err(E::custom)
    }
}

name_enum! {
    /// What kind of thing a resource is (SPEC §4 `type`).
    ResourceType, "resource type" {
        /// A host: hypervisor node, appliance, machine running the agent.
        Agent => "agent",
        /// A virtual machine.
        Vm => "vm",
        /// A system container (LXC).
        SystemContainer => "system-container",
        /// An application container (Docker/Podman, TrueNAS app).
        AppContainer => "app-container",
        /// A Docker Swarm service.
        DockerService => "docker-service",
        /// A Kubernetes cluster.
        K8sCluster => "k8s-cluster",
        /// A Kubernetes node.
        K8sNode => "k8s-node",
        /// A Kubernetes pod.
        Pod => "pod",
        /// A Kubernetes deployment.
        K8sDeployment => "k8s-deployment",
        /// Storage: PVE storage, ZFS pool or dataset, PBS datastore.
        Storage => "storage",
        /// A Proxmox Backup Server instance.
        Pbs => "pbs",
        /// A Proxmox Mail Gateway instance.
        Pmg => "pmg",
        /// A Ceph cluster.
        Ceph => "ceph",
        /// A physical disk (note the upstream underscore).
        PhysicalDisk => "physical_disk",
        /// A network share (SMB/NFS export).
        NetworkShare => "network-share",
    }
}

name_enum! {
    /// Where a piece of information came from (SPEC §4 `sources`).
    Source, "source" {
        /// Proxmox VE.
        Proxmox => "proxmox",
        /// Proxmox Backup Server.
        Pbs => "pbs",
        /// Proxmox Mail Gateway.
        Pmg => "pmg",
        /// TrueNAS SCALE/CORE.
        Truenas => "truenas",
        /// The host agent.
        Agent => "agent",
        /// The Docker/Podman agent.
        Docker => "docker",
        /// The Kubernetes agent.
        Kubernetes => "kubernetes",
    }
}

name_enum! {
    /// The aggregate health of a resource.
    Status, "status" {
        /// Up and reporting normally.
        Online => "online",
        /// Down, stopped or unreachable.
        Offline => "offline",
        /// Up but degraded, or its only sources went stale.
        Warning => "warning",
        /// Nothing is known.
        Unknown => "unknown",
    }
}

name_enum! {
    /// How current one source's view of a resource is (`sourceStatus[source].status`).
    SourceState, "source state" {
        /// Observed within the source's staleness threshold.
        Online => "online",
        /// Not observed for longer than the staleness threshold.
        Stale => "stale",
        /// Not observed for longer than the source's offline threshold.
        Offline => "offline",
        /// Not determined (accepted on the wire; the registry always determines a state).
        Unknown => "unknown",
    }
}

name_enum! {
    /// The top-level keys under which per-source details ("facets") sit in a resource's JSON.
    FacetKey, "facet key" {
        /// Proxmox VE details (node, vmid, instance, …).
        Proxmox => "proxmox",
        /// PBS details.
        Pbs => "pbs",
        /// PMG details.
        Pmg => "pmg",
        /// TrueNAS details.
        Truenas => "truenas",
        /// Docker details.
        Docker => "docker",
        /// Kubernetes details.
        Kubernetes => "kubernetes",
        /// Host agent details.
        Agent => "agent",
        /// Storage details (any source).
        Storage => "storage",
        /// Physical disk details (any source).
        PhysicalDisk => "physicalDisk",
    }
}

impl Source {
    /// Number of sources.
    pub const COUNT: usize = Source::ALL.len();

    /// Position in [`Source::ALL`], for per-source arrays.
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl FacetKey {
    /// The facet a source writes its own details under.
    pub const fn of_source(source: Source) -> FacetKey {
        match source {
            Source::Proxmox => FacetKey::Proxmox,
            Source::Pbs => FacetKey::Pbs,
            Source::Pmg => FacetKey::Pmg,
            Source::Truenas => FacetKey::Truenas,
            Source::Agent => FacetKey::Agent,
            Source::Docker => FacetKey::Docker,
            Source::Kubernetes => FacetKey::Kubernetes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_roundtrip() {
        for t in ResourceType::ALL {
            assert_eq!(t.as_str().parse::<ResourceType>(), Ok(*t));
            let json = serde_json::to_string(t).expect("serialise");
            assert_eq!(
                serde_json::from_str::<ResourceType>(&json).expect("parse"),
                *t
            );
        }
        for (i, s) in Source::ALL.iter().enumerate() {
            assert_eq!(s.as_str().parse::<Source>(), Ok(*s));
            assert_eq!(s.index(), i);
        }
        assert_eq!(Source::COUNT, 7);
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>(), Ok(*s));
        }
        for s in SourceState::ALL {
            assert_eq!(s.as_str().parse::<SourceState>(), Ok(*s));
        }
        for k in FacetKey::ALL {
            assert_eq!(k.as_str().parse::<FacetKey>(), Ok(*k));
        }
    }

    #[test]
    fn upstream_spellings() {
        assert_eq!(ResourceType::PhysicalDisk.as_str(), "physical_disk");
        assert_eq!(
            ResourceType::SystemContainer.to_string(),
            "system-container"
        );
        assert_eq!(FacetKey::PhysicalDisk.as_str(), "physicalDisk");
        assert_eq!(FacetKey::of_source(Source::Truenas), FacetKey::Truenas);
        assert!(matches!(
            "lxc".parse::<ResourceType>(),
            Err(ModelError::UnknownName {
                kind: "resource type",
                ..
            })
        ));
        assert!(serde_json::from_str::<Source>("\"pve\"").is_err());
    }

    #[test]
    fn names_work_as_json_keys() {
        let mut map = std::collections::BTreeMap::new();
        map.insert(Source::Agent, 1);
        let json = serde_json::to_string(&map).expect("serialise");
        assert_eq!(json, "{\"agent\":1}");
        let back: std::collections::BTreeMap<Source, i32> =
            serde_json::from_str(&json).expect("parse");
        assert_eq!(back, map);
    }
}
