//! First start: create the admin named by `PULSE_AUTH_USER`/`PULSE_AUTH_PASS`, or, when none is named
//! and no admin exists, issue a one-time bootstrap token (only its hash is stored).

use serde::{Deserialize, Serialize};

use super::crypto::{ct_eq, random_hex, sha256_hex};
use super::password::{check_password_policy, MIN_PASSWORD_CHARS};
use super::user::{validate_username, Role, User};
use super::{DEFAULT_ORG_ID, TOKEN_PREFIX};
use crate::error::{Error, Result};
use crate::store::{Document, DocumentStore, Namespace, UserStore};

/// What [`ensure_admin_or_bootstrap`] did.
#[derive(Clone, PartialEq, Eq)]
pub enum BootstrapOutcome {
    /// The admin named by the environment was created (owner of the default org).
    AdminCreated {
        /// Its username.
        username: String,
    },
    /// An admin already exists (or the user named by the environment exists); nothing changed.
    AdminExists,
    /// No admin exists: this raw bootstrap token (print it once to the log) lets a loopback client
    /// finish setup. It replaces any earlier bootstrap token.
    BootstrapToken(String),
}

impl std::fmt::Debug for BootstrapOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BootstrapOutcome::AdminCreated { username } => f
                .debug_struct("AdminCreated")
                .field("username", username)
                .finish(),
            BootstrapOutcome::AdminExists => f.write_str("AdminExists"),
            BootstrapOutcome::BootstrapToken(_) => f.write_str("BootstrapToken(***)"),
        }
    }
}

/// The stored hash of the current bootstrap token.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BootstrapTokenDoc {
    /// Hex SHA-256 of the raw bootstrap token.
    hash: String,
    /// Issue time, unix seconds.
    created_at: u64,
}

impl Document for BootstrapTokenDoc {
    const NAME: &'static str = "auth.bootstrap_token";
    const VERSION: u32 = 1;
}

/// Makes sure the server can be administered. With both `env_user` and `env_pass`: creates that user
/// as owner of the default org unless it exists (an existing user's password is never overwritten
/// from the environment; `pulse admin reset-password` does that). With neither: reports an existing
/// admin, or issues a new bootstrap token. With only one of them: a configuration error naming the
/// missing variable. `PULSE_AUTH_PASS` follows the same 12-character policy as every password.
pub fn ensure_admin_or_bootstrap<S>(
    store: &S,
    env_user: Option<&str>,
    env_pass: Option<&str>,
    now: u64,
) -> Result<BootstrapOutcome>
where
    S: UserStore + DocumentStore,
{
    match (env_user, env_pass) {
        (Some(username), Some(password)) => {
            validate_username(username).map_err(|_| Error::Config {
                key: "PULSE_AUTH_USER".into(),
                value: username.into(),
                allowed: "a username without spaces or control characters, 1-254 characters".into(),
            })?;
            check_password_policy(password).map_err(|_| Error::Config {
                key: "PULSE_AUTH_PASS".into(),
                value: "***".into(),
                allowed: format!("a password of at least {MIN_PASSWORD_CHARS} characters"),
            })?;
            if store.get_user(username)?.is_some() {
                clear_bootstrap_token(store)?;
                return Ok(BootstrapOutcome::AdminExists);
            }
            let mut user = User::new(username, password, now)?;
            user.roles.insert(DEFAULT_ORG_ID.to_owned(), Role::Owner);
            store.put_user(&user)?;
            clear_bootstrap_token(store)?;
            Ok(BootstrapOutcome::AdminCreated {
                username: user.username,
            })
        }
        (Some(_), None) => Err(missing_half("PULSE_AUTH_PASS")),
        (None, Some(_)) => Err(missing_half("PULSE_AUTH_USER")),
        (None, None) if store.count_admins()? > 0 => {
            clear_bootstrap_token(store)?;
            Ok(BootstrapOutcome::AdminExists)
        }
        (None, None) => {
            let raw = format!("{TOKEN_PREFIX}{}", random_hex(32));
            let doc = BootstrapTokenDoc {
                hash: sha256_hex(&raw),
                created_at: now,
            };
            store.save(Namespace::Global, &doc)?;
            Ok(BootstrapOutcome::BootstrapToken(raw))
        }
    }
}

/// Checks a presented bootstrap token (e.g. `X-Setup-Token`) in constant time; `unauthorized` when
/// none is pending or it does not match.
pub fn verify_bootstrap_token<S: DocumentStore>(store: &S, raw: &str) -> Result<()> {
    let doc: BootstrapTokenDoc = store.load(Namespace::Global)?.ok_or(Error::Unauthorized)?;
    if raw.len() <= 256 && ct_eq(&sha256_hex(raw), &doc.hash) {
        Ok(())
    } else {
        Err(Error::Unauthorized)
    }
}

