//! `/api/system/actors`: the supervision tree, for operators.

use actix_web::{web, HttpResponse};

use super::auth::{Authed, SettingsRead};
use crate::app::AppState;
use crate::error::{Error, Result};

/// Registers the system routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/system/actors").get(actors));
}

async fn actors(_auth: Authed<SettingsRead>, app: web::Data<AppState>) -> Result<HttpResponse> {
    let tree = app
        .root
        .send(pulse_actors::Snapshot)
        .await
        .map_err(|e| Error::Unavailable(format!("supervisor: {e}")))?;
    Ok(HttpResponse::Ok().json(tree))
}
