//! Prometheus `remote_write` sink (SPEC §9): every resource sample, as the series and labels of
//! `/metrics/resources`, to any compatible receiver (Prometheus, Mimir, VictoriaMetrics, Thanos).
//!
//! Writers [`RemoteQueue::offer`] samples into a bounded queue (oldest samples are dropped and
//! counted when it is full, since a receiver rejects stale samples anyway). One sender task takes
//! up to `batch_max` samples every `interval` (or at once when a full batch is waiting), encodes a
//! `WriteRequest` (protobuf, snappy block format) and POSTs it; network errors, 5xx and 429 are
//! retried with exponential backoff, other 4xx answers drop the batch (counted). Health is exported
//! as `pulse_remote_write_*` metrics.

pub mod proto;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prost::Message;
use tokio::sync::Notify;

use super::latest::ResourceLabels;
use crate::config::Secret;
use crate::error::{Error, Result};
use crate::telemetry::names;

/// How the sender authenticates to the receiver.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum RemoteAuth {
    /// No credentials.
    #[default]
    None,
    /// HTTP basic auth.
    Basic {
        /// User name.
        username: String,
        /// Password.
        password: Secret,
    },
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
}

/// Settings of the sink.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteWriteConfig {
    /// The receiver, e.g. `http://prometheus:9090/api/v1/write`.
    pub url: String,
    /// Credentials.
    pub auth: RemoteAuth,
    /// Samples the queue holds at most.
    pub queue_capacity: usize,
    /// Samples per request at most.
    pub batch_max: usize,
    /// Send at least this often while samples wait.
    pub interval: Duration,
    /// Timeout of one request.
    pub timeout: Duration,
    /// Attempts per batch before it is dropped.
    pub max_attempts: u32,
}

impl RemoteWriteConfig {
    /// Defaults for `url`.
    pub fn new(url: impl Into<String>) -> Self {
        RemoteWriteConfig {
            url: url.into(),
            auth: RemoteAuth::None,
            queue_capacity: 100_000,
            batch_max: 5_000,
            interval: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
            max_attempts: 5,
        }
    }
}

/// One sample of one resource series.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteSample {
    /// Series name (`pulse_resource_*`).
    pub name: &'static str,
    /// The resource's labels.
    pub labels: Arc<ResourceLabels>,
    /// The value.
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    pub ts_ms: i64,
}

/// The bounded queue between writers and the sender. Cheap to clone.
#[derive(Clone, Debug)]
pub struct RemoteQueue {
    inner: Arc<QueueInner>,
}

#[derive(Debug)]
struct QueueInner {
    samples: Mutex<VecDeque<RemoteSample>>,
    capacity: usize,
    batch: usize,
    ready: Notify,
}

impl RemoteQueue {
    /// A queue of at most `capacity` samples that wakes the sender at `batch` samples.
    pub fn new(capacity: usize, batch: usize) -> Self {
        RemoteQueue {
            inner: Arc::new(QueueInner {
                samples: Mutex::new(VecDeque::new()),
                capacity: capacity.max(1),
                batch: batch.max(1),
                ready: Notify::new(),
            }),
        }
    }

    /// Adds samples, dropping (and counting) the oldest ones beyond capacity. Never blocks on I/O.
    pub fn offer(&self, samples: Vec<RemoteSample>) {
        let Ok(mut q) = self.inner.samples.lock() else {
            return;
        };
        q.extend(samples);
        let excess = q.len().saturating_sub(self.inner.capacity);
        if excess > 0 {
            q.drain(..excess);
            metrics::counter!(names::REMOTE_WRITE_SAMPLES, "outcome" => "dropped")
                .increment(excess as u64);
        }
        metrics::gauge!(names::REMOTE_WRITE_QUEUE).set(q.len() as f64);
        if q.len() >= self.inner.batch {
            self.inner.ready.notify_one();
        }
    }

