//! Users with a password hash and a role per org, and password login against the store.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::password::{hash_password, verify_password};
use crate::error::{Error, Result};
use crate::store::UserStore;

/// Longest username in characters (room for an e-mail address, as hosted signup uses).
const MAX_USERNAME_CHARS: usize = 254;

/// An Argon2id hash of a password nobody has, verified when the username is unknown so that a login
/// for an unknown user costs the same time as one for a known user (no user enumeration by timing).
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$BwcHBwcHBwcHBwcHBwcHBw$SFa/PxBiSs0tlnNqG464jsn5hTSHOQK62Yp8Zmgrens";

/// A member's role in one org, from most to least powerful.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Owns the org: everything, including deleting it and managing owners.
    Owner,
    /// Administers the org: settings, members, tokens.
    Admin,
    /// Changes monitoring configuration and alerts.
    Editor,
    /// Reads only.
    Viewer,
}

impl Role {
    /// Rank for comparison: higher is more powerful.
    fn rank(self) -> u8 {
        match self {
            Role::Owner => 3,
            Role::Admin => 2,
            Role::Editor => 1,
            Role::Viewer => 0,
        }
    }

    /// Whether this role can do what needs `required` (every role includes the ones below it).
    pub fn includes(self, required: Role) -> bool {
        self.rank() >= required.rank()
    }

    /// The wire name (`owner`, `admin`, `editor`, `viewer`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Viewer => "viewer",
        }
    }
}

/// A user account.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// Unique login name.
    pub username: String,
    /// Argon2id PHC string of the password.
    pub password_hash: String,
    /// Role per org id.
    #[serde(default)]
    pub roles: BTreeMap<String, Role>,
    /// Creation time, unix seconds.
    pub created_at: u64,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("username", &self.username)
            .field("password_hash", &"***")
            .field("roles", &self.roles)
            .field("created_at", &self.created_at)
            .finish()
    }
}

impl User {
    /// A new user with no roles yet; validates the username and the password policy, hashes the password.
    pub fn new(username: &str, password: &str, now: u64) -> Result<User> {
        validate_username(username)?;
        Ok(User {
            username: username.to_owned(),
            password_hash: hash_password(password)?,
            roles: BTreeMap::new(),
            created_at: now,
        })
    }

    /// Replaces the password (policy checked).
    pub fn set_password(&mut self, password: &str) -> Result<()> {
        self.password_hash = hash_password(password)?;
        Ok(())
    }

    /// The user's role in `org`, if a member.
    pub fn role_in(&self, org: &str) -> Option<Role> {
        self.roles.get(org).copied()
    }

    /// Whether the user is owner or admin of at least one org.
    pub fn is_admin(&self) -> bool {
        self.roles.values().any(|r| r.includes(Role::Admin))
    }
}

/// Checks a username: 1-254 characters, no whitespace or control characters.
pub fn validate_username(username: &str) -> Result<()> {
    let ok = !username.is_empty()
        && username.chars().count() <= MAX_USERNAME_CHARS
        && !username
            .chars()
            .any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(Error::validation(
            "username",
            format!(
                "must be 1-{MAX_USERNAME_CHARS} characters without spaces or control characters"
            ),
        ))
    }
}

/// Checks a username/password pair; `unauthorized` (401) for an unknown user and a wrong password
/// alike, in about the same time.
pub fn authenticate(users: &dyn UserStore, username: &str, password: &str) -> Result<User> {
    match users.get_user(username)? {
        Some(user) if verify_password(password, &user.password_hash)? => Ok(user),
        Some(_) => Err(Error::Unauthorized),
        None => {
            verify_password(password, DUMMY_HASH)?;
            Err(Error::Unauthorized)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn roles_order_and_admin() {
        assert!(Role::Owner.includes(Role::Admin));
        assert!(Role::Admin.includes(Role::Editor));
        assert!(!Role::Editor.includes(Role::Admin));
        assert!(!Role::Viewer.includes(Role::Editor));
        assert_eq!(serde_json::to_string(&Role::Editor).unwrap(), "\"editor\"");
        assert_eq!(Role::Viewer.as_str(), "viewer");

        let mut u = User::new("alice", "correct horse battery", 0).unwrap();
        assert!(!u.is_admin());
        u.roles.insert("a".into(), Role::Admin);
        u.roles.insert("b".into(), Role::Viewer);
        assert!(u.is_admin());
        assert_eq!(u.role_in("b"), Some(Role::Viewer));
        assert_eq!(u.role_in("c"), None);
        assert!(!format!("{u:?}").contains(&u.password_hash));
    }

    #[test]
    fn usernames() {
        validate_username("alice@example.com").unwrap();
        for bad in ["", "a b", "a\nb", &"x".repeat(255)] {
            assert!(validate_username(bad).is_err(), "{bad:?}");
        }
        assert!(User::new("alice", "short", 0).is_err());
    }

    #[test]
    fn authenticate_checks_password_and_hides_unknown_users() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut alice = User::new("alice", "correct horse battery", 0).unwrap();
        store.put_user(&alice).unwrap();
        assert_eq!(
            authenticate(&store, "alice", "correct horse battery").unwrap(),
            alice
        );
        assert_eq!(
            authenticate(&store, "alice", "wrong password!")
                .unwrap_err()
                .code(),
            "unauthorized"
        );
        assert_eq!(
            authenticate(&store, "bob", "correct horse battery")
                .unwrap_err()
                .code(),
            "unauthorized"
        );
        alice.set_password("another long password").unwrap();
        store.put_user(&alice).unwrap();
        assert!(authenticate(&store, "alice", "correct horse battery").is_err());
        authenticate(&store, "alice", "another long password").unwrap();
    }

    #[test]
    fn dummy_hash_is_well_formed() {
        assert!(!verify_password("anything at all", DUMMY_HASH).unwrap());
    }
}
