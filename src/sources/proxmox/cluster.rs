//! [`ClusterClient`]: one logical API over several endpoints of the same cluster (§1.1).
//!
//! Requests go to the first healthy endpoint in configured order. A transport failure (connect,
//! TLS, timeout) marks that endpoint unhealthy and the request moves on to the next one. An
//! unhealthy endpoint is skipped for [`RetryPolicy::reprobe_after`]; after that the next request
//! tries it again with the shorter [`RetryPolicy::probe_timeout`], which is its re-probe (no
//! background task is needed). Transient statuses (408, 425, 429, 502, 503, 504) are retried on
//! the same endpoint within a small budget and a jittered delay. Any other failure (401, 403,
//! 595, decode errors) is the answer: another endpoint of the same cluster would say the same.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::Rng;
use serde::de::DeserializeOwned;

use super::client::{decode_data, decode_list, ApiClient};
use super::endpoint::{EndpointSettings, Product};
use super::error::PlatformError;
use super::flex::Listing;

/// Retry and failover tuning (defaults are the upstream values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries per request on transient statuses.
    pub budget: u32,
    /// Base delay before a retry.
    pub base_delay: Duration,
    /// Up to this much random delay is added to the base.
    pub jitter: Duration,
    /// How long an unhealthy endpoint is skipped before it is tried again.
    pub reprobe_after: Duration,
    /// Timeout of the request that re-probes an unhealthy endpoint.
    pub probe_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            budget: 2,
            base_delay: Duration::from_millis(150),
            jitter: Duration::from_millis(200),
            reprobe_after: Duration::from_secs(10),
            probe_timeout: Duration::from_secs(5),
        }
    }
}

/// Health of one endpoint as last observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointHealth {
    /// Its API base URL.
    pub base_url: String,
    /// Whether the last request to it reached it.
    pub healthy: bool,
    /// The transport error that made it unhealthy.
    pub last_error: Option<String>,
}

/// One endpoint and its health.
#[derive(Debug)]
struct Member {
    client: ApiClient,
    /// `Some((since, error))` while unhealthy.
    down: Mutex<Option<(Instant, String)>>,
}

impl Member {
    /// When it went down, if it is down.
    fn down_since(&self) -> Option<Instant> {
        self.down
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|(at, _)| *at)
    }

    /// Records a request outcome.
    fn mark(&self, failure: Option<&PlatformError>) {
        let mut down = self.down.lock().unwrap_or_else(PoisonError::into_inner);
        match failure {
            Some(e) => {
                let since = down.as_ref().map_or_else(Instant::now, |(at, _)| *at);
                *down = Some((since, e.to_string()));
            }
            None => *down = None,
        }
    }
}

/// A client for a cluster reachable through several endpoints (one is fine too).
#[derive(Debug)]
pub struct ClusterClient {
    members: Vec<Member>,
    policy: RetryPolicy,
}

impl ClusterClient {
    /// A client over `endpoints`, in order of preference; at least one is required.
    pub fn new(product: Product, endpoints: &[EndpointSettings]) -> Result<Self, PlatformError> {
        if endpoints.is_empty() {
            return Err(PlatformError::Config("no endpoint configured".into()));
        }
        let members = endpoints
            .iter()
            .map(|settings| {
                Ok(Member {
                    client: ApiClient::new(product, settings)?,
                    down: Mutex::new(None),
                })
            })
            .collect::<Result<Vec<_>, PlatformError>>()?;
        Ok(ClusterClient {
            members,
            policy: RetryPolicy::default(),
        })
    }

    /// The same client with another retry policy.
    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Health of every endpoint, in configured order.
    pub fn health(&self) -> Vec<EndpointHealth> {
        self.members
            .iter()
            .map(|m| {
                let down = m.down.lock().unwrap_or_else(PoisonError::into_inner);
                EndpointHealth {
                    base_url: m.client.base_url().to_owned(),
                    healthy: down.is_none(),
                    last_error: down.as_ref().map(|(_, e)| e.clone()),
                }
            })
            .collect()
    }

