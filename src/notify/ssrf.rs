//! The webhook SSRF guard (SPEC §10): only `http`/`https` URLs without credentials, and never an
//! address on a private, loopback, link-local, shared, documentation or metadata network unless
//! it is inside `PULSE_WEBHOOK_ALLOWED_CIDRS`.
//!
//! The check runs twice: on the URL when a webhook is saved or tested (literal addresses and
//! forbidden host names), and at connect time inside the HTTP client's DNS resolver, which
//! refuses to hand out a forbidden address. A name that resolved to a public address when it was
//! saved and to `127.0.0.1` later (DNS rebinding) is therefore refused when it matters.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::config::Cidr;
use crate::error::{Error, Result};

/// Host names refused whatever they resolve to (cloud metadata services).
const FORBIDDEN_HOSTS: [&str; 4] = [
    "localhost",
    "metadata.google.internal",
    "metadata.goog",
    "metadata",
];

/// Networks a webhook may not reach unless allow-listed.
const FORBIDDEN_V4: [(Ipv4Addr, u8); 14] = [
    (Ipv4Addr::new(0, 0, 0, 0), 8),
    (Ipv4Addr::new(10, 0, 0, 0), 8),
    (Ipv4Addr::new(100, 64, 0, 0), 10),
    (Ipv4Addr::new(127, 0, 0, 0), 8),
    (Ipv4Addr::new(169, 254, 0, 0), 16),
    (Ipv4Addr::new(172, 16, 0, 0), 12),
    (Ipv4Addr::new(192, 0, 0, 0), 24),
    (Ipv4Addr::new(192, 0, 2, 0), 24),
    (Ipv4Addr::new(192, 168, 0, 0), 16),
    (Ipv4Addr::new(198, 18, 0, 0), 15),
    (Ipv4Addr::new(198, 51, 100, 0), 24),
    (Ipv4Addr::new(203, 0, 113, 0), 24),
    (Ipv4Addr::new(224, 0, 0, 0), 4),
    (Ipv4Addr::new(240, 0, 0, 0), 4),
];

/// The guard: which networks are exempt.
#[derive(Debug, Clone, Default)]
pub struct SsrfGuard {
    allowed: Arc<Vec<Cidr>>,
}

impl SsrfGuard {
    /// A guard exempting `allowed` (from `PULSE_WEBHOOK_ALLOWED_CIDRS`).
    pub fn new(allowed: Vec<Cidr>) -> Self {
        SsrfGuard {
            allowed: Arc::new(allowed),
        }
    }

    /// Whether a webhook may connect to `ip`.
    pub fn permits(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        if self.allowed.iter().any(|c| c.contains(ip)) {
            return true;
        }
        !is_special(ip)
    }

    /// Checks a webhook URL before it is saved, tested or requested: scheme, credentials, host
    /// name and literal addresses. Names are checked again at connect time by [`Self::resolver`].
    pub fn check_url(&self, raw: &str) -> Result<reqwest::Url> {
        let url = reqwest::Url::parse(raw)
            .map_err(|e| Error::validation("url", format!("not a valid URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(forbidden("only http and https URLs are allowed"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(forbidden(
                "credentials in the URL are not allowed; use a header",
            ));
        }
        match url.host() {
            None => Err(Error::validation("url", "the URL has no host")),
            Some(url::Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip)).map(|()| url),
            Some(url::Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip)).map(|()| url),
            Some(url::Host::Domain(name)) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                if FORBIDDEN_HOSTS.contains(&name.as_str()) || name.ends_with(".localhost") {
                    // `localhost` is only reachable through an allow-listed loopback network.
                    let loopback_allowed = self.permits(IpAddr::V4(Ipv4Addr::LOCALHOST));
                    if !(loopback_allowed && (name == "localhost" || name.ends_with(".localhost")))
                    {
                        return Err(forbidden(format!("host {name} is not allowed")));
                    }
                }
                Ok(url)
            }
        }
    }

    fn check_ip(&self, ip: IpAddr) -> Result<()> {
        if self.permits(ip) {
            Ok(())
        } else {
            Err(forbidden(format!(
                "address {ip} is on a private or special network; allow it with \
                 PULSE_WEBHOOK_ALLOWED_CIDRS"
            )))
        }
    }

    /// A DNS resolver for the HTTP client that drops forbidden addresses and fails when none is
    /// left: the connect-time half of the guard.
    pub fn resolver(&self) -> Arc<GuardedResolver> {
        Arc::new(GuardedResolver {
            guard: self.clone(),
        })
    }
}

/// The `webhook_url_forbidden` error.
fn forbidden(message: impl Into<String>) -> Error {
    Error::WebhookUrlForbidden(message.into())
}

