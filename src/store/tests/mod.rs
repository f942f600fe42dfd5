//! Store tests that span several trees or processes: reopen, crash safety, secrets at rest.

mod alerting;
mod at_rest;
mod crash;
mod documents;
mod reopen;

use crate::auth::{generate_token, NewToken, ScopeSet, TokenRecord};

/// A fresh token record (and its raw token) for tests.
fn new_token(name: &str, now: u64) -> (String, TokenRecord) {
    generate_token(
        NewToken {
            name: name.to_owned(),
            scopes: ScopeSet::parse(["monitoring:read"]).unwrap(),
            org_id: None,
            expires_at: None,
        },
        now,
    )
    .unwrap()
}
