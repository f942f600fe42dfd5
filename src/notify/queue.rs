//! The durable delivery queue's record and its retry policy (pure: time is a parameter).
//!
//! One [`Delivery`] is one notification message for one channel. It is `pending` until an attempt
//! succeeds (`sent`), fails for good (`dlq`: 8 attempts, or a failure that retrying cannot fix), or
//! its channel is gone (`cancelled`). Retries back off 1 s, 2 s, 4 s … capped at 60 s, or wait as
//! long as the receiver's `Retry-After` asks (capped at one hour).

use std::time::Duration;

use pulse_alerts::{NotifyItem, NotifyKind};
use serde::{Deserialize, Serialize};

/// Attempts before a delivery is dead-lettered (upstream default).
pub const MAX_ATTEMPTS: u32 = 8;
/// Delay after the first failed attempt.
const BACKOFF_BASE_MS: u64 = 1_000;
/// Longest backoff between two attempts.
const BACKOFF_CAP_MS: u64 = 60_000;
/// Longest wait a `Retry-After` header may impose.
const RETRY_AFTER_CAP_MS: u64 = 3_600_000;
/// Longest error text kept on a record.
const ERROR_TEXT_MAX: usize = 512;

/// Where a delivery goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Channel {
    /// A configured webhook, by id.
    Webhook {
        /// The webhook id.
        id: String,
    },
    /// The configured email recipients.
    Email,
}

impl Channel {
    /// A short stable name used in delivery ids (`webhook:<id>`, `email`).
    pub fn key(&self) -> String {
        match self {
            Channel::Webhook { id } => format!("webhook:{id}"),
            Channel::Email => "email".to_owned(),
        }
    }
}

/// Lifecycle of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// Accepted by the receiver.
    Sent,
    /// Given up on; listable and retryable by hand.
    Dlq,
    /// Its channel was deleted or disabled before it could go out.
    Cancelled,
}

/// Why an attempt failed (upstream failure classes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    /// 401/403 or SMTP authentication refused: retrying with the same credentials cannot help.
    Authentication,
    /// 429 or an SMTP "try later": retried, honouring `Retry-After`.
    RateLimited,
    /// Connection refused, reset, timed out, DNS failure, 5xx: retried.
    Connectivity,
    /// The TLS handshake failed: retried (certificates get fixed).
    Tls,
    /// The channel is misconfigured or forbidden (bad URL, SSRF guard, missing webhook): not
    /// retried.
    Configuration,
    /// The receiver refused the message (other 4xx, permanent SMTP error): not retried.
    Rejected,
    /// Anything else: retried.
    Unknown,
}

impl FailureClass {
    /// Whether another attempt may succeed.
    pub const fn is_retryable(self) -> bool {
        matches!(
            self,
            FailureClass::RateLimited
                | FailureClass::Connectivity
                | FailureClass::Tls
                | FailureClass::Unknown
        )
    }
}

/// One notification message for one channel, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// `<eventId>|<channel key>`: the same notification for the same channel is one delivery,
    /// however often it is enqueued.
    pub id: String,
    /// The organisation.
    pub org: String,
    /// Where it goes.
    pub channel: Channel,
    /// `X-Pulse-Event-ID`: `<alertId>:<event>` of the message (its first item).
    pub event_id: String,
    /// What the message is about.
    pub kind: NotifyKind,
    /// The alerts, one item each.
    pub items: Vec<NotifyItem>,
    /// Where it is in its lifecycle.
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// Enqueued at (unix ms).
    pub created_at: i64,
    /// Next attempt at (unix ms), while pending.
    pub next_attempt_at: i64,
    /// When it was sent, dead-lettered or cancelled (unix ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<i64>,
    /// Class of the last failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure: Option<FailureClass>,
    /// Text of the last failure (never contains secrets: URLs are not echoed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// HTTP status of the last attempt, for webhooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status: Option<u16>,
}

impl Delivery {
    /// A new pending delivery due at once.
    pub fn new(
        org: &str,
        channel: Channel,
        kind: NotifyKind,
        event_id: String,
        items: Vec<NotifyItem>,
        now_ms: i64,
    ) -> Self {
        Delivery {
            id: format!("{event_id}|{}", channel.key()),
            org: org.to_owned(),
            channel,
            event_id,
            kind,
            items,
            status: DeliveryStatus::Pending,
            attempts: 0,
            created_at: now_ms,
            next_attempt_at: now_ms,
            finished_at: None,
            last_failure: None,
            last_error: None,
            last_status: None,
        }
    }

    /// Records a successful attempt.
    pub fn succeeded(&mut self, status: Option<u16>, now_ms: i64) {
        self.attempts = self.attempts.saturating_add(1);
        self.status = DeliveryStatus::Sent;
        self.finished_at = Some(now_ms);
        self.last_status = status;
        self.last_failure = None;
        self.last_error = None;
    }

