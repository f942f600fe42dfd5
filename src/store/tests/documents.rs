//! Typed, versioned, optionally sealed documents.

use serde::{Deserialize, Serialize};

use crate::store::{Document, DocumentStore, Namespace, SettingsStore, Store};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Endpoints {
    hosts: Vec<String>,
}

impl Document for Endpoints {
    const NAME: &'static str = "endpoints";
    const VERSION: u32 = 1;
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct EndpointsV2 {
    hosts: Vec<String>,
}

impl Document for EndpointsV2 {
    const NAME: &'static str = "endpoints";
    const VERSION: u32 = 2;
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Smtp {
    password: String,
}

impl Document for Smtp {
    const NAME: &'static str = "smtp";
    const VERSION: u32 = 1;
    const SEALED: bool = true;
}

#[test]
fn per_namespace_roundtrip_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let a = Endpoints {
        hosts: vec!["a".into()],
    };
    let b = Endpoints {
        hosts: vec!["b".into()],
    };
    store.save(Namespace::Org("acme"), &a).unwrap();
    store.save(Namespace::Org("beta"), &b).unwrap();
    assert_eq!(
        store.load::<Endpoints>(Namespace::Org("acme")).unwrap(),
        Some(a)
    );
    assert_eq!(
        store.load::<Endpoints>(Namespace::Org("beta")).unwrap(),
        Some(b)
    );
    assert_eq!(store.load::<Endpoints>(Namespace::Global).unwrap(), None);
    assert!(store.remove::<Endpoints>(Namespace::Org("acme")).unwrap());
    assert!(!store.remove::<Endpoints>(Namespace::Org("acme")).unwrap());
    assert_eq!(
        store.load::<Endpoints>(Namespace::Org("acme")).unwrap(),
        None
    );
}

#[test]
fn another_schema_version_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store
        .save(Namespace::Global, &Endpoints { hosts: vec![] })
        .unwrap();
    let err = store.load::<EndpointsV2>(Namespace::Global).unwrap_err();
    assert!(err.to_string().contains("schema version 1"), "{err}");
}

#[test]
fn sealed_documents_are_bound_to_their_place() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let doc = Smtp {
        password: "smtp-password-123".into(),
    };
    store.save(Namespace::Org("acme"), &doc).unwrap();
    let raw = store
        .get_document(Namespace::Org("acme"), "smtp")
        .unwrap()
        .unwrap();
    assert!(raw.sealed);
    assert!(!raw
        .body
        .windows(doc.password.len())
        .any(|w| w == doc.password.as_bytes()));
    assert_eq!(
        store.load::<Smtp>(Namespace::Org("acme")).unwrap(),
        Some(doc)
    );

    store
        .put_document(Namespace::Org("beta"), "smtp", &raw)
        .unwrap();
    let err = store.load::<Smtp>(Namespace::Org("beta")).unwrap_err();
    assert!(err.to_string().contains("cannot decrypt"), "{err}");
}

#[test]
fn names_and_orgs_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert!(store.get_document(Namespace::Org("a/b"), "x").is_err());
    assert!(store.get_document(Namespace::Global, "a/b").is_err());
    assert!(store.get_document(Namespace::Global, "").is_err());
}
