//! What identifies and authenticates one Proxmox API endpoint: the product, the normalised base
//! URL, the credentials and the TLS mode.

use std::fmt;
use std::time::Duration;

use crate::sources::tls::TlsMode;

use super::error::PlatformError;

/// Default per-request timeout (upstream `CONNECTION_TIMEOUT`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Which Proxmox product an endpoint runs; decides port, auth header and cookie names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Product {
    /// Proxmox Virtual Environment.
    Pve,
    /// Proxmox Backup Server.
    Pbs,
    /// Proxmox Mail Gateway.
    Pmg,
}

impl Product {
    /// The product's API port, used when the host names neither scheme nor port.
    pub fn default_port(self) -> u16 {
        match self {
            Product::Pve | Product::Pmg => 8006,
            Product::Pbs => 8007,
        }
    }

    /// Human name for messages.
    pub fn display_name(self) -> &'static str {
        match self {
            Product::Pve => "Proxmox VE",
            Product::Pbs => "Proxmox Backup Server",
            Product::Pmg => "Proxmox Mail Gateway",
        }
    }

    /// Scheme word of the token `Authorization` header.
    pub(crate) fn token_scheme(self) -> &'static str {
        match self {
            Product::Pve => "PVEAPIToken",
            Product::Pbs => "PBSAPIToken",
            Product::Pmg => "PMGAPIToken",
        }
    }

    /// What separates token id and secret in the header: `=` for PVE, `:` for PBS and PMG.
    pub(crate) fn token_separator(self) -> char {
        match self {
            Product::Pve => '=',
            Product::Pbs | Product::Pmg => ':',
        }
    }

    /// Name of the ticket cookie.
    pub(crate) fn cookie_name(self) -> &'static str {
        match self {
            Product::Pve => "PVEAuthCookie",
            Product::Pbs => "PBSAuthCookie",
            Product::Pmg => "PMGAuthCookie",
        }
    }
}

/// How a client authenticates. `Debug` never shows the secret or the password.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// An API token (preferred): header auth, no login round trip.
    Token {
        /// Full token id `user@realm!tokenname`.
        token_id: String,
        /// The token secret (a UUID on Proxmox).
        secret: String,
    },
    /// User and password: ticket login via `POST /access/ticket`.
    Password {
        /// `user@realm`.
        username: String,
        /// The password.
        password: String,
    },
}

impl Credentials {
    /// Token credentials from the configured token name and secret. The name may be the full id
    /// `user@realm!name` or only `name` when `user` (`user@realm`) is given separately.
    pub fn token(
        token_name: &str,
        secret: impl Into<String>,
        user: Option<&str>,
    ) -> Result<Self, PlatformError> {
        let name = token_name.trim();
        let token_id = match (name.split_once('!'), user.map(str::trim)) {
            (Some(_), _) => name.to_owned(),
            (None, Some(user)) if !user.is_empty() => format!("{user}!{name}"),
            (None, _) => {
                return Err(PlatformError::Config(format!(
                    "token name '{name}' must have the form user@realm!tokenname"
                )))
            }
        };
        let valid = token_id.split_once('!').is_some_and(|(user, token)| {
            user.split_once('@')
                .is_some_and(|(u, realm)| !u.is_empty() && !realm.is_empty())
                && !token.is_empty()
        });
        if !valid
            || token_id
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(PlatformError::Config(format!(
                "token name '{token_id}' must have the form user@realm!tokenname"
            )));
        }
        Ok(Credentials::Token {
            token_id,
            secret: secret.into(),
        })
    }

    /// Password credentials; a user without realm gets `@pam`, as the Proxmox login form does.
    pub fn password(username: &str, password: impl Into<String>) -> Self {
        let username = username.trim();
        let username = if username.contains('@') {
            username.to_owned()
        } else {
            format!("{username}@pam")
        };
        Credentials::Password {
            username,
            password: password.into(),
        }
    }

    /// Whether this is token auth (decides the 403 hint).
    pub fn is_token(&self) -> bool {
        matches!(self, Credentials::Token { .. })
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Token { token_id, .. } => f
                .debug_struct("Token")
                .field("token_id", token_id)
                .field("secret", &"<redacted>")
                .finish(),
            Credentials::Password { username, .. } => f
                .debug_struct("Password")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
        }
    }
}

