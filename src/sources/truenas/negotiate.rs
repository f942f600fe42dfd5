//! Transport negotiation rules (reference §4.1), pure: which transport a client uses and whether
//! an appliance may be talked to over the legacy REST API.
//!
//! JSON-RPC over WebSocket at `/api/current` is always tried first. REST `/api/v2.0` is used only
//! when that endpoint is unsupported (the handshake answers 404-ish, or redirects as CORE 13's web
//! server does) **and** `system/info` reports a legacy release: SCALE before 25.04, CORE
//! (`TrueNAS-13…`, `TrueNAS-12…`) or `FreeNAS-…`. A newer release without the WebSocket endpoint
//! is refused rather than downgraded. Once negotiated, the mode is fixed for the client's life.

use serde::Serialize;

/// The first SCALE release that serves JSON-RPC at `/api/current`.
pub const JSONRPC_SINCE: (u32, u32) = (25, 4);

/// How a client talks to its appliance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TransportMode {
    /// Not decided yet (never connected).
    #[serde(rename = "negotiating")]
    Negotiating,
    /// JSON-RPC 2.0 over WebSocket at `/api/current`.
    #[serde(rename = "jsonrpc-websocket")]
    JsonRpcWebSocket,
    /// The legacy REST API at `/api/v2.0`.
    #[serde(rename = "legacy-rest")]
    LegacyRest,
}

impl TransportMode {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TransportMode::Negotiating => "negotiating",
            TransportMode::JsonRpcWebSocket => "jsonrpc-websocket",
            TransportMode::LegacyRest => "legacy-rest",
        }
    }
}

/// Which product line a version string belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Flavor {
    /// TrueNAS SCALE / Community Edition (Linux).
    Scale,
    /// TrueNAS CORE (FreeBSD), 12 and 13.
    Core,
    /// FreeNAS, CORE's predecessor.
    Freenas,
    /// Not recognisable.
    Unknown,
}

/// A parsed appliance version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplianceVersion {
    /// The product line.
    pub flavor: Flavor,
    /// `(major, minor)` of the release, e.g. `(25, 4)`, `(13, 0)`.
    pub release: Option<(u32, u32)>,
}

/// Parses `25.04.1`, `TrueNAS-SCALE-24.10.2`, `TrueNAS-25.10.0`, `TrueNAS-13.0-U6.2`,
/// `FreeNAS-11.3-U5`.
pub fn parse_version(text: &str) -> ApplianceVersion {
    let text = text.trim();
    let upper = text.to_ascii_uppercase();
    let rest = ["TRUENAS-SCALE-", "TRUENAS-CORE-", "TRUENAS-", "FREENAS-"]
        .iter()
        .find_map(|p| upper.strip_prefix(p))
        .unwrap_or(&upper);
    let mut parts = rest
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty());
    let release = match (parts.next(), parts.next()) {
        (Some(major), Some(minor)) if rest.starts_with(|c: char| c.is_ascii_digit()) => {
            major.parse().ok().zip(minor.parse().ok())
        }
        _ => None,
    };
    let flavor = if upper.starts_with("FREENAS-") {
        Flavor::Freenas
    } else if upper.contains("CORE") || release.is_some_and(|(major, _)| major < 20) {
        Flavor::Core
    } else if release.is_some() {
        Flavor::Scale
    } else {
        Flavor::Unknown
    };
    ApplianceVersion { flavor, release }
}

/// Why `version` may be polled over legacy REST, or `None` when it must use JSON-RPC.
pub fn legacy_reason(version: &str) -> Option<String> {
    let parsed = parse_version(version);
    match (parsed.flavor, parsed.release) {
        (Flavor::Freenas, _) => Some(format!("FreeNAS release {version}")),
        (Flavor::Core, _) => Some(format!("TrueNAS CORE release {version}")),
        (Flavor::Scale, Some(release)) if release < JSONRPC_SINCE => Some(format!(
            "TrueNAS SCALE {version} predates the JSON-RPC API (25.04)"
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        let cases = [
            ("25.04.1", Flavor::Scale, Some((25, 4))),
            ("TrueNAS-SCALE-24.10.2", Flavor::Scale, Some((24, 10))),
            ("TrueNAS-25.10.0", Flavor::Scale, Some((25, 10))),
            ("TrueNAS-13.0-U6.2", Flavor::Core, Some((13, 0))),
            ("TrueNAS-CORE-13.3", Flavor::Core, Some((13, 3))),
            ("FreeNAS-11.3-U5", Flavor::Freenas, Some((11, 3))),
            ("nightly", Flavor::Unknown, None),
            ("", Flavor::Unknown, None),
        ];
        for (text, flavor, release) in cases {
            assert_eq!(
                parse_version(text),
                ApplianceVersion { flavor, release },
                "{text}"
            );
        }
    }

    #[test]
    fn only_legacy_releases_may_use_rest() {
        for legacy in [
            "TrueNAS-SCALE-24.10.2",
            "TrueNAS-SCALE-22.12.4",
            "TrueNAS-13.0-U6.2",
            "FreeNAS-11.3-U5",
        ] {
            assert!(legacy_reason(legacy).is_some(), "{legacy}");
        }
        for current in ["25.04.0", "TrueNAS-25.10.1", "26.04", "nightly", ""] {
            assert_eq!(legacy_reason(current), None, "{current}");
        }
        assert_eq!(
            serde_json::to_value(TransportMode::LegacyRest).expect("json"),
            "legacy-rest"
        );
    }
}
