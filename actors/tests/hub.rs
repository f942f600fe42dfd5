//! Fan-out hub semantics: lag, resume, removal, bounds, streams.

use actix::prelude::*;
use pulse_actors::{Hub, HubEvent, PublishReport};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[actix_rt::test]
async fn every_subscriber_gets_every_item() {
    let hub = Hub::new();
    let mut subs: Vec<_> = (0..3).map(|_| hub.subscribe(8)).collect();
    for i in 0..5u32 {
        let report = hub.publish(i);
        assert_eq!(
            report,
            PublishReport {
                delivered: 3,
                ..Default::default()
            }
        );
    }
    for sub in &mut subs {
        let mut got = Vec::new();
        while let Some(i) = sub.try_recv() {
            got.push(i);
        }
        assert_eq!(got, [0, 1, 2, 3, 4]);
    }
    assert_eq!(subs[0].try_recv(), None);
    assert_eq!(hub.subscriber_count(), 3);
}

#[actix_rt::test]
async fn full_queue_lags_then_skips_until_resume() {
    let hub = Hub::new();
    let mut slow = hub.subscribe(2);
    let mut fast = hub.subscribe(2);
    let mut reports = Vec::new();
    for i in 0..6u32 {
        reports.push(hub.publish(i));
        assert_eq!(fast.try_recv(), Some(i));
    }
    assert_eq!(reports[0].delivered, 2);
    assert_eq!(reports[1].delivered, 2);
    assert_eq!(
        reports[2],
        PublishReport {
            delivered: 1,
            newly_lagged: 1,
            ..Default::default()
        }
    );
    for report in &reports[3..] {
        assert_eq!(
            *report,
            PublishReport {
                delivered: 1,
                skipped_lagging: 1,
                ..Default::default()
            }
        );
    }
    assert!(slow.is_lagged());
    assert_eq!(hub.lagging_count(), 1);

    // The intended reaction: drain the stale queue, resume, re-sync.
    assert_eq!(slow.drain(), 2);
    assert_eq!(slow.resume(), 4, "items 2..=5 were dropped");
    assert!(!slow.is_lagged());
    assert_eq!(hub.lagging_count(), 0);
    assert_eq!(slow.resume(), 0);
    hub.publish(6);
    assert_eq!(slow.try_recv(), Some(6));
}

#[actix_rt::test]
async fn dropped_subscribers_are_removed() {
    let hub = Hub::new();
    let keep = hub.subscribe(4);
    let gone = hub.subscribe(4);
    let lagging_then_gone = hub.subscribe(1);
    hub.publish(1u8);
    hub.publish(2u8); // lags the third subscriber
    drop(gone);
    drop(lagging_then_gone);
    assert_eq!(hub.subscriber_count(), 1);
    let report = hub.publish(3u8);
    assert_eq!(
        report,
        PublishReport {
            delivered: 1,
            closed_removed: 2,
            ..Default::default()
        }
    );
    assert_eq!(hub.publish(4u8).closed_removed, 0);
    drop(keep);
}

#[actix_rt::test]
async fn memory_per_subscriber_is_bounded_by_capacity() {
    let hub = Hub::new();
    let stalled = hub.subscribe(16);
    let item: Arc<str> = Arc::from("x".repeat(1024));
    for _ in 0..100_000 {
        hub.publish(item.clone());
    }
    // Only the queued clones are alive: the hub keeps nothing else.
    assert_eq!(Arc::strong_count(&item), 1 + 16);
    assert_eq!(stalled.len(), 16);
    assert_eq!(stalled.capacity(), 16);
    assert_eq!(stalled.resume(), 100_000 - 16);
}

