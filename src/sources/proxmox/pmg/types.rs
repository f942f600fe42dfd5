//! Wire shapes of the Proxmox Mail Gateway endpoints Pulse reads (reference §3). Every number is
//! "flexible": PMG sends counters as integers, floats or strings depending on version.

use serde::Deserialize;

use crate::sources::proxmox::flex;

/// `GET /version`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Version {
    /// e.g. `8.1.2`.
    #[serde(default, deserialize_with = "flex::string")]
    pub version: Option<String>,
    /// e.g. `8.1`.
    #[serde(default, deserialize_with = "flex::string")]
    pub release: Option<String>,
}

/// `GET /statistics/mail`: today's mail counters.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct MailStatistics {
    /// All mails.
    #[serde(default, deserialize_with = "flex::f64")]
    pub count: Option<f64>,
    /// Incoming mails.
    #[serde(default, deserialize_with = "flex::f64")]
    pub count_in: Option<f64>,
    /// Outgoing mails.
    #[serde(default, deserialize_with = "flex::f64")]
    pub count_out: Option<f64>,
    /// Incoming spam.
    #[serde(default, deserialize_with = "flex::f64")]
    pub spamcount_in: Option<f64>,
    /// Outgoing spam.
    #[serde(default, deserialize_with = "flex::f64")]
    pub spamcount_out: Option<f64>,
    /// Incoming viruses.
    #[serde(default, deserialize_with = "flex::f64")]
    pub viruscount_in: Option<f64>,
    /// Outgoing viruses.
    #[serde(default, deserialize_with = "flex::f64")]
    pub viruscount_out: Option<f64>,
    /// Incoming bounces.
    #[serde(default, deserialize_with = "flex::f64")]
    pub bounces_in: Option<f64>,
    /// Outgoing bounces.
    #[serde(default, deserialize_with = "flex::f64")]
    pub bounces_out: Option<f64>,
    /// Incoming bytes.
    #[serde(default, deserialize_with = "flex::f64")]
    pub bytes_in: Option<f64>,
    /// Outgoing bytes.
    #[serde(default, deserialize_with = "flex::f64")]
    pub bytes_out: Option<f64>,
    /// Greylisted.
    #[serde(default, deserialize_with = "flex::f64")]
    pub glcount: Option<f64>,
    /// Junk (incoming).
    #[serde(default, deserialize_with = "flex::f64")]
    pub junk_in: Option<f64>,
    /// RBL rejects.
    #[serde(default, deserialize_with = "flex::f64")]
    pub rbl_rejects: Option<f64>,
    /// Pregreet rejects.
    #[serde(default, deserialize_with = "flex::f64")]
    pub pregreet_rejects: Option<f64>,
    /// Average processing time (s).
    #[serde(default, deserialize_with = "flex::f64")]
    pub avptime: Option<f64>,
}

/// `GET /quarantine/spamstatus` or `/quarantine/virusstatus`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct QuarantineStatus {
    /// Mails in quarantine.
    #[serde(default, deserialize_with = "flex::f64")]
    pub count: Option<f64>,
    /// Average size (bytes).
    #[serde(default, deserialize_with = "flex::f64")]
    pub avgbytes: Option<f64>,
    /// Average spam score.
    #[serde(default, deserialize_with = "flex::f64")]
    pub avgspam: Option<f64>,
    /// Total size (MB).
    #[serde(default, deserialize_with = "flex::f64")]
    pub mbytes: Option<f64>,
}

/// `GET /nodes/{node}/postfix/queue`: queue depths.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct PostfixQueue {
    /// Active queue.
    #[serde(default, deserialize_with = "flex::u64")]
    pub active: Option<u64>,
    /// Deferred queue.
    #[serde(default, deserialize_with = "flex::u64")]
    pub deferred: Option<u64>,
    /// Hold queue.
    #[serde(default, deserialize_with = "flex::u64")]
    pub hold: Option<u64>,
    /// Incoming queue.
    #[serde(default, deserialize_with = "flex::u64")]
    pub incoming: Option<u64>,
    /// Age of the oldest queued mail (s).
    #[serde(default, deserialize_with = "flex::u64")]
    pub oldest_age: Option<u64>,
}

/// One entry of `GET /config/cluster/status`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ClusterNode {
    /// Node name.
    pub name: String,
    /// Cluster id.
    #[serde(default, deserialize_with = "flex::u64")]
    pub cid: Option<u64>,
    /// `master` or `node`.
    #[serde(rename = "type", default, deserialize_with = "flex::string")]
    pub kind: Option<String>,
    /// Address.
    #[serde(default, deserialize_with = "flex::string")]
    pub ip: Option<String>,
}

/// One entry of `GET /nodes` (fallback node list).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct NodeEntry {
    /// Node name.
    pub node: String,
}
