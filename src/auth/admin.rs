//! Administrative operations shared by the API and the offline CLI (`pulse token create`,
//! `pulse admin reset-password`).

use rand::distributions::{Alphanumeric, DistString};

use super::{generate_token, unix_now, validate_org_id, NewToken, ScopeSet, TokenRecord, User};
use crate::error::{Error, Result};
use crate::store::{TokenStore, UserStore};

/// Creates and stores an API token; returns the raw token (shown once) and its record.
pub fn create_token<S: AsRef<str>>(
    store: &dyn TokenStore,
    name: &str,
    scopes: &[S],
    org: Option<&str>,
    expires_at: Option<u64>,
) -> Result<(String, TokenRecord)> {
    let name = name.trim();
    if name.is_empty() || name.len() > 128 {
        return Err(Error::validation("name", "1 to 128 characters"));
    }
    if let Some(org) = org {
        validate_org_id(org)?;
    }
    let now = unix_now();
    if expires_at.is_some_and(|at| at <= now) {
        return Err(Error::validation("expiresAt", "must be in the future"));
    }
    let (raw, record) = generate_token(
        NewToken {
            name: name.to_owned(),
            scopes: ScopeSet::parse(scopes)?,
            org_id: org.map(str::to_owned),
            expires_at,
        },
        now,
    )?;
    store.put_token(&record)?;
    Ok((raw, record))
}

/// Sets a new random password for an existing user and returns it (printed once by the CLI).
pub fn reset_password(store: &dyn UserStore, username: &str) -> Result<String> {
    let mut user: User = store
        .get_user(username)?
        .ok_or_else(|| Error::validation("user", format!("no user named {username:?}")))?;
    let password = Alphanumeric.sample_string(&mut rand::rngs::OsRng, 20);
    user.set_password(&password)?;
    store.put_user(&user)?;
    Ok(password)
}
