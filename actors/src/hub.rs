//! Non-blocking fan-out of items to many bounded subscribers.
//!
//! A [`Hub`] hands every published item to each subscriber's own bounded
//! queue. Publishing never waits: a subscriber whose queue is full is
//! flagged as *lagging* and skipped until it calls
//! [`Subscription::resume`], so one stalled consumer can neither block the
//! publisher nor delay the others, and its memory stays bounded by its
//! queue capacity. The intended reaction to lag is: drain, resume, then
//! re-sync from a full state.

use futures_core::Stream;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use tokio::sync::mpsc::{self, error::TrySendError};

/// Lag flag in [`LagState`]; the remaining bits count dropped items.
const LAGGED: u64 = 1 << 63;

/// A subscriber's lag flag and dropped-item count in one atomic word, so
/// that `resume` and a concurrent publish can never lose a count.
#[derive(Debug, Default)]
struct LagState(AtomicU64);

impl LagState {
    /// Counts one dropped item if the subscriber is lagging; returns whether it was.
    fn count_if_lagging(&self) -> bool {
        self.0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |word| {
                (word & LAGGED != 0).then_some(word + 1)
            })
            .is_ok()
    }

    /// Marks the subscriber as lagging with the item that did not fit counted.
    fn start_lagging(&self) {
        // Flag and count in one atomic step so a racing `resume` sees both or neither.
        let _ = self
            .0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |word| {
                Some((word | LAGGED) + 1)
            });
    }

    fn is_lagged(&self) -> bool {
        self.0.load(Ordering::Acquire) & LAGGED != 0
    }

    /// Clears the flag and returns the number of items dropped meanwhile.
    fn resume(&self) -> u64 {
        self.0.swap(0, Ordering::AcqRel) & !LAGGED
    }
}

/// The hub's side of one subscriber.
struct Slot<T> {
    tx: mpsc::Sender<T>,
    lag: Arc<LagState>,
}

/// What one [`Hub::publish`] call did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PublishReport {
    /// Subscribers that received the item.
    pub delivered: usize,
    /// Subscribers skipped because they were already lagging.
    pub skipped_lagging: usize,
    /// Subscribers whose queue was full, now flagged as lagging.
    pub newly_lagged: usize,
    /// Subscribers found closed (dropped) and removed.
    pub closed_removed: usize,
}

/// A cheaply cloneable fan-out point; clones share the same subscribers.
pub struct Hub<T> {
    slots: Arc<Mutex<Vec<Slot<T>>>>,
}

impl<T> Clone for Hub<T> {
    fn clone(&self) -> Self {
        Self {
            slots: Arc::clone(&self.slots),
        }
    }
}

impl<T> Default for Hub<T> {
    fn default() -> Self {
        Self {
            slots: Arc::new(Mutex::new(Vec::new())),
        }
    }
}

impl<T> std::fmt::Debug for Hub<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("subscribers", &self.subscriber_count())
            .finish()
    }
}

impl<T: Clone + Send + 'static> Hub<T> {
    /// Creates a hub without subscribers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a subscriber with its own queue of `capacity` items (at least 1).
    pub fn subscribe(&self, capacity: usize) -> Subscription<T> {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let lag = Arc::new(LagState::default());
        self.lock().push(Slot {
            tx,
            lag: Arc::clone(&lag),
        });
        Subscription { rx, lag }
    }

    /// Offers `item` to every subscriber without blocking.
    ///
    /// Lagging subscribers are skipped, a full queue makes its subscriber
    /// lagging, and dropped subscriptions are removed.
    pub fn publish(&self, item: T) -> PublishReport {
        let mut report = PublishReport::default();
        self.lock().retain(|slot| {
            if slot.tx.is_closed() {
                report.closed_removed += 1;
                return false;
            }
            if slot.lag.count_if_lagging() {
                report.skipped_lagging += 1;
                return true;
            }
            match slot.tx.try_send(item.clone()) {
                Ok(()) => {
                    report.delivered += 1;
                    true
                }
                Err(TrySendError::Full(_)) => {
                    slot.lag.start_lagging();
                    report.newly_lagged += 1;
                    true
                }
                Err(TrySendError::Closed(_)) => {
                    report.closed_removed += 1;
                    false
                }
            }
        });
        report
    }
}

impl<T> Hub<T> {
    /// Number of live subscribers (dropped ones are not counted).
    pub fn subscriber_count(&self) -> usize {
        self.lock().iter().filter(|s| !s.tx.is_closed()).count()
    }

