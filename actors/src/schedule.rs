//! Periodic work with jitter and failure backoff, driven inside an actor.
//!
//! [`PeriodicSchedule`] decides how long to wait before the next run;
//! [`run_periodic`] spawns a single actor future that alternates between
//! sleeping and running one tick, so a tick never overlaps the previous one.

use crate::backoff::{shorten, Backoff};
use actix::fut::ActorFuture;
use actix::{Actor, AsyncContext, ResponseActFuture, SpawnHandle};
use rand::Rng;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;
use tokio::time::Sleep;

/// How far the failure backoff may grow by default, as a multiple of the interval.
const DEFAULT_BACKOFF_FACTOR: u32 = 16;

/// The result of one periodic run, deciding the next delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The run succeeded: wait one (jittered) interval.
    Success,
    /// The run failed: wait according to the failure backoff.
    Failure,
}

impl<T, E> From<Result<T, E>> for Outcome {
    fn from(result: Result<T, E>) -> Self {
        match result {
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::Failure,
        }
    }
}

/// The timing policy of a periodic task.
///
/// After a success the next run comes one `interval` later, spread by
/// `± jitter * interval`, and the failure count resets. After `n`
/// consecutive failures the delay is `max(interval, backoff.delay(n - 1))`.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodicSchedule {
    interval: Duration,
    jitter: f64,
    backoff: Backoff,
    initial_delay: Duration,
    failures: u32,
}

impl PeriodicSchedule {
    /// A schedule running every `interval`, without jitter, first run
    /// immediately, and a failure backoff from `interval` up to 16 intervals.
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            jitter: 0.0,
            backoff: Backoff::new(interval, interval.saturating_mul(DEFAULT_BACKOFF_FACTOR)),
            initial_delay: Duration::ZERO,
            failures: 0,
        }
    }

    /// Spreads successful runs by `± fraction * interval` (clamped to `0.0..=1.0`)
    /// so that many pollers started together drift apart.
    pub fn jitter(mut self, fraction: f64) -> Self {
        self.jitter = if fraction.is_nan() {
            0.0
        } else {
            fraction.clamp(0.0, 1.0)
        };
        self
    }

    /// Replaces the failure backoff.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Delays the first run (default: run immediately).
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// The nominal interval between successful runs.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// How many runs have failed in a row.
    pub fn consecutive_failures(&self) -> u32 {
        self.failures
    }

    /// Records `outcome` and returns the delay before the next run.
    pub fn next_delay(&mut self, outcome: Outcome) -> Duration {
        self.next_delay_with(outcome, &mut rand::thread_rng())
    }

    /// Like [`next_delay`](Self::next_delay) with an explicit jitter source.
    pub fn next_delay_with<R: Rng + ?Sized>(&mut self, outcome: Outcome, rng: &mut R) -> Duration {
        match outcome {
            Outcome::Success => {
                self.failures = 0;
                // Stretch by up to `jitter`, then shorten by up to twice that:
                // uniform over interval * [1 - jitter, 1 + jitter].
                let stretched = self
                    .interval
                    .saturating_add(self.interval.mul_f64(self.jitter));
                let spread = if self.jitter > 0.0 {
                    2.0 * self.jitter / (1.0 + self.jitter)
                } else {
                    0.0
                };
                shorten(stretched, spread, rng)
            }
            Outcome::Failure => {
                let attempt = self.failures;
                self.failures = self.failures.saturating_add(1);
                self.backoff.delay_with(attempt, rng).max(self.interval)
            }
        }
    }
}

/// Runs `tick` periodically inside the actor according to `schedule`.
///
/// Returns the handle of the driving future; cancel it with
/// `ctx.cancel_future(handle)` to stop the schedule. The next run is
/// scheduled only after the previous tick's future resolved, so runs never
/// overlap. A tick whose future never resolves stalls the schedule, so
/// bound slow work (e.g. with a timeout) inside the tick.
///
/// While a tick is in flight the actor keeps handling messages; the tick's
/// future gets `&mut` access to the actor whenever it is polled.
pub fn run_periodic<A, F>(ctx: &mut A::Context, schedule: PeriodicSchedule, tick: F) -> SpawnHandle
where
    A: Actor,
    A::Context: AsyncContext<A>,
    F: FnMut(&mut A, &mut A::Context) -> ResponseActFuture<A, Outcome> + 'static,
{
    let first = Box::pin(tokio::time::sleep(schedule.initial_delay));
    ctx.spawn(PeriodicDriver {
        schedule,
        tick: Box::new(tick),
        phase: Phase::Sleeping(first),
    })
}

