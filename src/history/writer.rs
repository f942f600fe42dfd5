//! The per-tenant history writer: subscribes to the tenant change hub's diffs (no polling),
//! turns every changed resource into samples, batches them and hands batches to the history
//! service; it also keeps the tenant's newest values for `/metrics/resources` and offers samples
//! to remote_write.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use pulse_actors::{ExitGuard, HubEvent, Subscription};

use super::latest::{LatestResource, Spacing, STATUS_SERIES};
use super::remote_write::RemoteSample;
use super::service::HistorySink;
use super::store::{series_key, Sample};
use crate::monitor::registry::{ChangeItem, Changes};

/// Mailbox capacity of a writer (it receives only its hub stream and timers).
pub const MAILBOX_CAPACITY: usize = 64;
/// Diffs buffered between the hub and the writer before the hub marks it lagging.
pub const HUB_CAPACITY: usize = 256;
/// A batch is handed over once it holds this many samples…
const BATCH_SAMPLES: usize = 2048;
/// …or this long after its first sample.
const BATCH_INTERVAL: Duration = Duration::from_secs(1);
/// Samples of one resource closer together than this are skipped (the raw tier stores seconds).
const MIN_SPACING_MS: i64 = 1_000;

/// The history writer of one tenant.
pub struct HistoryWriter {
    org: Arc<str>,
    sink: HistorySink,
    subscription: Option<Subscription<ChangeItem>>,
    buffer: Vec<Sample>,
    remote: Vec<RemoteSample>,
    _guard: ExitGuard,
}

impl HistoryWriter {
    /// A writer for `org` reading `subscription` (taken from the tenant change hub before start,
    /// so no diff published after the start is missed).
    pub fn new(
        org: Arc<str>,
        sink: HistorySink,
        subscription: Subscription<ChangeItem>,
        guard: ExitGuard,
    ) -> Self {
        HistoryWriter {
            org,
            sink,
            subscription: Some(subscription),
            buffer: Vec::with_capacity(BATCH_SAMPLES),
            remote: Vec::new(),
            _guard: guard,
        }
    }

    fn hand_over(&mut self) {
        if !self.buffer.is_empty() {
            let batch = std::mem::replace(&mut self.buffer, Vec::with_capacity(BATCH_SAMPLES));
            self.sink.submit(batch);
        }
        if let Some(queue) = &self.sink.remote {
            if !self.remote.is_empty() {
                queue.offer(std::mem::take(&mut self.remote));
            }
        }
    }

    fn record(&mut self, changes: &Changes) {
        let at = changes.at.as_millis();
        let latest: Vec<LatestResource> = changes
            .upserted
            .iter()
            .map(|resource| LatestResource::of(&self.org, resource))
            .collect();
        let spacing = Spacing {
            at_ms: at,
            min_ms: MIN_SPACING_MS,
        };
        let HistoryWriter {
            org,
            sink,
            buffer,
            remote,
            ..
        } = self;
        let remote_on = sink.remote.is_some();
        // The newest values are stored with when each resource was last sampled, so the writer
        // keeps no per-resource state of its own.
        sink.latest
            .apply(org, latest, &changes.removed, spacing, |current, due| {
                if due && !current.values.is_empty() {
                    for &(metric, value) in &*current.values {
                        buffer.push(Sample {
                            key: series_key(org, &current.labels.id, metric),
                            ts_ms: at,
                            value,
                        });
                    }
                }
                if due && remote_on {
                    let labels = &current.labels;
                    let status = current.status_value().map(|v| (STATUS_SERIES, v));
                    let values = current
                        .values
                        .iter()
                        .map(|(m, v)| (m.prometheus_name(), *v));
                    for (name, value) in status.into_iter().chain(values) {
                        remote.push(RemoteSample {
                            name,
                            labels: Arc::clone(labels),
                            value,
                            ts_ms: at,
                        });
                    }
                }
            });
        if self.buffer.len() >= BATCH_SAMPLES {
            self.hand_over();
        }
    }
}

impl Actor for HistoryWriter {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        if let Some(sub) = self.subscription.take() {
            ctx.add_stream(sub.events());
        }
        ctx.run_interval(BATCH_INTERVAL, |act, _| act.hand_over());
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.hand_over();
    }
}

impl StreamHandler<HubEvent<ChangeItem>> for HistoryWriter {
    fn handle(&mut self, event: HubEvent<ChangeItem>, _: &mut Self::Context) {
        match event {
            HubEvent::Item(ChangeItem::Changed(changes)) => self.record(&changes),
            HubEvent::Item(ChangeItem::Reset) => self.sink.latest.reset(&self.org),
            HubEvent::Lagged { dropped, discarded } => {
                // The changes are lost for history; the next diffs of the same resources
                // carry them whole again, so nothing needs a resync.
                tracing::warn!(org = %self.org, dropped, discarded, "history writer lagged");
            }
        }
    }
}