    /// Records a failed attempt: schedules the next one, or dead-letters the delivery when the
    /// failure cannot be fixed by retrying or the attempts are used up.
    pub fn failed(&mut self, failure: &AttemptFailure, now_ms: i64) {
        self.attempts = self.attempts.saturating_add(1);
        self.last_failure = Some(failure.class);
        self.last_error = Some(truncate(&failure.message, ERROR_TEXT_MAX));
        self.last_status = failure.status;
        if !failure.class.is_retryable() || self.attempts >= MAX_ATTEMPTS {
            self.status = DeliveryStatus::Dlq;
            self.finished_at = Some(now_ms);
            return;
        }
        let wait = failure
            .retry_after
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .map(|ms| ms.min(RETRY_AFTER_CAP_MS))
            .unwrap_or_else(|| backoff_ms(self.attempts));
        self.next_attempt_at = now_ms.saturating_add(i64::try_from(wait).unwrap_or(i64::MAX));
    }

    /// Marks the delivery cancelled (its channel is gone or disabled).
    pub fn cancel(&mut self, reason: &str, now_ms: i64) {
        self.status = DeliveryStatus::Cancelled;
        self.finished_at = Some(now_ms);
        self.last_failure = Some(FailureClass::Configuration);
        self.last_error = Some(truncate(reason, ERROR_TEXT_MAX));
    }

    /// Puts a dead-lettered delivery back in the queue with a fresh attempt budget.
    pub fn requeue(&mut self, now_ms: i64) {
        self.status = DeliveryStatus::Pending;
        self.attempts = 0;
        self.next_attempt_at = now_ms;
        self.finished_at = None;
    }
}

/// What went wrong in one attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptFailure {
    /// The class.
    pub class: FailureClass,
    /// A description without secrets.
    pub message: String,
    /// The receiver's HTTP status, if it answered.
    pub status: Option<u16>,
    /// How long the receiver asked us to wait (`Retry-After`).
    pub retry_after: Option<Duration>,
}

impl AttemptFailure {
    /// A failure without an HTTP status or `Retry-After`.
    pub fn new(class: FailureClass, message: impl Into<String>) -> Self {
        AttemptFailure {
            class,
            message: message.into(),
            status: None,
            retry_after: None,
        }
    }
}

/// The wait after the `attempts`-th failed attempt: 1 s doubling, capped at 60 s.
pub fn backoff_ms(attempts: u32) -> u64 {
    let doublings = attempts.saturating_sub(1).min(16);
    BACKOFF_BASE_MS
        .saturating_mul(1u64 << doublings)
        .min(BACKOFF_CAP_MS)
}

/// `text` cut to at most `max` bytes on a character boundary.
pub fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery() -> Delivery {
        Delivery::new(
            "default",
            Channel::Webhook { id: "w1".into() },
            NotifyKind::Fired,
            "vm-1-cpu:fired-1".into(),
            Vec::new(),
            1_000,
        )
    }

    #[test]
    fn backoff_doubles_from_one_second_to_sixty() {
        let waits: Vec<u64> = (1..=9).map(backoff_ms).collect();
        assert_eq!(
            waits,
            [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]
        );
    }

    #[test]
    fn eight_failed_attempts_dead_letter() {
        let mut d = delivery();
        let failure = AttemptFailure::new(FailureClass::Connectivity, "refused");
        let mut now = 1_000;
        for attempt in 1..MAX_ATTEMPTS {
            d.failed(&failure, now);
            assert_eq!(d.status, DeliveryStatus::Pending, "attempt {attempt}");
            assert_eq!(
                d.next_attempt_at - now,
                i64::try_from(backoff_ms(attempt)).expect("small")
            );
            now = d.next_attempt_at;
        }
        d.failed(&failure, now);
        assert_eq!(d.status, DeliveryStatus::Dlq);
        assert_eq!(d.attempts, MAX_ATTEMPTS);
        d.requeue(now + 5);
        assert_eq!((d.status, d.attempts), (DeliveryStatus::Pending, 0));
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let mut d = delivery();
        let mut failure = AttemptFailure::new(FailureClass::RateLimited, "429");
        failure.retry_after = Some(Duration::from_secs(7));
        d.failed(&failure, 10_000);
        assert_eq!(d.next_attempt_at, 17_000);
        failure.retry_after = Some(Duration::from_secs(86_400));
        d.failed(&failure, 10_000);
        assert_eq!(d.next_attempt_at, 10_000 + 3_600_000);
    }

    #[test]
    fn permanent_failures_dead_letter_at_once() {
        for class in [
            FailureClass::Authentication,
            FailureClass::Configuration,
            FailureClass::Rejected,
        ] {
            let mut d = delivery();
            d.failed(&AttemptFailure::new(class, "no"), 5);
            assert_eq!(d.status, DeliveryStatus::Dlq, "{class:?}");
        }
    }

    #[test]
    fn ids_are_per_event_and_channel() {
        let d = delivery();
        assert_eq!(d.id, "vm-1-cpu:fired-1|webhook:w1");
        assert_eq!(truncate("héllo", 2), "h…");
    }
}