/// A boxed tick function.
type TickFn<A> =
    Box<dyn FnMut(&mut A, &mut <A as Actor>::Context) -> ResponseActFuture<A, Outcome>>;

/// What the driver is waiting for.
enum Phase<A: Actor> {
    /// Waiting for the next run to be due.
    Sleeping(Pin<Box<Sleep>>),
    /// Waiting for the current run to finish.
    Ticking(ResponseActFuture<A, Outcome>),
}

/// The actor future behind [`run_periodic`]: sleep, tick, repeat.
struct PeriodicDriver<A: Actor> {
    schedule: PeriodicSchedule,
    tick: TickFn<A>,
    phase: Phase<A>,
}

impl<A: Actor> ActorFuture<A> for PeriodicDriver<A> {
    type Output = ();

    fn poll(
        self: Pin<&mut Self>,
        act: &mut A,
        ctx: &mut A::Context,
        task: &mut Context<'_>,
    ) -> Poll<()> {
        let this = self.get_mut();
        loop {
            match &mut this.phase {
                Phase::Sleeping(sleep) => {
                    ready!(sleep.as_mut().poll(task));
                    this.phase = Phase::Ticking((this.tick)(act, ctx));
                }
                Phase::Ticking(run) => {
                    let outcome = ready!(run.as_mut().poll(act, ctx, task));
                    let delay = this.schedule.next_delay(outcome);
                    this.phase = Phase::Sleeping(Box::pin(tokio::time::sleep(delay)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn success_without_jitter_is_exact() {
        let mut s = PeriodicSchedule::new(100 * MS);
        assert_eq!(s.next_delay(Outcome::Success), 100 * MS);
        assert_eq!(s.next_delay(Outcome::Success), 100 * MS);
    }

    #[test]
    fn success_jitter_spreads_both_ways() {
        let mut s = PeriodicSchedule::new(100 * MS).jitter(0.2);
        let mut rng = StdRng::seed_from_u64(3);
        let delays: Vec<_> = (0..2000)
            .map(|_| s.next_delay_with(Outcome::Success, &mut rng))
            .collect();
        assert!(delays.iter().all(|d| *d >= 80 * MS && *d <= 120 * MS));
        assert!(delays.iter().any(|d| *d < 90 * MS));
        assert!(delays.iter().any(|d| *d > 110 * MS));
    }

    #[test]
    fn failures_back_off_then_success_resets() {
        let mut s = PeriodicSchedule::new(10 * MS).backoff(Backoff::new(5 * MS, 80 * MS));
        let failing: Vec<_> = (0..7).map(|_| s.next_delay(Outcome::Failure)).collect();
        // 5 and 10 are raised to the interval; then 20, 40, 80 and the cap.
        assert_eq!(
            failing,
            vec![
                10 * MS,
                10 * MS,
                20 * MS,
                40 * MS,
                80 * MS,
                80 * MS,
                80 * MS
            ]
        );
        assert_eq!(s.consecutive_failures(), 7);
        assert_eq!(s.next_delay(Outcome::Success), 10 * MS);
        assert_eq!(s.consecutive_failures(), 0);
        assert_eq!(s.next_delay(Outcome::Failure), 10 * MS);
    }

    #[test]
    fn default_backoff_caps_at_sixteen_intervals() {
        let mut s = PeriodicSchedule::new(10 * MS);
        let last = (0..20).map(|_| s.next_delay(Outcome::Failure)).last();
        assert_eq!(last, Some(160 * MS));
    }

    #[test]
    fn outcome_from_result() {
        assert_eq!(Outcome::from(Ok::<(), ()>(())), Outcome::Success);
        assert_eq!(Outcome::from(Err::<(), ()>(())), Outcome::Failure);
    }
}
