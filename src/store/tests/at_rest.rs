//! Secrets at rest: nothing secret is readable in any file of the data dir; the key file is 0600.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::new_token;
use crate::auth::{create_session, ensure_admin_or_bootstrap, BootstrapOutcome, User};
use crate::store::{Document, DocumentStore, Namespace, Store, TokenStore, UserStore};

#[derive(serde::Serialize, serde::Deserialize)]
struct Webhook {
    url: String,
    secret: String,
}

impl Document for Webhook {
    const NAME: &'static str = "webhooks";
    const VERSION: u32 = 1;
    const SEALED: bool = true;
}

/// Every file below `dir`, with its contents.
fn all_files(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            all_files(&path, out);
        } else {
            out.push((path.display().to_string(), fs::read(&path).unwrap()));
        }
    }
}

#[test]
fn no_secret_in_clear_in_any_file() {
    let dir = tempfile::tempdir().unwrap();
    let password = "alice-password-in-clear";
    let webhook_secret = "hmac-secret-in-clear-42";
    let webhook_url = "https://hooks.example.com/T000/B000/XXXXSECRETPATH";
    let (raw_token, bootstrap, session) = {
        let store = Store::open(dir.path()).unwrap();
        let (raw, record) = new_token("ci", 1);
        store.put_token(&record).unwrap();
        store
            .put_user(&User::new("alice", password, 1).unwrap())
            .unwrap();
        store
            .save(
                Namespace::Org("default"),
                &Webhook {
                    url: webhook_url.into(),
                    secret: webhook_secret.into(),
                },
            )
            .unwrap();
        let BootstrapOutcome::BootstrapToken(bootstrap) =
            ensure_admin_or_bootstrap(&store, None, None, 1).unwrap()
        else {
            panic!("no admin yet, expected a bootstrap token");
        };
        let session = create_session(&store, "alice", "default", false, 1).unwrap();
        store.flush().unwrap();
        (raw, bootstrap, session)
    };

    let secrets = [
        raw_token.as_str(),
        &raw_token[6..],
        &raw_token[20..40],
        password,
        webhook_secret,
        webhook_url,
        &bootstrap[6..],
        &session.token,
        &session.csrf,
    ];
    let mut files = Vec::new();
    all_files(dir.path(), &mut files);
    assert!(files.len() > 2, "{files:?}");
    for (name, bytes) in &files {
        for secret in secrets {
            let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
            assert!(!found, "a secret is in clear in {name}");
        }
    }
}

#[test]
fn key_file_is_0600_and_data_dir_0700() {
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("data");
    drop(Store::open(&data).unwrap());
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data.join(".encryption.key")), 0o600);
    assert_eq!(mode(&data), 0o700);
    assert_eq!(fs::read(data.join(".encryption.key")).unwrap().len(), 32);
}