    /// The first endpoint's client (its base URL names the cluster in messages). There always is
    /// one: [`ClusterClient::new`] refuses an empty endpoint list.
    pub fn primary(&self) -> &ApiClient {
        &self.members[0].client
    }

    /// `GET path` decoded from `data`, with failover and retries.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, PlatformError> {
        decode_data(path, &self.get_bytes(path, None).await?)
    }

    /// `GET path` with its own timeout, decoded from `data`.
    pub async fn get_with_timeout<T: DeserializeOwned>(
        &self,
        path: &str,
        timeout: Duration,
    ) -> Result<T, PlatformError> {
        decode_data(path, &self.get_bytes(path, Some(timeout)).await?)
    }

    /// `GET path` of a list, item by item, with failover and retries.
    pub async fn get_list<T: DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<Listing<T>, PlatformError> {
        decode_list(path, &self.get_bytes(path, None).await?)
    }

    /// `GET path` of a list with its own timeout.
    pub async fn get_list_with_timeout<T: DeserializeOwned>(
        &self,
        path: &str,
        timeout: Duration,
    ) -> Result<Listing<T>, PlatformError> {
        decode_list(path, &self.get_bytes(path, Some(timeout)).await?)
    }

    /// The raw body of `GET path` from the first endpoint that answers.
    pub async fn get_bytes(
        &self,
        path: &str,
        timeout: Option<Duration>,
    ) -> Result<Bytes, PlatformError> {
        let now = Instant::now();
        let eligible: Vec<(&Member, bool)> = self
            .members
            .iter()
            .filter_map(|m| match m.down_since() {
                None => Some((m, false)),
                Some(since) if now.duration_since(since) >= self.policy.reprobe_after => {
                    Some((m, true))
                }
                Some(_) => None,
            })
            .collect();
        let order = if eligible.is_empty() {
            // Everything is down and recently failed: try them all rather than fail blind.
            self.members.iter().map(|m| (m, false)).collect()
        } else {
            eligible
        };
        let mut retries_left = self.policy.budget;
        let mut last_error = None;
        for (member, probing) in order {
            let timeout = match (probing, timeout) {
                (true, t) => Some(
                    t.unwrap_or(self.policy.probe_timeout)
                        .min(self.policy.probe_timeout),
                ),
                (false, t) => t,
            };
            match self.attempt(member, path, timeout, &mut retries_left).await {
                Ok(body) => {
                    member.mark(None);
                    return Ok(body);
                }
                Err(e) if e.is_transport() => {
                    tracing::warn!(
                        endpoint = member.client.base_url(),
                        path,
                        error = %e,
                        "endpoint unreachable, trying the next one"
                    );
                    member.mark(Some(&e));
                    last_error = Some(e);
                }
                Err(e) => {
                    member.mark(None);
                    return Err(e);
                }
            }
        }
        Err(last_error.unwrap_or_else(|| PlatformError::Config("no endpoint configured".into())))
    }

    /// Requests from one endpoint, retrying transient statuses while the budget lasts.
    async fn attempt(
        &self,
        member: &Member,
        path: &str,
        timeout: Option<Duration>,
        retries_left: &mut u32,
    ) -> Result<Bytes, PlatformError> {
        loop {
            match member.client.get_bytes(path, timeout).await {
                Err(e) if e.is_transient() && *retries_left > 0 => {
                    *retries_left -= 1;
                    let jitter_ms = u64::try_from(self.policy.jitter.as_millis()).unwrap_or(0);
                    let extra = rand::thread_rng().gen_range(0..=jitter_ms);
                    tokio::time::sleep(self.policy.base_delay + Duration::from_millis(extra)).await;
                }
                other => return other,
            }
        }
    }
}
