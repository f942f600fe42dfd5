//! The history service: one store per data dir and the thread that owns all writes to it.
//!
//! Tenant writers hand batches of samples to [`HistorySink::submit`], which never blocks: the
//! batches go through a bounded channel to the store thread, and a batch that finds the channel
//! full (the disk stalls, or maintenance runs long) is dropped and counted. The store thread
//! appends batches in memory, flushes them to disk every `flush_interval` (the most a crash can
//! lose, SPEC §8), and runs rollups and retention every `maintenance_interval` in slices of a few
//! hundred series, draining the channel between slices — so neither ingest nor HTTP ever waits
//! for maintenance. Queries read the store directly from blocking threads (`web::block`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::latest::Latest;
use super::remote_write::RemoteQueue;
use super::store::{MetricsStore, Sample};
use crate::error::{Error, Result};
use crate::telemetry::names;

/// Series handled per maintenance slice before pending batches are appended again.
const MAINTENANCE_SLICE: usize = 256;

/// Tuning of the history service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryTuning {
    /// Flush to disk this often (the most a crash can lose).
    pub flush_interval: Duration,
    /// Run rollups and retention this often.
    pub maintenance_interval: Duration,
    /// Batches that may wait for the store thread before new ones are dropped.
    pub queue_batches: usize,
}

impl Default for HistoryTuning {
    fn default() -> Self {
        HistoryTuning {
            flush_interval: Duration::from_secs(5),
            maintenance_interval: Duration::from_secs(60),
            queue_batches: 1024,
        }
    }
}

enum Command {
    Samples(Vec<Sample>),
    Flush(mpsc::Sender<Result<()>>),
    Stop,
}

/// Counters of the service (also exported as Prometheus metrics).
#[derive(Debug, Default)]
pub struct HistoryCounters {
    /// Samples stored.
    pub stored: AtomicU64,
    /// Samples rejected by the store (not newer than their series' last sample, or invalid).
    pub rejected: AtomicU64,
    /// Samples dropped because the store thread's queue was full.
    pub dropped: AtomicU64,
    /// Completed flushes.
    pub flushes: AtomicU64,
    /// Samples stored before the start of the last completed flush (durable).
    pub durable: AtomicU64,
    /// Failed flushes.
    pub flush_failures: AtomicU64,
}

/// What tenant writers hold: where to send samples, the latest-values map and the remote_write
/// queue. Cheap to clone.
#[derive(Clone)]
pub struct HistorySink {
    tx: SyncSender<Command>,
    counters: Arc<HistoryCounters>,
    /// Newest values per tenant (for `/metrics/resources`).
    pub latest: Latest,
    /// The remote_write queue, when a receiver is configured.
    pub remote: Option<RemoteQueue>,
}

impl std::fmt::Debug for HistorySink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HistorySink").finish_non_exhaustive()
    }
}

impl HistorySink {
    /// Hands a batch to the store thread; drops and counts it if the queue is full. Never blocks.
    pub fn submit(&self, samples: Vec<Sample>) {
        if samples.is_empty() {
            return;
        }
        let n = samples.len() as u64;
        match self.tx.try_send(Command::Samples(samples)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.counters.dropped.fetch_add(n, Ordering::Relaxed);
                metrics::counter!(names::HISTORY_SAMPLES, "outcome" => "dropped").increment(n);
            }
        }
    }
}

