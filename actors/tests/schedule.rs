//! Periodic ticks inside an actor: no overlap, backoff, cancellation.

use actix::prelude::*;
use pulse_actors::{run_periodic, Backoff, Outcome, PeriodicSchedule};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const MS: Duration = Duration::from_millis(1);

#[derive(Default)]
struct Record {
    starts: Vec<Instant>,
    in_flight: u32,
    max_in_flight: u32,
    pings_during_tick: u32,
}

/// Polls with a tick that takes `work` and returns outcomes from `script`
/// (then `Success`).
struct Poller {
    record: Arc<Mutex<Record>>,
    schedule: Option<PeriodicSchedule>,
    work: Duration,
    script: Vec<Outcome>,
    handle: Option<SpawnHandle>,
}

impl Poller {
    fn tick(&mut self, _: &mut Context<Self>) -> ResponseActFuture<Self, Outcome> {
        {
            let mut r = self.record.lock().unwrap();
            r.starts.push(Instant::now());
            r.in_flight += 1;
            r.max_in_flight = r.max_in_flight.max(r.in_flight);
        }
        let outcome = if self.script.is_empty() {
            Outcome::Success
        } else {
            self.script.remove(0)
        };
        Box::pin(
            actix::fut::wrap_future(actix_rt::time::sleep(self.work)).map(
                move |_, act: &mut Self, _| {
                    act.record.lock().unwrap().in_flight -= 1;
                    outcome
                },
            ),
        )
    }
}

impl Actor for Poller {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let schedule = self.schedule.take().expect("schedule");
        self.handle = Some(run_periodic(ctx, schedule, Self::tick));
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct Ping;

impl Handler<Ping> for Poller {
    type Result = ();

    fn handle(&mut self, _: Ping, _: &mut Context<Self>) {
        let mut r = self.record.lock().unwrap();
        if r.in_flight > 0 {
            r.pings_during_tick += 1;
        }
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct Cancel;

impl Handler<Cancel> for Poller {
    type Result = ();

    fn handle(&mut self, _: Cancel, ctx: &mut Context<Self>) {
        if let Some(handle) = self.handle.take() {
            ctx.cancel_future(handle);
        }
    }
}

fn start(
    schedule: PeriodicSchedule,
    work: Duration,
    script: Vec<Outcome>,
) -> (Addr<Poller>, Arc<Mutex<Record>>) {
    let record = Arc::new(Mutex::new(Record::default()));
    let addr = Poller {
        record: record.clone(),
        schedule: Some(schedule),
        work,
        script,
        handle: None,
    }
    .start();
    (addr, record)
}

fn gaps(record: &Mutex<Record>) -> Vec<Duration> {
    record
        .lock()
        .unwrap()
        .starts
        .windows(2)
        .map(|w| w[1] - w[0])
        .collect()
}

#[actix_rt::test]
async fn slow_ticks_never_overlap() {
    // Interval 5 ms, each tick takes 20 ms: the next tick waits for the
    // previous one to finish, then for the interval.
    let (addr, record) = start(PeriodicSchedule::new(5 * MS), 20 * MS, vec![]);
    for _ in 0..20 {
        addr.send(Ping).await.unwrap();
        actix_rt::time::sleep(7 * MS).await;
    }
    let r = record.lock().unwrap();
    assert_eq!(r.max_in_flight, 1);
    assert!(r.starts.len() >= 3, "only {} ticks", r.starts.len());
    assert!(
        r.pings_during_tick > 0,
        "the actor kept handling messages during ticks"
    );
    drop(r);
    assert!(
        gaps(&record).iter().all(|g| *g >= 25 * MS),
        "{:?}",
        gaps(&record)
    );
}

#[actix_rt::test]
async fn failures_back_off_and_success_resets() {
    use Outcome::{Failure as F, Success as S};
    let schedule = PeriodicSchedule::new(10 * MS).backoff(Backoff::new(10 * MS, 40 * MS));
    let (_addr, record) = start(schedule, Duration::ZERO, vec![F, F, F, F, S, S]);
    actix_rt::time::sleep(250 * MS).await;
    let gaps = gaps(&record);
    // After failures 1..4: 10, 20, 40, 40; after successes: 10, 10.
    let expected = [10, 20, 40, 40, 10, 10];
    assert!(gaps.len() >= expected.len(), "{gaps:?}");
    for (gap, want) in gaps.iter().zip(expected) {
        assert!(
            *gap >= want * MS && *gap < (want + 25) * MS,
            "gaps {gaps:?}, expected {expected:?}"
        );
    }
}

#[actix_rt::test]
async fn initial_delay_and_cancellation() {
    let schedule = PeriodicSchedule::new(5 * MS).initial_delay(30 * MS);
    let (addr, record) = start(schedule, Duration::ZERO, vec![]);
    actix_rt::time::sleep(15 * MS).await;
    assert!(record.lock().unwrap().starts.is_empty());
    actix_rt::time::sleep(40 * MS).await;
    addr.send(Cancel).await.unwrap();
    let ticks = record.lock().unwrap().starts.len();
    assert!(ticks >= 2);
    actix_rt::time::sleep(30 * MS).await;
    assert_eq!(
        record.lock().unwrap().starts.len(),
        ticks,
        "no ticks after cancel"
    );
}
