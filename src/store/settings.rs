//! Named, versioned documents per namespace (global or one org) in `v1/settings`, optionally sealed.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::codec::{decode, encode};
use super::secret_box::SecretBox;
use super::sled_store::{Store, Tree};
use crate::auth::validate_org_id;
use crate::error::{Error, Result};

/// Where a document lives: instance-wide, or inside one org's key prefix `org/<org>/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Namespace<'a> {
    /// Instance-wide settings (key prefix `global/`).
    Global,
    /// Settings of one org (key prefix `org/<org>/`).
    Org(&'a str),
}

impl Namespace<'_> {
    /// The full key of document `name` in this namespace, after validating both parts.
    fn key(self, name: &str) -> Result<String> {
        let valid_name = !name.is_empty()
            && name.len() <= 128
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !valid_name {
            return Err(Error::validation(
                "name",
                format!("document name {name:?} must be 1-128 of [A-Za-z0-9._-]"),
            ));
        }
        Ok(match self {
            Namespace::Global => format!("global/{name}"),
            Namespace::Org(org) => {
                validate_org_id(org)?;
                format!("org/{org}/{name}")
            }
        })
    }
}

/// A document as stored: its schema version, whether `body` is sealed, and the (maybe sealed)
/// MessagePack body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredDocument {
    /// Schema version of the document type that wrote it.
    pub version: u32,
    /// Whether `body` is encrypted with the store's [`SecretBox`].
    pub sealed: bool,
    /// The encoded (and maybe sealed) document.
    #[serde(with = "serde_bytes_compat")]
    pub body: Vec<u8>,
}

/// Raw, object-safe storage of named documents; typed access is [`DocumentStore`].
pub trait SettingsStore: Send + Sync {
    /// The stored document `name` in `ns`.
    fn get_document(&self, ns: Namespace<'_>, name: &str) -> Result<Option<StoredDocument>>;
    /// Inserts or replaces document `name` in `ns` (durable when this returns).
    fn put_document(&self, ns: Namespace<'_>, name: &str, doc: &StoredDocument) -> Result<()>;
    /// Deletes document `name` in `ns` (durable when this returns); `false` when there was none.
    fn delete_document(&self, ns: Namespace<'_>, name: &str) -> Result<bool>;
}

/// A typed document kept in a [`SettingsStore`] under a fixed name, with a schema version so a later
/// build can recognise (and migrate) what an earlier one wrote.
pub trait Document: Serialize + DeserializeOwned {
    /// The document's name, e.g. `"endpoints"`.
    const NAME: &'static str;
    /// The schema version this build writes and reads.
    const VERSION: u32;
    /// Whether the whole document is encrypted at rest (for documents holding secrets).
    const SEALED: bool = false;
}

/// Typed get/put of [`Document`]s, sealing those that hold secrets; implemented for every store that
/// is both a [`SettingsStore`] and a [`SecretBox`].
pub trait DocumentStore: SettingsStore + SecretBox {
    /// Loads document `D` from `ns`; an error when it was stored under another schema version.
    fn load<D: Document>(&self, ns: Namespace<'_>) -> Result<Option<D>> {
        let Some(stored) = self.get_document(ns, D::NAME)? else {
            return Ok(None);
        };
        if stored.version != D::VERSION {
            return Err(Error::Store(format!(
                "document '{}' was stored with schema version {}; this build reads version {}",
                D::NAME,
                stored.version,
                D::VERSION
            )));
        }
        let body = if stored.sealed {
            self.decrypt(&seal_context(ns, D::NAME, D::VERSION)?, &stored.body)?
        } else {
            stored.body
        };
        Ok(Some(rmp_serde::from_slice(&body)?))
    }

    /// Saves document `D` in `ns` (sealed when `D::SEALED`), durable when this returns.
    fn save<D: Document>(&self, ns: Namespace<'_>, doc: &D) -> Result<()> {
        let plain = rmp_serde::to_vec_named(doc)?;
        let body = if D::SEALED {
            self.encrypt(&seal_context(ns, D::NAME, D::VERSION)?, &plain)?
        } else {
            plain
        };
        let stored = StoredDocument {
            version: D::VERSION,
            sealed: D::SEALED,
            body,
        };
        self.put_document(ns, D::NAME, &stored)
    }

    /// Deletes document `D` from `ns`; `false` when there was none.
    fn remove<D: Document>(&self, ns: Namespace<'_>) -> Result<bool> {
        self.delete_document(ns, D::NAME)
    }
}

impl<S: SettingsStore + SecretBox + ?Sized> DocumentStore for S {}

/// The associated data of a sealed document: its key and version, so it cannot be moved elsewhere.
fn seal_context(ns: Namespace<'_>, name: &str, version: u32) -> Result<Vec<u8>> {
    Ok(format!("pulse/settings/{}#v{version}", ns.key(name)?).into_bytes())
}

impl SettingsStore for Store {
    fn get_document(&self, ns: Namespace<'_>, name: &str) -> Result<Option<StoredDocument>> {
        self.tree(Tree::Settings)
            .get(ns.key(name)?.as_bytes())?
            .map(|v| decode(&v))
            .transpose()
    }

    fn put_document(&self, ns: Namespace<'_>, name: &str, doc: &StoredDocument) -> Result<()> {
        self.tree(Tree::Settings)
            .insert(ns.key(name)?.as_bytes(), encode(doc)?)?;
        self.flush()
    }

    fn delete_document(&self, ns: Namespace<'_>, name: &str) -> Result<bool> {
        let existed = self
            .tree(Tree::Settings)
            .remove(ns.key(name)?.as_bytes())?
            .is_some();
        if existed {
            self.flush()?;
        }
        Ok(existed)
    }
}

/// Encodes `Vec<u8>` as one MessagePack binary value rather than an array of integers.
mod serde_bytes_compat {
    use std::fmt;

    use serde::de::{Deserializer, Error, SeqAccess, Visitor};
    use serde::Serializer;

    /// Writes the bytes as one binary value.
    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(bytes)
    }

    /// Reads a binary value (or, tolerantly, a sequence of bytes).
    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        d.deserialize_byte_buf(BytesVisitor)
    }

    /// Collects bytes from either representation.
    struct BytesVisitor;

    impl<'de> Visitor<'de> for BytesVisitor {
        type Value = Vec<u8>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("bytes")
        }

        fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }

        fn visit_byte_buf<E: Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
            while let Some(b) = seq.next_element::<u8>()? {
                out.push(b);
            }
            Ok(out)
        }
    }
}
