//! [`PmgClient`]: typed calls to a Proxmox Mail Gateway (reference §3).

use crate::sources::proxmox::client::ApiClient;
use crate::sources::proxmox::endpoint::{segment, EndpointSettings, Product};
use crate::sources::proxmox::error::PlatformError;
use crate::sources::proxmox::flex::Listing;

use super::types::{
    ClusterNode, MailStatistics, NodeEntry, PostfixQueue, QuarantineStatus, Version,
};

/// A Proxmox Mail Gateway client.
#[derive(Debug)]
pub struct PmgClient {
    api: ApiClient,
}

impl PmgClient {
    /// A client for one PMG endpoint.
    pub fn new(settings: &EndpointSettings) -> Result<Self, PlatformError> {
        Ok(PmgClient {
            api: ApiClient::new(Product::Pmg, settings)?,
        })
    }

    /// The underlying endpoint client.
    pub fn api(&self) -> &ApiClient {
        &self.api
    }

    /// `GET /version`.
    pub async fn version(&self) -> Result<Version, PlatformError> {
        self.api.get("/version").await
    }

    /// `GET /config/cluster/status?list_single_node=1`: cluster members (a standalone gateway
    /// lists itself).
    pub async fn cluster_nodes(&self) -> Result<Listing<ClusterNode>, PlatformError> {
        self.api
            .get_list("/config/cluster/status?list_single_node=1")
            .await
    }

    /// `GET /nodes`: the fallback node list.
    pub async fn nodes(&self) -> Result<Listing<NodeEntry>, PlatformError> {
        self.api.get_list("/nodes").await
    }

    /// `GET /statistics/mail` (today).
    pub async fn mail_statistics(&self) -> Result<MailStatistics, PlatformError> {
        self.api.get("/statistics/mail").await
    }

    /// `GET /quarantine/spamstatus`.
    pub async fn spam_quarantine(&self) -> Result<QuarantineStatus, PlatformError> {
        self.api.get("/quarantine/spamstatus").await
    }

    /// `GET /quarantine/virusstatus`.
    pub async fn virus_quarantine(&self) -> Result<QuarantineStatus, PlatformError> {
        self.api.get("/quarantine/virusstatus").await
    }

    /// `GET /nodes/{node}/postfix/queue`.
    pub async fn postfix_queue(&self, node: &str) -> Result<PostfixQueue, PlatformError> {
        self.api
            .get(&format!("/nodes/{}/postfix/queue", segment(node)))
            .await
    }
}
