//! The Notifier actor of one tenant: works through the durable delivery queue.
//!
//! It is kicked when the alert engine queued something and wakes itself when the next retry is
//! due; it never holds the queue in memory: each pump takes at most as many due deliveries as it
//! has free attempt slots (16) with one range scan of the due index. Each attempt renders the
//! message with the channel's current configuration, sends it (webhook through the SSRF-guarded
//! client, or SMTP), and writes the outcome back durably: sent, rescheduled with backoff (or the
//! receiver's `Retry-After`), dead-lettered, or cancelled when the channel is gone or disabled.
//! A crash mid-attempt leaves the delivery pending, so it is sent again after a restart with the
//! same event id: at least once.

use std::collections::HashSet;
use std::time::Duration;

use actix::prelude::*;
use pulse_actors::ExitGuard;

use super::clock;
use crate::error::Result;
use crate::notify::queue::AttemptFailure;
use crate::notify::templates::render;
use crate::notify::webhook::DELIVERY_TIMEOUT;
use crate::notify::{
    email, Channel, Delivery, DeliveryStatus, EmailConfig, SsrfGuard, WebhookClient, Webhooks,
};
use crate::store::{DocumentStore, Namespace, QueueStore, Store};
use crate::telemetry::names;

/// Mailbox capacity: kicks from the engine and the API (sent with `try_send`; a kick lost to a
/// full mailbox is harmless because one is already queued).
pub const MAILBOX_CAPACITY: usize = 64;
/// Attempts in flight at once.
const MAX_IN_FLIGHT: usize = 16;
/// Longest sleep between two looks at the queue (a backstop; kicks and due times wake it sooner).
const IDLE_WAKE: Duration = Duration::from_secs(30);
/// How often finished deliveries past their retention are purged.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// New deliveries may be due: look at the queue now.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Kick;

/// The Notifier of one tenant.
pub struct Notifier {
    org: String,
    store: Store,
    client: WebhookClient,
    in_flight: HashSet<String>,
    wake: Option<SpawnHandle>,
    _guard: ExitGuard,
}

impl Notifier {
    /// The webhook client a notifier uses: SSRF-guarded by `guard`, delivery timeout.
    pub fn client(guard: SsrfGuard) -> Result<WebhookClient> {
        WebhookClient::new(guard, DELIVERY_TIMEOUT)
    }

    /// A notifier for `org` sending webhooks through `client`.
    pub fn new(org: String, store: Store, client: WebhookClient, exit: ExitGuard) -> Self {
        Notifier {
            org,
            store,
            client,
            in_flight: HashSet::new(),
            wake: None,
            _guard: exit,
        }
    }

    /// Starts attempts for due deliveries while slots are free, then sleeps until the next due
    /// time.
    fn pump(&mut self, ctx: &mut Context<Self>) {
        let now = clock::now_millis();
        let room = MAX_IN_FLIGHT.saturating_sub(self.in_flight.len());
        if room > 0 {
            match self
                .store
                .due_deliveries(&self.org, now, room, &self.in_flight)
            {
                Ok(due) => {
                    for delivery in due {
                        self.in_flight.insert(delivery.id.clone());
                        let attempt = attempt(self.store.clone(), self.client.clone(), delivery);
                        ctx.spawn(attempt.into_actor(self).map(|id, act, ctx| {
                            act.in_flight.remove(&id);
                            act.pump(ctx);
                        }));
                    }
                }
                Err(e) => {
                    tracing::error!(org = %self.org, error = %e, "reading the delivery queue failed")
                }
            }
        }
        self.schedule_wake(now, ctx);
    }

    /// Arms one timer for the next due delivery not in flight.
    fn schedule_wake(&mut self, now: i64, ctx: &mut Context<Self>) {
        if let Some(handle) = self.wake.take() {
            ctx.cancel_future(handle);
        }
        let next = self.store.next_due_at(&self.org).ok().flatten();
        let delay = match next {
            // Due already but every slot (or that delivery) is busy: a finishing attempt pumps.
            Some(at) if at <= now => Duration::from_millis(250),
            Some(at) => Duration::from_millis(u64::try_from(at - now).unwrap_or(0)),
            None => IDLE_WAKE,
        }
        .min(IDLE_WAKE);
        self.wake = Some(ctx.run_later(delay, |act, ctx| {
            act.wake = None;
            act.pump(ctx);
        }));
    }
}

