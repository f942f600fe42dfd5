//! [`HttpUrl`]: a small, strict parser for the http(s) URLs of the configuration (no dependency on a
//! full URL library for this one job).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// An absolute `http` or `https` URL without credentials, normalised to lower-case scheme and host.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpUrl {
    https: bool,
    host: String,
    port: Option<u16>,
    path: String,
}

impl HttpUrl {
    /// Parses `input`. Without a scheme, `default_scheme_port` supplies one (`Some((https, port))`, e.g.
    /// `"pve.lan"` → `https://pve.lan:8006`); with `None` a scheme is required. The error says what is
    /// wrong, for the `allowed` part of a configuration error.
    pub fn parse(input: &str, default_scheme_port: Option<(bool, u16)>) -> Result<HttpUrl, String> {
        let input = input.trim();
        let (https, rest, bare) = if let Some(rest) = strip_prefix_ci(input, "https://") {
            (true, rest, false)
        } else if let Some(rest) = strip_prefix_ci(input, "http://") {
            (false, rest, false)
        } else if input.contains("://") {
            return Err("an http:// or https:// URL".to_owned());
        } else if let Some((https, _)) = default_scheme_port {
            (https, input, true)
        } else {
            return Err("an absolute URL starting with http:// or https://".to_owned());
        };
        let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        if path.contains('#') {
            return Err("a URL without a #fragment".to_owned());
        }
        if authority.contains('@') {
            return Err("a URL without credentials (put them in their own keys)".to_owned());
        }
        let (host, port) = split_host_port(authority)?;
        let port = match (port, bare, default_scheme_port) {
            (Some(p), _, _) => Some(p),
            (None, true, Some((_, default))) => Some(default),
            (None, _, _) => None,
        };
        Ok(HttpUrl {
            https,
            host,
            port,
            path: path.to_owned(),
        })
    }

    /// Whether the scheme is `https`.
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// The host (IPv6 literals in brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port: the explicit one, else 443 for https and 80 for http.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(if self.https { 443 } else { 80 })
    }

    /// Path and query as written (may be empty).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// `scheme://host[:port]`, leaving out the scheme's default port: the form of a browser `Origin`.
    pub fn origin(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        let default = if self.https { 443 } else { 80 };
        match self.port {
            Some(p) if p != default => format!("{scheme}://{}:{p}", self.host),
            _ => format!("{scheme}://{}", self.host),
        }
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        match self.port {
            Some(p) => write!(f, "{scheme}://{}:{p}{}", self.host, self.path),
            None => write!(f, "{scheme}://{}{}", self.host, self.path),
        }
    }
}

impl fmt::Debug for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

/// `s` without `prefix`, compared case-insensitively.
fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Splits and validates `host[:port]` (IPv6 as `[addr][:port]`).
fn split_host_port(authority: &str) -> Result<(String, Option<u16>), String> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (addr, after) = rest
            .split_once(']')
            .ok_or("an IPv6 address closed with ']'")?;
        addr.parse::<Ipv6Addr>()
            .map_err(|_| format!("a valid IPv6 address (got [{addr}])"))?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or("':' before the port")?),
        };
        (format!("[{}]", addr.to_ascii_lowercase()), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_ascii_lowercase(), Some(p)),
            None => (authority.to_ascii_lowercase(), None),
        }
    };
    if !host.starts_with('[') && !is_hostname(&host) {
        return Err(format!("a host name or IP address (got {host:?})"));
    }
    let port = port
        .map(|p| match p.parse::<u16>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!("a port from 1 to 65535 (got {p:?})")),
        })
        .transpose()?;
    Ok((host, port))
}

/// Whether `host` is an IPv4 address or a DNS name (labels of letters, digits, `-`, `_`).
fn is_hostname(host: &str) -> bool {
    if host.parse::<Ipv4Addr>().is_ok() {
        return true;
    }
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        let u = HttpUrl::parse("pve.LAN", Some((true, 8006))).unwrap();
        assert_eq!(u.to_string(), "https://pve.lan:8006");
        let u = HttpUrl::parse("HTTP://10.0.0.5", Some((true, 8006))).unwrap();
        assert_eq!((u.to_string(), u.port()), ("http://10.0.0.5".into(), 80));
        let u = HttpUrl::parse("https://[FE80::1]:8007/api", None).unwrap();
        assert_eq!(u.to_string(), "https://[fe80::1]:8007/api");
        assert_eq!(u.host(), "[fe80::1]");
        assert_eq!(u.path(), "/api");
        assert!(u.is_https());
        let u = HttpUrl::parse("https://mimir:443/api/v1/push?x=1", None).unwrap();
        assert_eq!(u.origin(), "https://mimir");
        assert_eq!(u.path(), "/api/v1/push?x=1");
        assert_eq!(format!("{u:?}"), "https://mimir:443/api/v1/push?x=1");
    }

    #[test]
    fn refuses_what_is_not_an_http_url() {
        for (input, default) in [
            ("pve.lan", None),
            ("ftp://x", None),
            ("https://", None),
            ("https://user:pw@host", None),
            ("https://host:0", None),
            ("https://host:99999", None),
            ("https://ho st", None),
            ("https://-bad", None),
            ("https://[::1", None),
            ("https://[zz]:1", None),
            ("https://h/#frag", None),
            ("", Some((true, 1))),
        ] {
            assert!(HttpUrl::parse(input, default).is_err(), "{input:?}");
        }
    }
}