    /// Takes up to `max` of the oldest samples.
    fn take(&self, max: usize) -> Vec<RemoteSample> {
        let Ok(mut q) = self.inner.samples.lock() else {
            return Vec::new();
        };
        let n = q.len().min(max);
        let out: Vec<RemoteSample> = q.drain(..n).collect();
        metrics::gauge!(names::REMOTE_WRITE_QUEUE).set(q.len() as f64);
        out
    }

    /// Samples waiting.
    pub fn len(&self) -> usize {
        self.inner.samples.lock().map(|q| q.len()).unwrap_or(0)
    }

    /// Whether no sample waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Builds the `WriteRequest` of `samples`: one series per (name, labels), labels sorted by name,
/// samples in time order with duplicates of a timestamp dropped (a receiver rejects them).
pub fn build_request(samples: &[RemoteSample]) -> proto::WriteRequest {
    let mut series: BTreeMap<(&str, &ResourceLabels), Vec<proto::Sample>> = BTreeMap::new();
    for s in samples {
        series
            .entry((s.name, &*s.labels))
            .or_default()
            .push(proto::Sample {
                value: s.value,
                timestamp: s.ts_ms,
            });
    }
    let timeseries = series
        .into_iter()
        .map(|((name, labels), mut samples)| {
            samples.sort_by_key(|s| s.timestamp);
            samples.dedup_by_key(|s| s.timestamp);
            let mut pairs = vec![proto::Label {
                name: "__name__".into(),
                value: name.into(),
            }];
            pairs.extend(labels.pairs().iter().map(|(k, v)| proto::Label {
                name: (*k).into(),
                value: (*v).into(),
            }));
            proto::TimeSeries {
                labels: pairs,
                samples,
            }
        })
        .collect();
    proto::WriteRequest { timeseries }
}

/// Protobuf-encodes and snappy-compresses (block format) a request body.
pub fn encode_body(request: &proto::WriteRequest) -> Result<Vec<u8>> {
    snap::raw::Encoder::new()
        .compress_vec(&request.encode_to_vec())
        .map_err(|e| Error::Internal(format!("snappy: {e}")))
}

/// Outcome of one POST.
enum Sent {
    Ok,
    Retry(String),
    Reject(String),
}

/// The sender task: owns the HTTP client and drains the queue until the process ends.
pub struct RemoteWriter {
    config: RemoteWriteConfig,
    queue: RemoteQueue,
    client: reqwest::Client,
}

impl RemoteWriter {
    /// A sender for `config`, with its queue.
    pub fn new(config: RemoteWriteConfig) -> Result<RemoteWriter> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent(concat!("pulse/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Internal(format!("remote_write client: {e}")))?;
        let queue = RemoteQueue::new(config.queue_capacity, config.batch_max);
        Ok(RemoteWriter {
            config,
            queue,
            client,
        })
    }

    /// The queue writers offer samples to.
    pub fn queue(&self) -> RemoteQueue {
        self.queue.clone()
    }

    /// Sends batches forever (spawn it on the runtime).
    pub async fn run(self) {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(self.config.interval) => {}
                _ = self.queue.inner.ready.notified() => {}
            }
            loop {
                let batch = self.queue.take(self.config.batch_max);
                if batch.is_empty() {
                    break;
                }
                self.deliver(&batch).await;
                if batch.len() < self.config.batch_max {
                    break;
                }
            }
        }
    }