    /// Number of live subscribers currently flagged as lagging.
    pub fn lagging_count(&self) -> usize {
        self.lock()
            .iter()
            .filter(|s| !s.tx.is_closed() && s.lag.is_lagged())
            .count()
    }

    /// Locks the subscriber list; a poisoned lock is still usable because
    /// every mutation leaves the list consistent.
    fn lock(&self) -> MutexGuard<'_, Vec<Slot<T>>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One subscriber's receiving end; dropping it unsubscribes.
///
/// Also a [`Stream`], so an actix actor can consume it with
/// `ctx.add_stream(subscription)`. The stream ends once every clone of the
/// hub has been dropped.
#[derive(Debug)]
pub struct Subscription<T> {
    rx: mpsc::Receiver<T>,
    lag: Arc<LagState>,
}

impl<T> Subscription<T> {
    /// Waits for the next item; `None` once the hub is gone and the queue is empty.
    pub async fn recv(&mut self) -> Option<T> {
        self.rx.recv().await
    }

    /// Takes the next queued item, or `None` if the queue is empty (or the hub is gone).
    pub fn try_recv(&mut self) -> Option<T> {
        self.rx.try_recv().ok()
    }

    /// Whether the hub is skipping this subscriber because its queue was full.
    pub fn is_lagged(&self) -> bool {
        self.lag.is_lagged()
    }

    /// Asks the hub to deliver again; returns how many items were dropped
    /// since the subscriber started lagging (0 if it was not lagging).
    pub fn resume(&self) -> u64 {
        self.lag.resume()
    }

    /// Discards every queued item and returns how many there were.
    pub fn drain(&mut self) -> usize {
        let mut discarded = 0;
        while self.rx.try_recv().is_ok() {
            discarded += 1;
        }
        discarded
    }

    /// Number of items waiting in the queue.
    pub fn len(&self) -> usize {
        self.rx.len()
    }

    /// Whether the queue is empty.
    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }

    /// The queue's capacity, the bound on items buffered for this subscriber.
    pub fn capacity(&self) -> usize {
        self.rx.max_capacity()
    }

    /// Turns the subscription into a lag-aware stream for actors that
    /// consume it with `ctx.add_stream(..)` and so cannot call
    /// [`drain`](Self::drain) and [`resume`](Self::resume) themselves.
    pub fn events(self) -> HubEvents<T> {
        HubEvents { inner: self }
    }
}

impl<T> Stream for Subscription<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().rx.poll_recv(cx)
    }
}

/// An item of a [`HubEvents`] stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HubEvent<T> {
    /// The next published item.
    Item(T),
    /// The subscriber fell behind: the hub skipped `dropped` items and
    /// `discarded` stale queued items were thrown away. Delivery has
    /// resumed; re-sync from a full state.
    Lagged {
        /// Items the hub did not enqueue while the subscriber was lagging.
        dropped: u64,
        /// Items that were still queued and were discarded.
        discarded: usize,
    },
}

/// A [`Subscription`] that handles lag by itself: before yielding the next
/// item it checks the lag flag and, if set, drains the queue, resumes
/// delivery and yields one [`HubEvent::Lagged`].
#[derive(Debug)]
pub struct HubEvents<T> {
    inner: Subscription<T>,
}

impl<T> HubEvents<T> {
    /// Whether the underlying subscription is currently lagging.
    pub fn is_lagged(&self) -> bool {
        self.inner.is_lagged()
    }
}

impl<T> Stream for HubEvents<T> {
    type Item = HubEvent<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<HubEvent<T>>> {
        let sub = &mut self.get_mut().inner;
        if sub.is_lagged() {
            // Drain first: while lagging the hub enqueues nothing, so after
            // `resume` the queue only holds items newer than the lag.
            let discarded = sub.drain();
            let dropped = sub.resume();
            return Poll::Ready(Some(HubEvent::Lagged { dropped, discarded }));
        }
        sub.rx.poll_recv(cx).map(|item| item.map(HubEvent::Item))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_state_counts_only_while_lagging() {
        let lag = LagState::default();
        assert!(!lag.count_if_lagging());
        lag.start_lagging();
        assert!(lag.is_lagged());
        assert!(lag.count_if_lagging());
        assert!(lag.count_if_lagging());
        assert_eq!(lag.resume(), 3);
        assert!(!lag.is_lagged());
        assert_eq!(lag.resume(), 0);
    }

    #[test]
    fn zero_capacity_is_raised_to_one() {
        let hub = Hub::new();
        let sub = hub.subscribe(0);
        assert_eq!(sub.capacity(), 1);
        assert_eq!(hub.publish(1u8).delivered, 1);
        assert_eq!(hub.publish(2u8).newly_lagged, 1);
    }
}
