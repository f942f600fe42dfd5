//! actix-web wiring: one module per API area, each exposing `configure`, assembled in [`routes`].

pub mod agents;
pub mod alerts;
pub mod auth;
pub mod errors;
pub mod health;
pub mod history;
pub mod nodes;
pub mod notifications;
pub mod peer;
pub mod resources;
pub mod security;
pub mod slices;
pub mod system;
pub mod truenas;
pub mod ui;
pub mod ws;

use actix_web::web;

/// Assembles every route of the main listener.
pub fn routes(cfg: &mut web::ServiceConfig) {
    errors::configure_extractors(cfg);
    health::configure(cfg);
    agents::configure(cfg);
    security::configure(cfg);
    resources::configure(cfg);
    nodes::configure(cfg);
    truenas::configure(cfg);
    alerts::configure(cfg);
    notifications::configure(cfg);
    history::configure(cfg);
    system::configure(cfg);
    ws::configure(cfg);
    ui::configure(cfg);
}
