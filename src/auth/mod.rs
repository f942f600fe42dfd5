//! Authentication and authorisation primitives: passwords, API tokens and their scopes, browser
//! sessions with CSRF, users with per-org roles, first-start bootstrap and rate limits.
//!
//! Everything here is plain functions and types over the storage traits of [`crate::store`]; time is
//! always a parameter (unix seconds, or an [`std::time::Instant`] for the limiters) so all of it is
//! testable without a clock. The HTTP extractors live in `http/`.

mod admin;
mod bootstrap;
mod crypto;
mod password;
mod ratelimit;
mod scope;
mod session;
mod token;
mod user;

pub use admin::{create_token, reset_password};
pub use bootstrap::{
    bootstrap_pending, clear_bootstrap_token, ensure_admin_or_bootstrap, verify_bootstrap_token,
    BootstrapOutcome,
};
pub use password::{
    check_password_policy, hash_password, verify_password, MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS,
};
pub use ratelimit::{LoginLimiter, LoginPolicy, WindowLimiter};
pub use scope::{Scope, ScopeSet};
pub use session::{
    create_session, lookup_session, revoke_session, IssuedSession, Session, REMEMBER_ME_TTL_SECS,
    SESSION_TTL_SECS,
};
pub use token::{generate_token, hash_token, verify_token, NewToken, TokenRecord, TOKEN_PREFIX};
pub use user::{authenticate, validate_username, Role, User};

use crate::error::{Error, Result};

/// The org every request falls back to when none is named (SPEC §5 tenancy).
pub const DEFAULT_ORG_ID: &str = "default";

/// Checks an org id: 1-64 characters of `[A-Za-z0-9_-]`, so it is safe inside store keys and paths.
pub fn validate_org_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
    if ok {
        Ok(())
    } else {
        Err(Error::validation(
            "orgId",
            format!("{id:?} is not a valid org id: use 1-64 of [A-Za-z0-9_-]"),
        ))
    }
}

/// Seconds since the Unix epoch from the system clock (0 if the clock is before 1970), for callers
/// that feed the `now` parameters of this module.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_ids() {
        for ok in ["default", "acme-1", "A_b"] {
            validate_org_id(ok).unwrap();
        }
        for bad in ["", "a/b", "a b", "ü", &"x".repeat(65)] {
            assert_eq!(validate_org_id(bad).unwrap_err().code(), "validation_error");
        }
        assert!(unix_now() > 1_600_000_000);
    }
}
