//! In-memory rate limiting with an injected clock and bounded memory: a sliding-window limiter per key,
//! and the login limiter (attempt rate per IP plus lockout after consecutive failures).

mod bounded;
mod login;
mod window;

pub use login::{LoginLimiter, LoginPolicy};
pub use window::WindowLimiter;

use std::time::Duration;

use crate::error::Error;

/// The `rate_limited` error for a wait of `wait`, rounded up to whole seconds (at least 1).
fn rate_limited(wait: Duration) -> Error {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    Error::RateLimited {
        retry_after_secs: secs.max(1),
    }
}
