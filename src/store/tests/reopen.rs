//! Everything durable is still there after the store is dropped and reopened.

use std::fs;

use super::new_token;
use crate::auth::{create_session, Role, User};
use crate::store::{
    Document, DocumentStore, Namespace, SessionStore, Store, TokenStore, UserStore,
};

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Relay {
    url: String,
}

impl Document for Relay {
    const NAME: &'static str = "relay";
    const VERSION: u32 = 1;
    const SEALED: bool = true;
}

#[test]
fn tokens_users_sessions_and_settings_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (_, token) = new_token("ci", 1);
    let mut user = User::new("alice", "correct horse battery", 1).unwrap();
    user.roles.insert("default".into(), Role::Owner);
    let session = {
        let store = Store::open(dir.path()).unwrap();
        store.put_token(&token).unwrap();
        store.put_user(&user).unwrap();
        store
            .save(
                Namespace::Global,
                &Relay {
                    url: "wss://relay".into(),
                },
            )
            .unwrap();
        let issued = create_session(&store, "alice", "default", true, 1).unwrap();
        store.flush().unwrap();
        issued.session
    };
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.token_by_hash(&token.hash).unwrap(), Some(token));
    assert_eq!(store.get_user("alice").unwrap(), Some(user));
    assert_eq!(store.get_session(&session.id_hash).unwrap(), Some(session));
    assert_eq!(
        store.load::<Relay>(Namespace::Global).unwrap(),
        Some(Relay {
            url: "wss://relay".into()
        })
    );
    assert_eq!(store.data_dir(), dir.path());
    assert!(store.size_on_disk().unwrap() > 0);
}

#[test]
fn a_second_open_while_the_first_is_alive_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let first = Store::open(dir.path()).unwrap();
    let clone = first.clone();
    let err = Store::open(dir.path()).unwrap_err();
    assert_eq!(err.code(), "store_error");
    assert!(err.to_string().contains("another pulse process"), "{err}");
    drop(first);
    clone.flush().unwrap();
}

#[test]
fn a_lost_or_foreign_key_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join(".encryption.key");
    drop(Store::open(dir.path()).unwrap());
    let original = fs::read(&key_path).unwrap();

    fs::remove_file(&key_path).unwrap();
    let err = Store::open(dir.path()).unwrap_err().to_string();
    assert!(err.contains("missing"), "{err}");
    assert!(
        !key_path.exists(),
        "no new key is made for a store that had one"
    );

    fs::write(&key_path, [9u8; 32]).unwrap();
    let err = Store::open(dir.path()).unwrap_err().to_string();
    assert!(err.contains("does not belong"), "{err}");

    fs::write(&key_path, &original[..16]).unwrap();
    let err = Store::open(dir.path()).unwrap_err().to_string();
    assert!(err.contains("wrong length"), "{err}");

    fs::write(&key_path, &original).unwrap();
    Store::open(dir.path()).unwrap();
}
