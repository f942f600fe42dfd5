//! The reducer: `next(state, signal, config, now) → (state', events)`. Pure and deterministic:
//! no I/O, no clock (time is `now`), no randomness; the same state and inputs always give the
//! same result.

mod backup;
mod connectivity;
mod disk;
mod docker;
pub(crate) mod effects;
pub(crate) mod judge;
pub(crate) mod lifecycle;
mod metric;
mod native;
mod observe;
mod operator;
mod reconfigure;
mod storage;
mod tick;
pub(crate) mod view;

use pulse_model::Timestamp;

use crate::event::AlertEvent;
use crate::policy::grouping;
use crate::rules::AlertConfig;
use crate::signal::Signal;
use crate::state::AlertState;

pub use reconfigure::apply_config;

use effects::Effects;

/// Folds one signal into the state: the new state and what happened, in order.
///
/// `config` should have passed [`AlertConfig::validate`]; adopt a changed configuration with
/// [`apply_config`] first so that the change itself emits nothing.
pub fn next(
    mut state: AlertState,
    signal: &Signal,
    config: &AlertConfig,
    now: Timestamp,
) -> (AlertState, Vec<AlertEvent>) {
    let events = state.step(signal, config, now);
    (state, events)
}

impl AlertState {
    /// [`next`] in place, for an owner that keeps the state in a field.
    pub fn step(
        &mut self,
        signal: &Signal,
        config: &AlertConfig,
        now: Timestamp,
    ) -> Vec<AlertEvent> {
        let AlertState {
            resources,
            restarts,
            outgoing,
            outbox,
            recently_resolved,
            swept_at,
            generation,
            spare,
        } = self;
        let mut fx = Effects {
            config,
            now,
            events: Vec::new(),
            outgoing,
            resolved: recently_resolved,
            changed: false,
        };
        match signal {
            Signal::Observed { resource } => {
                observe::observe(resources, restarts, spare, resource, &mut fx);
            }
            Signal::Removed { id } => operator::remove(resources, restarts, id, &mut fx),
            Signal::Tick => tick::run(resources, swept_at, &mut fx),
            Signal::Acknowledge { alert_id, user } => {
                operator::acknowledge(resources, alert_id, user, &mut fx);
            }
            Signal::Unacknowledge { alert_id } => {
                operator::unacknowledge(resources, alert_id, &mut fx);
            }
            Signal::Clear { alert_id } => operator::clear(resources, alert_id, &mut fx),
            Signal::NativeAlerts {
                resource_id,
                alerts,
            } => native::replace(resources, resource_id, alerts, &mut fx),
            Signal::Delivered { alert_id, event } => {
                operator::delivered(outbox, alert_id, event, &mut fx);
            }
            Signal::Restarted => operator::restarted(outbox, &mut fx),
        }
        grouping::flush(resources, outbox, &mut fx, matches!(signal, Signal::Tick));
        fx.prune_resolved();
        // Every event stands for a change (re-emitted notifications after a restart excepted:
        // counting them costs one save at start).
        if fx.changed || !fx.events.is_empty() {
            *generation = generation.wrapping_add(1);
        }
        fx.events
    }
}