    async fn deliver(&self, batch: &[RemoteSample]) {
        let n = batch.len() as u64;
        let body = match encode_body(&build_request(batch)) {
            Ok(b) => bytes::Bytes::from(b),
            Err(e) => {
                tracing::error!(error = %e, "remote_write encoding failed");
                metrics::counter!(names::REMOTE_WRITE_SAMPLES, "outcome" => "failed").increment(n);
                return;
            }
        };
        let mut delay = Duration::from_millis(500);
        for attempt in 1..=self.config.max_attempts {
            match self.post(body.clone()).await {
                Sent::Ok => {
                    metrics::counter!(names::REMOTE_WRITE_REQUESTS, "outcome" => "success")
                        .increment(1);
                    metrics::counter!(names::REMOTE_WRITE_SAMPLES, "outcome" => "sent")
                        .increment(n);
                    metrics::gauge!(names::REMOTE_WRITE_LAST_SUCCESS)
                        .set(crate::monitor::clock::now_millis() as f64 / 1000.0);
                    return;
                }
                Sent::Reject(why) => {
                    tracing::warn!(reason = %why, samples = n, "remote_write batch rejected");
                    break;
                }
                Sent::Retry(why) if attempt < self.config.max_attempts => {
                    metrics::counter!(names::REMOTE_WRITE_REQUESTS, "outcome" => "retry")
                        .increment(1);
                    tracing::debug!(reason = %why, attempt, "remote_write retry");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(30));
                }
                Sent::Retry(why) => {
                    tracing::warn!(reason = %why, samples = n, "remote_write gave up on a batch");
                }
            }
        }
        metrics::counter!(names::REMOTE_WRITE_REQUESTS, "outcome" => "failure").increment(1);
        metrics::counter!(names::REMOTE_WRITE_SAMPLES, "outcome" => "failed").increment(n);
    }

    async fn post(&self, body: bytes::Bytes) -> Sent {
        let mut req = self
            .client
            .post(&self.config.url)
            .header("Content-Encoding", "snappy")
            .header("Content-Type", "application/x-protobuf")
            .header("X-Prometheus-Remote-Write-Version", "0.1.0")
            .body(body);
        req = match &self.config.auth {
            RemoteAuth::None => req,
            RemoteAuth::Basic { username, password } => {
                req.basic_auth(username, Some(password.expose()))
            }
            RemoteAuth::Bearer(token) => req.bearer_auth(token.expose()),
        };
        match req.send().await {
            Ok(resp) if resp.status().is_success() => Sent::Ok,
            Ok(resp) => {
                let status = resp.status();
                let why = format!("HTTP {status}");
                if status.is_server_error() || status.as_u16() == 429 {
                    Sent::Retry(why)
                } else {
                    Sent::Reject(why)
                }
            }
            Err(e) => Sent::Retry(e.without_url().to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &'static str, id: &str, ts: i64, v: f64) -> RemoteSample {
        RemoteSample {
            name,
            labels: Arc::new(ResourceLabels {
                org: Arc::from("default"),
                id: id.into(),
                resource_type: "vm",
                name: "web".into(),
                source: "proxmox".into(),
            }),
            value: v,
            ts_ms: ts,
        }
    }

    #[test]
    fn request_groups_series_sorts_labels_and_round_trips() {
        let batch = vec![
            sample("pulse_resource_cpu_percent", "vm-1", 2000, 2.0),
            sample("pulse_resource_cpu_percent", "vm-1", 1000, 1.0),
            sample("pulse_resource_cpu_percent", "vm-1", 1000, 1.5),
            sample("pulse_resource_cpu_percent", "vm-2", 1000, 3.0),
        ];
        let req = build_request(&batch);
        assert_eq!(req.timeseries.len(), 2);
        let first = &req.timeseries[0];
        let names: Vec<&str> = first.labels.iter().map(|l| l.name.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        assert_eq!(names[0], "__name__");
        assert_eq!(
            first
                .samples
                .iter()
                .map(|s| s.timestamp)
                .collect::<Vec<_>>(),
            vec![1000, 2000]
        );
        let body = encode_body(&req).unwrap();
        let raw = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
        assert_eq!(proto::WriteRequest::decode(raw.as_slice()).unwrap(), req);
    }

    #[test]
    fn queue_drops_oldest_beyond_capacity() {
        let q = RemoteQueue::new(3, 2);
        q.offer((0..5).map(|i| sample("x", "vm", i, 0.0)).collect());
        assert_eq!(q.len(), 3);
        let taken = q.take(10);
        assert_eq!(
            taken.iter().map(|s| s.ts_ms).collect::<Vec<_>>(),
            vec![2, 3, 4]
        );
        assert!(q.is_empty());
    }
}
