//! Browser sessions: a random id in the HttpOnly cookie, a random CSRF token echoed in `X-CSRF-Token`;
//! the store keeps only their SHA-256 hashes.

use serde::{Deserialize, Serialize};

use super::crypto::{ct_eq, random_hex, sha256_hex};
use super::validate_org_id;
use crate::error::{Error, Result};
use crate::store::SessionStore;

/// Lifetime of a session: 24 hours.
pub const SESSION_TTL_SECS: u64 = 24 * 60 * 60;
/// Lifetime of a session created with `rememberMe`: 30 days.
pub const REMEMBER_ME_TTL_SECS: u64 = 30 * 24 * 60 * 60;

/// Longest raw session id accepted for lookup; anything longer is refused before hashing.
const MAX_RAW_ID_LEN: usize = 128;

/// A stored session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// Hex SHA-256 of the raw session id (the store key).
    pub id_hash: String,
    /// The user it belongs to.
    pub username: String,
    /// The org chosen at login.
    pub org_id: String,
    /// Hex SHA-256 of the CSRF token.
    pub csrf_hash: String,
    /// Creation time, unix seconds.
    pub created_at: u64,
    /// Expiry time, unix seconds; the session is refused from this second on.
    pub expires_at: u64,
}

impl Session {
    /// Whether the session is expired at `now` (unix s).
    pub fn is_expired(&self, now: u64) -> bool {
        now >= self.expires_at
    }

    /// Checks the `X-CSRF-Token` value of a mutating request, in constant time; `forbidden` (403) when
    /// it does not match.
    pub fn verify_csrf(&self, provided: &str) -> Result<()> {
        if provided.len() <= MAX_RAW_ID_LEN && ct_eq(&sha256_hex(provided), &self.csrf_hash) {
            Ok(())
        } else {
            Err(Error::Forbidden("missing or invalid CSRF token".to_owned()))
        }
    }
}

/// A freshly created session with its raw secrets, which exist only in this value (and the cookies).
#[derive(Clone)]
pub struct IssuedSession {
    /// Raw session id for the HttpOnly session cookie.
    pub token: String,
    /// Raw CSRF token for the `pulse_csrf` cookie.
    pub csrf: String,
    /// What was stored.
    pub session: Session,
}

impl std::fmt::Debug for IssuedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedSession")
            .field("token", &"***")
            .field("csrf", &"***")
            .field("session", &self.session)
            .finish()
    }
}

/// Creates and stores a session for `username` in `org_id`: 24 h, or 30 days with `remember_me`.
pub fn create_session(
    store: &dyn SessionStore,
    username: &str,
    org_id: &str,
    remember_me: bool,
    now: u64,
) -> Result<IssuedSession> {
    validate_org_id(org_id)?;
    let token = random_hex(32);
    let csrf = random_hex(32);
    let ttl = if remember_me {
        REMEMBER_ME_TTL_SECS
    } else {
        SESSION_TTL_SECS
    };
    let session = Session {
        id_hash: sha256_hex(&token),
        username: username.to_owned(),
        org_id: org_id.to_owned(),
        csrf_hash: sha256_hex(&csrf),
        created_at: now,
        expires_at: now.saturating_add(ttl),
    };
    store.put_session(&session)?;
    Ok(IssuedSession {
        token,
        csrf,
        session,
    })
}

/// The live session for the raw cookie value at `now`; `unauthorized` (401) when unknown or expired
/// (an expired session is deleted on the way).
pub fn lookup_session(store: &dyn SessionStore, raw: &str, now: u64) -> Result<Session> {
    if raw.is_empty() || raw.len() > MAX_RAW_ID_LEN {
        return Err(Error::Unauthorized);
    }
    let id_hash = sha256_hex(raw);
    let session = store.get_session(&id_hash)?.ok_or(Error::Unauthorized)?;
    if session.is_expired(now) {
        store.delete_session(&id_hash)?;
        return Err(Error::Unauthorized);
    }
    Ok(session)
}

/// Ends the session of the raw cookie value (logout); `false` when there was none.
pub fn revoke_session(store: &dyn SessionStore, raw: &str) -> Result<bool> {
    if raw.len() > MAX_RAW_ID_LEN {
        return Ok(false);
    }
    store.delete_session(&sha256_hex(raw))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn lifetimes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let short = create_session(&store, "alice", "default", false, 1_000).unwrap();
        let long = create_session(&store, "alice", "default", true, 1_000).unwrap();
        assert_eq!(short.session.expires_at, 1_000 + 86_400);
        assert_eq!(long.session.expires_at, 1_000 + 30 * 86_400);
        assert_eq!(short.token.len(), 64);
        assert_ne!(short.token, long.token);

        let found = lookup_session(&store, &short.token, 1_000 + 86_399).unwrap();
        assert_eq!(found, short.session);
        assert_eq!(
            lookup_session(&store, &short.token, 1_000 + 86_400)
                .unwrap_err()
                .code(),
            "unauthorized"
        );
        assert_eq!(
            store.get_session(&short.session.id_hash).unwrap(),
            None,
            "expired → deleted"
        );
        lookup_session(&store, &long.token, 1_000 + 86_400).unwrap();
        assert!(lookup_session(&store, "nope", 0).is_err());
        assert!(lookup_session(&store, &"a".repeat(1000), 0).is_err());
    }

    #[test]
    fn revoke_and_nothing_raw_is_stored() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let issued = create_session(&store, "alice", "acme", false, 0).unwrap();
        let stored = store.get_session(&issued.session.id_hash).unwrap().unwrap();
        let stored = format!("{stored:?}");
        assert!(!stored.contains(&issued.token) && !stored.contains(&issued.csrf));
        assert!(!format!("{issued:?}").contains(&issued.token));
        assert!(revoke_session(&store, &issued.token).unwrap());
        assert!(!revoke_session(&store, &issued.token).unwrap());
        assert!(lookup_session(&store, &issued.token, 1).is_err());
    }

    #[test]
    fn csrf_must_match() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let issued = create_session(&store, "alice", "default", false, 0).unwrap();
        issued.session.verify_csrf(&issued.csrf).unwrap();
        for wrong in [
            "",
            "x",
            &issued.token,
            &issued.csrf[..63],
            &issued.csrf.to_uppercase(),
        ] {
            assert_eq!(
                issued.session.verify_csrf(wrong).unwrap_err().code(),
                "forbidden"
            );
        }
        assert!(create_session(&store, "alice", "no/org", false, 0).is_err());
    }
}
