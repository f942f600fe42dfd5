//! PMG poll → [`SourceSnapshot`] (source `pmg`, scope `pmg:<instance>`): one `pmg` record (source
//! id `<instance>`) with today's mail counts, the queue depths per node and in total, and the
//! spam and virus quarantines. A gateway with mail stuck in the queues is still `online`; alert
//! rules judge the queue depths.

use pulse_model::{
    FacetKey, ResourceType, Source, SourceRecord, SourceSnapshot, Status, Timestamp,
};
use serde_json::{json, Value};

use crate::sources::proxmox::pmg::types::QuarantineStatus;
use crate::sources::proxmox::pmg::PmgPoll;

/// The snapshot of a PMG poll for the instance `instance`, observed at `now`.
pub fn normalise_pmg(poll: &PmgPoll, instance: &str, now: Timestamp) -> SourceSnapshot {
    let mut record = SourceRecord::new(instance, ResourceType::Pmg, instance, Status::Online);
    let sum = |f: fn(&crate::sources::proxmox::pmg::types::PostfixQueue) -> Option<u64>| {
        poll.nodes
            .iter()
            .filter_map(|n| n.queue.as_ref().and_then(f))
            .sum::<u64>()
    };
    let nodes: Vec<Value> = poll
        .nodes
        .iter()
        .map(|n| {
            json!({
                "name": n.name,
                "role": n.role,
                "ip": n.ip,
                "queue": n.queue.as_ref().map(|q| json!({
                    "active": q.active, "deferred": q.deferred, "hold": q.hold,
                    "incoming": q.incoming, "oldestAge": q.oldest_age,
                })),
            })
        })
        .collect();
    let queues_known = poll.nodes.iter().any(|n| n.queue.is_some());
    let mail = poll.mail.as_ref().map(|m| {
        json!({
            "count": m.count, "countIn": m.count_in, "countOut": m.count_out,
            "spamIn": m.spamcount_in, "spamOut": m.spamcount_out,
            "virusIn": m.viruscount_in, "virusOut": m.viruscount_out,
            "bouncesIn": m.bounces_in, "bouncesOut": m.bounces_out,
            "bytesIn": m.bytes_in, "bytesOut": m.bytes_out,
            "greylistCount": m.glcount, "junkIn": m.junk_in,
            "rblRejects": m.rbl_rejects, "pregreetRejects": m.pregreet_rejects,
            "averageProcessTime": m.avptime,
        })
    });
    record.facets.insert(
        FacetKey::Pmg,
        json!({
            "instance": instance,
            "version": poll.version.version,
            "release": poll.version.release,
            "nodes": nodes,
            "queue": queues_known.then(|| json!({
                "active": sum(|q| q.active),
                "deferred": sum(|q| q.deferred),
                "hold": sum(|q| q.hold),
                "incoming": sum(|q| q.incoming),
                "oldestAge": poll.nodes.iter().filter_map(|n| n.queue.as_ref().and_then(|q| q.oldest_age)).max(),
            })),
            "mail": mail,
            "quarantine": {
                "spam": poll.spam.as_ref().map(quarantine),
                "virus": poll.virus.as_ref().map(quarantine),
            },
        }),
    );
    if !poll.warnings.is_empty() {
        record.error = Some(poll.warnings.join("; "));
    }
    SourceSnapshot {
        source: Source::Pmg,
        scope: format!("pmg:{instance}"),
        observed_at: now,
        records: vec![record],
    }
}

/// A quarantine's figures for the facet.
fn quarantine(q: &QuarantineStatus) -> Value {
    json!({"count": q.count, "averageBytes": q.avgbytes, "averageSpamScore": q.avgspam, "megabytes": q.mbytes})
}