/// Whether first-run setup is pending: a bootstrap token is waiting for the first admin.
pub fn bootstrap_pending<S: DocumentStore>(store: &S) -> Result<bool> {
    Ok(store
        .load::<BootstrapTokenDoc>(Namespace::Global)?
        .is_some())
}

/// Retires the bootstrap token (once an admin exists); harmless when there is none.
pub fn clear_bootstrap_token<S: DocumentStore>(store: &S) -> Result<()> {
    store.remove::<BootstrapTokenDoc>(Namespace::Global)?;
    Ok(())
}

/// The error for setting one of the two admin variables without the other.
fn missing_half(missing: &str) -> Error {
    Error::Config {
        key: missing.into(),
        value: String::new(),
        allowed: "PULSE_AUTH_USER and PULSE_AUTH_PASS must be set together, or neither".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::authenticate;
    use crate::store::Store;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        (dir, store)
    }

    #[test]
    fn env_admin_is_created_once() {
        let (_dir, store) = store();
        let outcome =
            ensure_admin_or_bootstrap(&store, Some("admin"), Some("a long password"), 5).unwrap();
        assert_eq!(
            outcome,
            BootstrapOutcome::AdminCreated {
                username: "admin".into()
            }
        );
        let user = authenticate(&store, "admin", "a long password").unwrap();
        assert_eq!(user.role_in(DEFAULT_ORG_ID), Some(Role::Owner));
        let again =
            ensure_admin_or_bootstrap(&store, Some("admin"), Some("another password!"), 6).unwrap();
        assert_eq!(again, BootstrapOutcome::AdminExists);
        authenticate(&store, "admin", "a long password").unwrap();
        let plain = ensure_admin_or_bootstrap(&store, None, None, 7).unwrap();
        assert_eq!(plain, BootstrapOutcome::AdminExists);
    }

    #[test]
    fn bootstrap_token_when_nobody_can_log_in() {
        let (_dir, store) = store();
        let BootstrapOutcome::BootstrapToken(first) =
            ensure_admin_or_bootstrap(&store, None, None, 1).unwrap()
        else {
            panic!("expected a bootstrap token");
        };
        assert!(first.starts_with(TOKEN_PREFIX));
        verify_bootstrap_token(&store, &first).unwrap();
        let BootstrapOutcome::BootstrapToken(second) =
            ensure_admin_or_bootstrap(&store, None, None, 2).unwrap()
        else {
            panic!("expected a bootstrap token");
        };
        assert_eq!(
            verify_bootstrap_token(&store, &first).unwrap_err().code(),
            "unauthorized"
        );
        verify_bootstrap_token(&store, &second).unwrap();
        assert!(
            !format!("{:?}", BootstrapOutcome::BootstrapToken(second.clone())).contains(&second)
        );

        let mut admin = User::new("root", "a long password", 3).unwrap();
        admin.roles.insert("default".into(), Role::Admin);
        store.put_user(&admin).unwrap();
        assert_eq!(
            ensure_admin_or_bootstrap(&store, None, None, 4).unwrap(),
            BootstrapOutcome::AdminExists
        );
        assert!(
            verify_bootstrap_token(&store, &second).is_err(),
            "retired once an admin exists"
        );
    }

    #[test]
    fn env_errors_name_the_variable_and_hide_the_password() {
        let (_dir, store) = store();
        let key = |r: Result<BootstrapOutcome>| match r.unwrap_err() {
            Error::Config { key, value, .. } => (key, value),
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(
            key(ensure_admin_or_bootstrap(&store, Some("a"), None, 0)).0,
            "PULSE_AUTH_PASS"
        );
        assert_eq!(
            key(ensure_admin_or_bootstrap(&store, None, Some("x"), 0)).0,
            "PULSE_AUTH_USER"
        );
        let (k, v) = key(ensure_admin_or_bootstrap(
            &store,
            Some("admin"),
            Some("short1"),
            0,
        ));
        assert_eq!((k.as_str(), v.as_str()), ("PULSE_AUTH_PASS", "***"));
        let (k, _) = key(ensure_admin_or_bootstrap(
            &store,
            Some("a b"),
            Some("a long password"),
            0,
        ));
        assert_eq!(k, "PULSE_AUTH_USER");
        assert_eq!(store.count_admins().unwrap(), 0);
    }
}
