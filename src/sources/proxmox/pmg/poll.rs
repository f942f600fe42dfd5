//! One poll of a Proxmox Mail Gateway: version, cluster members with their postfix queues, today's
//! mail statistics and the quarantines. Only the version call is essential (it proves the
//! gateway answers); every other failure is a warning.

use crate::sources::proxmox::error::PlatformError;

use super::client::PmgClient;
use super::types::{MailStatistics, PostfixQueue, QuarantineStatus, Version};

/// One gateway node and its mail queue.
#[derive(Debug, Clone, PartialEq)]
pub struct PmgNodePoll {
    /// Node name.
    pub name: String,
    /// `master` or `node`.
    pub role: Option<String>,
    /// Address.
    pub ip: Option<String>,
    /// Queue depths, when readable.
    pub queue: Option<PostfixQueue>,
}

/// The raw result of one PMG poll.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PmgPoll {
    /// `/version`.
    pub version: Version,
    /// Nodes with their queues.
    pub nodes: Vec<PmgNodePoll>,
    /// Today's mail statistics.
    pub mail: Option<MailStatistics>,
    /// Spam quarantine.
    pub spam: Option<QuarantineStatus>,
    /// Virus quarantine.
    pub virus: Option<QuarantineStatus>,
    /// Malformed list items skipped.
    pub skipped: usize,
    /// Non-fatal failures, one line each.
    pub warnings: Vec<String>,
}

/// Polls a PMG.
pub async fn poll_pmg(client: &PmgClient) -> Result<PmgPoll, PlatformError> {
    let (version, cluster, mail, spam, virus) = tokio::join!(
        client.version(),
        client.cluster_nodes(),
        client.mail_statistics(),
        client.spam_quarantine(),
        client.virus_quarantine()
    );
    let mut poll = PmgPoll {
        version: version?,
        ..PmgPoll::default()
    };
    let mut keep = |what: &str, result: Result<QuarantineStatus, PlatformError>| match result {
        Ok(q) => Some(q),
        Err(e) => {
            poll.warnings.push(format!("{what}: {e}"));
            None
        }
    };
    let spam = keep("spam quarantine", spam);
    let virus = keep("virus quarantine", virus);
    poll.spam = spam;
    poll.virus = virus;
    match mail {
        Ok(m) => poll.mail = Some(m),
        Err(e) => poll.warnings.push(format!("mail statistics: {e}")),
    }
    let mut nodes: Vec<PmgNodePoll> = match cluster {
        Ok(list) => {
            poll.skipped += list.skipped;
            list.items
                .into_iter()
                .map(|n| PmgNodePoll {
                    name: n.name,
                    role: n.kind,
                    ip: n.ip,
                    queue: None,
                })
                .collect()
        }
        Err(e) => {
            poll.warnings.push(format!("cluster status: {e}"));
            Vec::new()
        }
    };
    if nodes.is_empty() {
        match client.nodes().await {
            Ok(list) => {
                poll.skipped += list.skipped;
                nodes = list
                    .items
                    .into_iter()
                    .map(|n| PmgNodePoll {
                        name: n.node,
                        role: None,
                        ip: None,
                        queue: None,
                    })
                    .collect();
            }
            Err(e) => poll.warnings.push(format!("nodes: {e}")),
        }
    }
    for node in &mut nodes {
        match client.postfix_queue(&node.name).await {
            Ok(queue) => node.queue = Some(queue),
            Err(e) => poll
                .warnings
                .push(format!("postfix queue on {}: {e}", node.name)),
        }
    }
    poll.nodes = nodes;
    Ok(poll)
}