/// Whether `ip` is on a network webhooks may not reach by default.
fn is_special(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            FORBIDDEN_V4.iter().any(|(net, prefix)| {
                let mask = u32::MAX.checked_shl(32 - u32::from(*prefix)).unwrap_or(0);
                bits & mask == u32::from(*net) & mask
            })
        }
        IpAddr::V6(v6) => is_special_v6(v6),
    }
}

fn is_special_v6(v6: Ipv6Addr) -> bool {
    if let Some(v4) = v6.to_ipv4_mapped() {
        return is_special(IpAddr::V4(v4));
    }
    let first = v6.segments()[0];
    v6.is_unspecified()
        || v6.is_loopback()
        || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (first & 0xff00) == 0xff00 // multicast
        || (first == 0x2001 && v6.segments()[1] == 0x0db8) // documentation
        || (first == 0x0064 && v6.segments()[1] == 0xff9b) // NAT64 (embeds IPv4)
        || first == 0x2002 // 6to4 (embeds IPv4)
}

/// The connect-time resolver (see [`SsrfGuard::resolver`]).
#[derive(Debug)]
pub struct GuardedResolver {
    guard: SsrfGuard,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.guard.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { Box::new(e) })?
                .collect();
            let permitted: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| guard.permits(a.ip()))
                .collect();
            if permitted.is_empty() {
                return Err(Box::new(ForbiddenAddress(host)) as Box<_>);
            }
            Ok(Box::new(permitted.into_iter()) as Addrs)
        })
    }
}

/// The resolver's refusal; the webhook sender recognises it to classify the failure.
#[derive(Debug)]
pub struct ForbiddenAddress(pub String);

impl std::fmt::Display for ForbiddenAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} resolves only to private or special addresses (SSRF guard)",
            self.0
        )
    }
}

impl std::error::Error for ForbiddenAddress {}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn special_networks_are_refused_by_default() {
        let guard = SsrfGuard::default();
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "198.18.0.1",
            "192.0.2.5",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
        ] {
            assert!(!guard.permits(ip(bad)), "{bad}");
        }
        for good in ["8.8.8.8", "1.1.1.1", "172.32.0.1", "2606:4700::1111"] {
            assert!(guard.permits(ip(good)), "{good}");
        }
    }

    #[test]
    fn allow_list_exempts_networks() {
        let guard = SsrfGuard::new(vec![Cidr::parse("127.0.0.0/8").expect("cidr")]);
        assert!(guard.permits(ip("127.0.0.1")));
        assert!(guard.permits(ip("::ffff:127.0.0.2")));
        assert!(!guard.permits(ip("10.0.0.1")));
        assert!(guard.check_url("http://127.0.0.1:9/x").is_ok());
        assert!(guard.check_url("http://localhost:9/x").is_ok());
    }

    #[test]
    fn urls_are_checked() {
        let guard = SsrfGuard::default();
        let code = |u: &str| guard.check_url(u).map(|_| ()).map_err(|e| e.code());
        assert_eq!(code("https://example.com/hook"), Ok(()));
        assert_eq!(code("http://127.0.0.1/x"), Err("webhook_url_forbidden"));
        assert_eq!(code("http://[::1]:80/x"), Err("webhook_url_forbidden"));
        assert_eq!(
            code("http://169.254.169.254/latest"),
            Err("webhook_url_forbidden")
        );
        assert_eq!(code("http://localhost/x"), Err("webhook_url_forbidden"));
        assert_eq!(
            code("http://metadata.google.internal/"),
            Err("webhook_url_forbidden")
        );
        assert_eq!(code("ftp://example.com/"), Err("webhook_url_forbidden"));
        assert_eq!(
            code("https://user:pw@example.com/"),
            Err("webhook_url_forbidden")
        );
        assert_eq!(code("not a url"), Err("validation_error"));
        // Decimal and hex IPv4 spellings are normalised by the URL parser.
        assert_eq!(code("http://2130706433/"), Err("webhook_url_forbidden"));
        assert_eq!(code("http://0x7f.1/"), Err("webhook_url_forbidden"));
    }

    #[tokio::test]
    async fn resolver_refuses_names_that_resolve_to_forbidden_addresses() {
        let guard = SsrfGuard::default();
        let name: Name = "localhost".parse().expect("name");
        let err = match guard.resolver().resolve(name).await {
            Ok(_) => panic!("localhost must be refused"),
            Err(e) => e,
        };
        assert!(err.to_string().contains("SSRF"), "{err}");
        let open = SsrfGuard::new(vec![Cidr::parse("127.0.0.0/8").expect("cidr")]);
        let name: Name = "localhost".parse().expect("name");
        let addrs: Vec<SocketAddr> = open.resolver().resolve(name).await.expect("ok").collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()));
    }
}
