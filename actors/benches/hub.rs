//! Hub publish cost with 500 subscribers, with and without a lagging one.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use pulse_actors::Hub;
use std::sync::Arc;
use tokio::runtime::Runtime;

const SUBSCRIBERS: usize = 500;
const CAPACITY: usize = 1024;

/// A hub with `SUBSCRIBERS` subscribers drained by tasks on `rt`, the
/// first `stalled` of which never read.
fn hub_with_subscribers(
    rt: &Runtime,
    stalled: usize,
) -> (Hub<Arc<str>>, Vec<pulse_actors::Subscription<Arc<str>>>) {
    let hub = Hub::new();
    let mut parked = Vec::new();
    for i in 0..SUBSCRIBERS {
        let mut sub = hub.subscribe(CAPACITY);
        if i < stalled {
            parked.push(sub);
            continue;
        }
        rt.spawn(async move {
            while sub.recv().await.is_some() {
                if sub.is_lagged() {
                    sub.drain();
                    sub.resume();
                }
            }
        });
    }
    (hub, parked)
}

fn publish(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("tokio runtime");
    let item: Arc<str> = Arc::from("{\"host\":\"web-1\",\"cpu\":0.42}");

    let (hub, _parked) = hub_with_subscribers(&rt, 0);
    c.bench_function("publish_arc_str_to_500_draining", |b| {
        b.iter(|| hub.publish(item.clone()))
    });
    drop(hub);

    let (hub, stalled) = hub_with_subscribers(&rt, 1);
    // Fill the stalled subscriber's queue so it is lagging from the start.
    while hub.lagging_count() == 0 {
        hub.publish(item.clone());
    }
    c.bench_function("publish_arc_str_to_500_one_lagging", |b| {
        b.iter(|| hub.publish(item.clone()))
    });
    assert_eq!(hub.lagging_count(), 1);
    drop((hub, stalled));

    // Publisher-only cost: 500 subscribers, queues emptied outside the timing.
    let hub = Hub::new();
    let mut subs: Vec<_> = (0..SUBSCRIBERS).map(|_| hub.subscribe(CAPACITY)).collect();
    c.bench_function("publish_arc_str_to_500_sync_drain", |b| {
        b.iter_batched(
            || {
                for sub in &mut subs {
                    sub.drain();
                }
            },
            |()| hub.publish(item.clone()),
            BatchSize::PerIteration,
        )
    });
}

criterion_group!(benches, publish);
criterion_main!(benches);