/// One attempt at one delivery, written back durably. Returns the delivery id.
async fn attempt(store: Store, client: WebhookClient, mut delivery: Delivery) -> String {
    let id = delivery.id.clone();
    let previous_due = delivery.next_attempt_at;
    let now = clock::now_millis();
    let org = delivery.org.clone();
    let ns = Namespace::Org(&org);
    let channel_kind = match delivery.channel {
        Channel::Webhook { .. } => "webhook",
        Channel::Email => "email",
    };
    let channel = delivery.channel.clone();
    let outcome: std::result::Result<Option<u16>, Option<AttemptFailure>> = match &channel {
        Channel::Webhook { id: hook_id } => {
            match store.load::<Webhooks>(ns).map(|w| w.unwrap_or_default()) {
                Err(e) => Err(Some(AttemptFailure::new(
                    crate::notify::FailureClass::Unknown,
                    format!("reading webhooks: {}", e.public_message()),
                ))),
                Ok(hooks) => match hooks.get(hook_id) {
                    None => {
                        delivery.cancel("the webhook was deleted", now);
                        Err(None)
                    }
                    Some(hook) if !hook.enabled => {
                        delivery.cancel("the webhook is disabled", now);
                        Err(None)
                    }
                    Some(hook) => {
                        let request = render(hook, delivery.kind, &delivery.items, &org, now);
                        client
                            .send(&request, &delivery.event_id, hook.signing_secret.as_deref())
                            .await
                            .map(|answer| Some(answer.status))
                            .map_err(|(failure, _)| Some(failure))
                    }
                },
            }
        }
        Channel::Email => match store.load::<EmailConfig>(ns).map(|c| c.unwrap_or_default()) {
            Err(e) => Err(Some(AttemptFailure::new(
                crate::notify::FailureClass::Unknown,
                format!("reading email settings: {}", e.public_message()),
            ))),
            Ok(config) if !config.enabled => {
                delivery.cancel("email notifications are disabled", now);
                Err(None)
            }
            Ok(config) => email::send(
                &config,
                delivery.kind,
                &delivery.items,
                &delivery.event_id,
                &org,
            )
            .await
            .map(|()| None)
            .map_err(Some),
        },
    };
    let done = clock::now_millis();
    match outcome {
        Ok(status) => {
            delivery.succeeded(status, done);
            metrics::counter!(names::DELIVERY_ATTEMPTS, "channel" => channel_kind, "outcome" => "sent")
                .increment(1);
        }
        Err(Some(failure)) => {
            tracing::warn!(org = %org, delivery = %delivery.id, class = ?failure.class, error = %failure.message, "notification attempt failed");
            delivery.failed(&failure, done);
            metrics::counter!(names::DELIVERY_ATTEMPTS, "channel" => channel_kind, "outcome" => "failed")
                .increment(1);
            let class = serde_json::to_value(failure.class)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            metrics::counter!(names::DELIVERY_FAILURES, "channel" => channel_kind, "class" => class)
                .increment(1);
            if delivery.status == DeliveryStatus::Dlq {
                metrics::counter!(names::DELIVERY_DLQ).increment(1);
            }
        }
        Err(None) => {
            metrics::counter!(names::DELIVERY_ATTEMPTS, "channel" => channel_kind, "outcome" => "cancelled")
                .increment(1);
        }
    }
    let written =
        tokio::task::spawn_blocking(move || store.update_delivery(&delivery, Some(previous_due)))
            .await;
    match written {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::error!(org = %org, error = %e, "recording a delivery outcome failed")
        }
        Err(e) => tracing::error!(org = %org, error = %e, "delivery outcome task failed"),
    }
    id
}

impl Actor for Notifier {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.pump(ctx);
        ctx.run_interval(PURGE_EVERY, |act, _| {
            let store = act.store.clone();
            let org = act.org.clone();
            tokio::task::spawn_blocking(move || {
                if let Err(e) = store.purge_deliveries(&org, clock::now_millis()) {
                    tracing::warn!(org = %org, error = %e, "purging old deliveries failed");
                }
            });
        });
        tracing::info!(org = %self.org, "notifier started");
    }
}

impl Handler<Kick> for Notifier {
    type Result = ();

    fn handle(&mut self, _: Kick, ctx: &mut Self::Context) {
        self.pump(ctx);
    }
}