#[actix_rt::test]
async fn a_stalled_subscriber_neither_blocks_nor_delays_the_others() {
    const ITEMS: u64 = 20_000;
    let hub = Hub::new();
    let _stalled = hub.subscribe(4);
    let mut consumers = Vec::new();
    for _ in 0..4 {
        let mut sub = hub.subscribe(64);
        consumers.push(actix_rt::spawn(async move {
            let mut next = 0;
            let mut resyncs = 0;
            while next < ITEMS {
                let Some(item) = sub.recv().await else { break };
                if sub.is_lagged() {
                    // Never expected here, but keep the protocol honest.
                    sub.drain();
                    sub.resume();
                    resyncs += 1;
                }
                assert!(item >= next);
                next = item + 1;
            }
            (next, resyncs)
        }));
    }
    let started = Instant::now();
    let mut total = PublishReport::default();
    for i in 0..ITEMS {
        let report = hub.publish(i);
        total.delivered += report.delivered;
        total.skipped_lagging += report.skipped_lagging;
        total.newly_lagged += report.newly_lagged;
        if i % 32 == 31 {
            // Let the consumers run; the stalled one never does.
            actix_rt::task::yield_now().await;
        }
    }
    let publish_time = started.elapsed();
    for consumer in consumers {
        assert_eq!(
            consumer.await.unwrap(),
            (ITEMS, 0),
            "a live consumer missed items"
        );
    }
    assert_eq!(total.newly_lagged, 1);
    assert_eq!(total.skipped_lagging as u64, ITEMS - 5);
    assert_eq!(total.delivered as u64, 4 * ITEMS + 4);
    assert!(
        publish_time < Duration::from_secs(5),
        "publishing took {publish_time:?}"
    );
}

/// A session-like actor that consumes lag-aware hub events.
struct Session {
    log: Arc<Mutex<Vec<HubEvent<u32>>>>,
    stall_first: bool,
}

impl Actor for Session {
    type Context = Context<Self>;
}

impl StreamHandler<HubEvent<u32>> for Session {
    fn handle(&mut self, event: HubEvent<u32>, ctx: &mut Context<Self>) {
        self.log.lock().unwrap().push(event);
        if std::mem::take(&mut self.stall_first) {
            // Simulate a slow socket: stop consuming for a while.
            ctx.wait(actix::fut::wrap_future(actix_rt::time::sleep(
                Duration::from_millis(50),
            )));
        }
    }
}

#[actix_rt::test]
async fn an_actor_consumes_a_subscription_as_a_stream() {
    let hub = Hub::new();
    let log = Arc::new(Mutex::new(Vec::new()));
    let sub = hub.subscribe(4);
    let session_log = log.clone();
    let _session = Session::create(move |ctx| {
        ctx.add_stream(sub.events());
        Session {
            log: session_log,
            stall_first: true,
        }
    });
    hub.publish(0);
    actix_rt::time::sleep(Duration::from_millis(10)).await; // session now stalled
    for i in 1..=20 {
        hub.publish(i);
    }
    assert_eq!(hub.lagging_count(), 1);
    actix_rt::time::sleep(Duration::from_millis(80)).await; // stall over, lag handled
    hub.publish(21);
    actix_rt::time::sleep(Duration::from_millis(10)).await;
    let log = log.lock().unwrap().clone();
    assert_eq!(
        log,
        vec![
            HubEvent::Item(0),
            HubEvent::Lagged {
                dropped: 16,
                discarded: 4
            },
            HubEvent::Item(21),
        ]
    );
    assert_eq!(hub.lagging_count(), 0);
}

#[actix_rt::test]
async fn raw_subscription_is_a_stream_that_ends_with_the_hub() {
    struct Collect(Arc<Mutex<Vec<u8>>>, Arc<Mutex<bool>>);
    impl Actor for Collect {
        type Context = Context<Self>;
    }
    impl StreamHandler<u8> for Collect {
        fn handle(&mut self, item: u8, _: &mut Context<Self>) {
            self.0.lock().unwrap().push(item);
        }
        fn finished(&mut self, _: &mut Context<Self>) {
            *self.1.lock().unwrap() = true;
        }
    }
    let hub = Hub::new();
    let (items, finished) = (
        Arc::new(Mutex::new(Vec::new())),
        Arc::new(Mutex::new(false)),
    );
    let sub = hub.subscribe(8);
    let (i, f) = (items.clone(), finished.clone());
    let _collector = Collect::create(move |ctx| {
        ctx.add_stream(sub);
        Collect(i, f)
    });
    let clone = hub.clone();
    hub.publish(1);
    clone.publish(2);
    drop(hub);
    drop(clone);
    actix_rt::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(*items.lock().unwrap(), [1, 2]);
    assert!(*finished.lock().unwrap());
}