/// Everything needed to talk to one endpoint.
#[derive(Debug, Clone)]
pub struct EndpointSettings {
    /// Host as configured: `host`, `host:port`, or a URL with scheme (any `/api2/json` suffix is
    /// accepted).
    pub host: String,
    /// How to authenticate.
    pub credentials: Credentials,
    /// How to check the certificate.
    pub tls: TlsMode,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl EndpointSettings {
    /// Settings with the default timeout.
    pub fn new(host: impl Into<String>, credentials: Credentials, tls: TlsMode) -> Self {
        EndpointSettings {
            host: host.into(),
            credentials,
            tls,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The same settings with another per-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// The API base URL for a configured host: `https://` when no scheme is given, the product's
/// default port when neither scheme nor port is given, always ending in `/api2/json` with no
/// trailing slash.
pub fn api_base(host: &str, product: Product) -> Result<String, PlatformError> {
    let trimmed = host.trim();
    if trimmed.is_empty() {
        return Err(PlatformError::Config("host is empty".into()));
    }
    let has_scheme = trimmed.contains("://");
    let candidate = if has_scheme {
        trimmed.to_owned()
    } else {
        format!("https://{trimmed}")
    };
    let mut url = reqwest::Url::parse(&candidate)
        .map_err(|e| PlatformError::Config(format!("host '{trimmed}' is not a valid URL: {e}")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(PlatformError::Config(format!(
            "host '{trimmed}' must use https:// or http://"
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(PlatformError::Config(format!(
            "host '{trimmed}' names no host"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(PlatformError::Config(
            "credentials must not be part of the host URL".into(),
        ));
    }
    if !has_scheme && url.port().is_none() {
        url.set_port(Some(product.default_port()))
            .map_err(|()| PlatformError::Config(format!("host '{trimmed}' cannot have a port")))?;
    }
    url.set_query(None);
    url.set_fragment(None);
    let path = url.path().trim_end_matches('/').to_owned();
    let path = path.strip_suffix("/api2/json").unwrap_or(&path).to_owned();
    url.set_path(&format!("{path}/api2/json"));
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Percent-encodes one path segment (node, storage, datastore names), keeping unreserved
/// characters.
pub fn segment(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The client settings of a configured endpoint, in order of preference: its `host`, then its
/// cluster endpoints (same credentials and TLS policy), each with `timeout` per request.
pub fn settings_for(
    config: &crate::config::EndpointConfig,
    timeout: Duration,
) -> Result<Vec<EndpointSettings>, PlatformError> {
    let credentials = match (&config.token_name, &config.token_value) {
        (Some(name), Some(secret)) => {
            Credentials::token(name, secret.expose(), config.user.as_deref())?
        }
        _ => match (&config.user, &config.password) {
            (Some(user), Some(password)) => Credentials::password(user, password.expose()),
            _ => {
                return Err(PlatformError::Config(format!(
                    "endpoint '{}' has no complete credentials",
                    config.name
                )))
            }
        },
    };
    let tls = TlsMode::from_settings(config.verify_ssl, config.fingerprint.as_deref())
        .map_err(|e| PlatformError::Config(e.to_string()))?;
    Ok(std::iter::once(&config.host)
        .chain(&config.cluster_endpoints)
        .map(|host| {
            EndpointSettings::new(host.to_string(), credentials.clone(), tls.clone())
                .with_timeout(timeout)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_normalisation() {
        let cases = [
            ("pve1", Product::Pve, "https://pve1:8006/api2/json"),
            ("pbs.lan", Product::Pbs, "https://pbs.lan:8007/api2/json"),
            ("pmg:9000", Product::Pmg, "https://pmg:9000/api2/json"),
            (
                "https://pve.example.com/",
                Product::Pve,
                "https://pve.example.com/api2/json",
            ),
            (
                "https://10.0.0.5:8006/api2/json/",
                Product::Pve,
                "https://10.0.0.5:8006/api2/json",
            ),
            (
                "http://pve1:8006",
                Product::Pve,
                "http://pve1:8006/api2/json",
            ),
            ("[::1]", Product::Pve, "https://[::1]:8006/api2/json"),
            (
                " https://proxy/pve ",
                Product::Pve,
                "https://proxy/pve/api2/json",
            ),
        ];
        for (host, product, want) in cases {
            assert_eq!(
                api_base(host, product).ok().as_deref(),
                Some(want),
                "{host}"
            );
        }
        for bad in ["", "ftp://x", "https://", "https://u:p@host"] {
            assert!(api_base(bad, Product::Pve).is_err(), "{bad}");
        }
    }

    #[test]
    fn token_parsing() {
        let t = Credentials::token("pulse@pve!mon", "s3cret", None).expect("token");
        assert!(t.is_token());
        assert!(!format!("{t:?}").contains("s3cret"));
        assert_eq!(
            Credentials::token("mon", "x", Some("pulse@pbs")),
            Ok(Credentials::Token {
                token_id: "pulse@pbs!mon".into(),
                secret: "x".into()
            })
        );
        for bad in ["mon", "pulse!mon", "@pve!mon", "pulse@pve!", "a b@pve!x"] {
            assert!(Credentials::token(bad, "x", None).is_err(), "{bad}");
        }
        let p = Credentials::password("root", "pw");
        assert!(!format!("{p:?}").contains("pw\""));
        assert_eq!(
            p,
            Credentials::Password {
                username: "root@pam".into(),
                password: "pw".into()
            }
        );
    }

    #[test]
    fn segments_are_encoded() {
        assert_eq!(segment("pve-1.lan"), "pve-1.lan");
        assert_eq!(segment("a/b c"), "a%2Fb%20c");
    }
}