/// The store, its thread and the sink handed to writers.
pub struct HistoryService {
    store: Arc<dyn MetricsStore>,
    sink: HistorySink,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl HistoryService {
    /// Starts the store thread for `store`.
    pub fn start(
        store: Arc<dyn MetricsStore>,
        tuning: HistoryTuning,
        remote: Option<RemoteQueue>,
    ) -> Result<HistoryService> {
        let (tx, rx) = mpsc::sync_channel(tuning.queue_batches.max(1));
        let counters = Arc::new(HistoryCounters::default());
        let worker = Worker {
            store: Arc::clone(&store),
            counters: Arc::clone(&counters),
            tuning,
        };
        let thread = std::thread::Builder::new()
            .name("pulse-history".into())
            .spawn(move || worker.run(rx))
            .map_err(|e| Error::Internal(format!("history thread: {e}")))?;
        Ok(HistoryService {
            store,
            sink: HistorySink {
                tx,
                counters,
                latest: Latest::default(),
                remote,
            },
            thread: Mutex::new(Some(thread)),
        })
    }

    /// The store, for queries (call from a blocking context).
    pub fn store(&self) -> &Arc<dyn MetricsStore> {
        &self.store
    }

    /// The sink for tenant writers.
    pub fn sink(&self) -> HistorySink {
        self.sink.clone()
    }

    /// The service's counters.
    pub fn counters(&self) -> &HistoryCounters {
        &self.sink.counters
    }

    /// Appends everything queued so far and flushes it to disk; returns once it is durable.
    /// Blocks: call from a blocking context.
    pub fn flush_now(&self) -> Result<()> {
        let (tx, rx) = mpsc::channel();
        self.sink
            .tx
            .send(Command::Flush(tx))
            .map_err(|_| Error::Unavailable("history store thread stopped".into()))?;
        rx.recv()
            .map_err(|_| Error::Unavailable("history store thread stopped".into()))?
    }

    /// Stops the store thread after a final flush. Idempotent.
    pub fn stop(&self) {
        let handle = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(handle) = handle {
            let _ = self.sink.tx.send(Command::Stop);
            let _ = handle.join();
        }
    }
}

impl Drop for HistoryService {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The store thread's state.
struct Worker {
    store: Arc<dyn MetricsStore>,
    counters: Arc<HistoryCounters>,
    tuning: HistoryTuning,
}

impl Worker {
    fn run(self, rx: mpsc::Receiver<Command>) {
        let mut next_flush = Instant::now() + self.tuning.flush_interval;
        // A first pass at once: after a restart it re-derives the open rollup heads.
        let mut next_maintenance = Instant::now();
        let mut dirty = false;
        loop {
            let now = Instant::now();
            if now >= next_flush {
                if dirty {
                    let _ = self.flush();
                    dirty = false;
                }
                next_flush = now + self.tuning.flush_interval;
            }
            if now >= next_maintenance {
                if !self.maintain(&rx) {
                    break;
                }
                next_maintenance = Instant::now() + self.tuning.maintenance_interval;
                continue;
            }
            let wait = next_flush
                .min(next_maintenance)
                .saturating_duration_since(now);
            match rx.recv_timeout(wait) {
                Ok(Command::Samples(batch)) => {
                    self.append(&batch);
                    dirty = true;
                }
                Ok(Command::Flush(reply)) => {
                    let _ = reply.send(self.flush());
                    dirty = false;
                }
                Ok(Command::Stop) | Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
        let _ = self.flush();
    }

    fn append(&self, batch: &[Sample]) {
        let summary = self.store.append(batch);
        let rejected = (summary.out_of_order + summary.invalid) as u64;
        self.counters
            .stored
            .fetch_add(summary.accepted as u64, Ordering::Relaxed);
        self.counters
            .rejected
            .fetch_add(rejected, Ordering::Relaxed);
        metrics::counter!(names::HISTORY_SAMPLES, "outcome" => "stored")
            .increment(summary.accepted as u64);
        if summary.out_of_order > 0 {
            metrics::counter!(names::HISTORY_SAMPLES, "outcome" => "out_of_order")
                .increment(summary.out_of_order as u64);
        }
        if summary.invalid > 0 {
            metrics::counter!(names::HISTORY_SAMPLES, "outcome" => "invalid")
                .increment(summary.invalid as u64);
        }
    }

    fn flush(&self) -> Result<()> {
        let started = Instant::now();
        // Appends happen on this thread only, so everything counted so far is in this flush.
        let stored = self.counters.stored.load(Ordering::Relaxed);
        let result = self.store.flush();
        metrics::histogram!(names::HISTORY_FLUSH_DURATION).record(started.elapsed().as_secs_f64());
        match &result {
            Ok(()) => {
                self.counters.flushes.fetch_add(1, Ordering::Relaxed);
                self.counters.durable.store(stored, Ordering::Relaxed);
                metrics::gauge!(names::HISTORY_DURABLE).set(stored as f64);
                metrics::counter!(names::HISTORY_FLUSHES, "outcome" => "ok").increment(1);
            }
            Err(e) => {
                self.counters.flush_failures.fetch_add(1, Ordering::Relaxed);
                metrics::counter!(names::HISTORY_FLUSHES, "outcome" => "error").increment(1);
                tracing::error!(error = %e, "metrics history flush failed");
            }
        }
        result
    }

    /// One full rollup + retention pass in slices; between slices queued batches are appended
    /// and flush requests answered. Returns `false` if asked to stop meanwhile.
    fn maintain(&self, rx: &mpsc::Receiver<Command>) -> bool {
        let started = Instant::now();
        loop {
            let now_ms = crate::monitor::clock::now_millis();
            match self.store.maintain(now_ms, MAINTENANCE_SLICE) {
                Ok(progress) if progress.done => break,
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, "metrics history maintenance failed");
                    break;
                }
            }
            loop {
                match rx.try_recv() {
                    Ok(Command::Samples(batch)) => self.append(&batch),
                    Ok(Command::Flush(reply)) => {
                        let _ = reply.send(self.flush());
                    }
                    Ok(Command::Stop) | Err(mpsc::TryRecvError::Disconnected) => return false,
                    Err(mpsc::TryRecvError::Empty) => break,
                }
            }
        }
        metrics::gauge!(names::HISTORY_SERIES).set(self.store.series_count() as f64);
        tracing::debug!(elapsed = ?started.elapsed(), "metrics history maintenance pass");
        true
    }
}
