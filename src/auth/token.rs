//! API tokens: `pulse_` + 64 hex characters, stored only as a SHA-256 hash with a display prefix/suffix.

use serde::{Deserialize, Serialize};

use super::crypto::{ct_eq, random_hex, sha256_hex};
use super::scope::ScopeSet;
use super::validate_org_id;
use crate::error::{Error, Result};
use crate::store::TokenStore;

/// Prefix of every raw token this server issues.
pub const TOKEN_PREFIX: &str = "pulse_";

/// Longest raw token accepted for verification; anything longer is refused before hashing.
const MAX_RAW_TOKEN_LEN: usize = 256;

/// Longest token name, in characters.
const MAX_NAME_CHARS: usize = 128;

/// A stored API token (the raw token itself is never stored).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenRecord {
    /// Random UUID (v4), the public handle of the token.
    pub id: String,
    /// Human name given at creation.
    pub name: String,
    /// Lower-case hex SHA-256 of the raw token.
    pub hash: String,
    /// First 8 characters of the raw token, for display.
    pub prefix: String,
    /// Last 4 characters of the raw token, for display.
    pub suffix: String,
    /// What the token may do.
    pub scopes: ScopeSet,
    /// The only org this token may act in, when bound.
    #[serde(default)]
    pub org_id: Option<String>,
    /// Creation time, unix seconds.
    pub created_at: u64,
    /// Expiry time, unix seconds; the token is refused from this second on.
    #[serde(default)]
    pub expires_at: Option<u64>,
    /// Last successful use, unix seconds (minute resolution).
    #[serde(default)]
    pub last_used_at: Option<u64>,
}

impl TokenRecord {
    /// Whether the token is expired at `now` (unix s).
    pub fn is_expired(&self, now: u64) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }
}

/// What a caller asks for when creating a token.
#[derive(Clone, Debug)]
pub struct NewToken {
    /// Human name (1-128 characters, no control characters).
    pub name: String,
    /// Scopes granted.
    pub scopes: ScopeSet,
    /// Org binding, if any.
    pub org_id: Option<String>,
    /// Expiry, unix seconds; must be in the future.
    pub expires_at: Option<u64>,
}

/// Creates a fresh token: returns the raw token (show it once, never log it) and the record to store.
pub fn generate_token(new: NewToken, now: u64) -> Result<(String, TokenRecord)> {
    let name = new.name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(Error::validation(
            "name",
            format!("must be 1-{MAX_NAME_CHARS} characters without control characters"),
        ));
    }
    if let Some(org) = &new.org_id {
        validate_org_id(org)?;
    }
    if new.expires_at.is_some_and(|at| at <= now) {
        return Err(Error::validation("expiresAt", "must be in the future"));
    }
    let raw = format!("{TOKEN_PREFIX}{}", random_hex(32));
    let record = TokenRecord {
        id: uuid::Uuid::new_v4().to_string(),
        name: name.to_owned(),
        hash: sha256_hex(&raw),
        prefix: raw.chars().take(8).collect(),
        suffix: raw[raw.len() - 4..].to_owned(),
        scopes: new.scopes,
        org_id: new.org_id,
        created_at: now,
        expires_at: new.expires_at,
        last_used_at: None,
    };
    Ok((raw, record))
}

/// The stored form of a raw token (hex SHA-256).
pub fn hash_token(raw: &str) -> String {
    sha256_hex(raw)
}

/// Finds the live token for `raw` at `now` and records the use; an unknown, malformed or expired
/// token is `unauthorized` (401) without saying which.
pub fn verify_token(store: &dyn TokenStore, raw: &str, now: u64) -> Result<TokenRecord> {
    if raw.is_empty() || raw.len() > MAX_RAW_TOKEN_LEN {
        return Err(Error::Unauthorized);
    }
    let hash = sha256_hex(raw);
    let record = store.token_by_hash(&hash)?.ok_or(Error::Unauthorized)?;
    if !ct_eq(&record.hash, &hash) || record.is_expired(now) {
        return Err(Error::Unauthorized);
    }
    if let Err(e) = store.touch_token(&record.id, now) {
        tracing::warn!(token_id = %record.id, error = %e, "could not record token use");
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn new(expires_at: Option<u64>) -> NewToken {
        NewToken {
            name: " ci runner ".into(),
            scopes: "agent:report".parse().unwrap(),
            org_id: Some("acme".into()),
            expires_at,
        }
    }

    #[test]
    fn generated_shape() {
        let (raw, rec) = generate_token(new(None), 100).unwrap();
        assert_eq!(raw.len(), TOKEN_PREFIX.len() + 64);
        assert!(raw.starts_with(TOKEN_PREFIX));
        assert!(raw[TOKEN_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_hexdigit()));
        assert_eq!(rec.hash, hash_token(&raw));
        assert_eq!(rec.prefix, raw[..8]);
        assert_eq!(rec.suffix, raw[raw.len() - 4..]);
        assert_eq!(rec.name, "ci runner");
        assert_eq!(uuid::Uuid::parse_str(&rec.id).unwrap().get_version_num(), 4);
        let json = serde_json::to_value(&rec).unwrap();
        for key in [
            "id",
            "name",
            "hash",
            "prefix",
            "suffix",
            "scopes",
            "orgId",
            "createdAt",
            "expiresAt",
            "lastUsedAt",
        ] {
            assert!(json.get(key).is_some(), "missing {key} in {json}");
        }
        assert_ne!(raw, generate_token(new(None), 100).unwrap().0);
    }

    #[test]
    fn creation_is_validated() {
        let mut bad = new(None);
        bad.name = "  ".into();
        assert!(generate_token(bad, 1).is_err());
        assert!(
            generate_token(new(Some(100)), 100).is_err(),
            "expiry in the past"
        );
        let mut bad = new(None);
        bad.org_id = Some("a/b".into());
        assert!(generate_token(bad, 1).is_err());
    }

    #[test]
    fn verify_accepts_live_tokens_and_rejects_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (raw, rec) = generate_token(new(Some(1_000)), 100).unwrap();
        store.put_token(&rec).unwrap();

        let found = verify_token(&store, &raw, 500).unwrap();
        assert_eq!(found.id, rec.id);
        assert_eq!(
            store.get_token(&rec.id).unwrap().unwrap().last_used_at,
            Some(500)
        );

        let unauthorized =
            |r: Result<TokenRecord>| assert_eq!(r.unwrap_err().code(), "unauthorized");
        unauthorized(verify_token(&store, &raw, 1_000));
        unauthorized(verify_token(&store, &raw[..raw.len() - 1], 500));
        unauthorized(verify_token(&store, "", 500));
        unauthorized(verify_token(&store, &"a".repeat(10_000), 500));
        store.delete_token(&rec.id).unwrap();
        unauthorized(verify_token(&store, &raw, 500));
    }
}
