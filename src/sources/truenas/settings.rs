//! What identifies and authenticates one TrueNAS connection: its id (the snapshot scope and the
//! prefix of every source id), the endpoint, the credentials, the TLS mode and the timeouts.
//!
//! Credentials only ever travel over TLS: a plain `http://` (or `ws://`) endpoint is refused when
//! the settings are built, so no code path can send them in clear.

use std::fmt;
use std::time::Duration;

use rustls::pki_types::ServerName;

use crate::config::{EndpointConfig, EndpointKind, Secret};
use crate::sources::tls::TlsMode;

use super::error::TruenasError;

/// Default timeout of one request or handshake (upstream `CONNECTION_TIMEOUT`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default poll interval (upstream TrueNAS default).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(60);
/// Longest connection id accepted.
const MAX_ID_CHARS: usize = 128;

/// How the client logs in. `Debug` never shows the key or the password.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum TruenasAuth {
    /// An API key; with a username (required by current releases) it logs in with
    /// `auth.login_ex` `API_KEY_PLAIN`, without one with `auth.login_with_api_key`.
    ApiKey {
        /// The user the key belongs to.
        username: Option<String>,
        /// The key, `<id>-<secret>`.
        key: Secret,
    },
    /// A username and password (`auth.login_ex` `PASSWORD_PLAIN`, REST basic auth).
    Password {
        /// The user.
        username: String,
        /// The password.
        password: Secret,
    },
}

impl TruenasAuth {
    /// The user named by the credentials, if any.
    pub fn username(&self) -> Option<&str> {
        match self {
            TruenasAuth::ApiKey { username, .. } => username.as_deref(),
            TruenasAuth::Password { username, .. } => Some(username),
        }
    }

    /// How the credentials are described in messages: `user 'name'` or `the API key`.
    pub fn who(&self) -> String {
        match self.username() {
            Some(user) => format!("user '{user}'"),
            None => "the API key (no username)".to_owned(),
        }
    }

    /// Checks the parts that have to be non-empty and printable.
    fn validate(&self) -> Result<(), TruenasError> {
        let (user, secret, what) = match self {
            TruenasAuth::ApiKey { username, key } => (username.as_deref(), key, "api key"),
            TruenasAuth::Password { username, password } => {
                (Some(username.as_str()), password, "password")
            }
        };
        if let Some(user) = user {
            if user.trim().is_empty() || user.chars().any(char::is_control) {
                return Err(TruenasError::Config(
                    "the username must be non-empty printable text".into(),
                ));
            }
        }
        if secret.expose().is_empty() {
            return Err(TruenasError::Config(format!("the {what} is empty")));
        }
        Ok(())
    }
}

/// Where the appliance is: host, port and an optional path prefix (a reverse proxy sub-path).
#[derive(Clone, PartialEq, Eq)]
pub struct TruenasEndpoint {
    /// Host name or IP address (IPv6 without brackets).
    host: String,
    /// TCP port.
    port: u16,
    /// Path before `/api/...`, without a trailing slash (usually empty).
    prefix: String,
}

impl TruenasEndpoint {
    /// Parses `host`, `host:port` or an `https://`/`wss://` URL (a trailing `/api/current` or
    /// `/api/v2.0` is dropped). Plain `http://` and `ws://` are refused: credentials would travel
    /// in clear.
    pub fn parse(input: &str) -> Result<Self, TruenasError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(TruenasError::Config("host is empty".into()));
        }
        let candidate = if trimmed.contains("://") {
            trimmed.to_owned()
        } else {
            format!("https://{trimmed}")
        };
        let url = reqwest::Url::parse(&candidate)
            .map_err(|e| TruenasError::Config(format!("host '{trimmed}' is not valid: {e}")))?;
        match url.scheme() {
            "https" | "wss" => {}
            "http" | "ws" => {
                return Err(TruenasError::PlainHttpRefused {
                    endpoint: trimmed.to_owned(),
                })
            }
            other => {
                return Err(TruenasError::Config(format!(
                    "host '{trimmed}' has scheme '{other}': use https://"
                )))
            }
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(TruenasError::Config(
                "credentials must not be part of the host".into(),
            ));
        }
        let host = match url.host_str() {
            Some(h) if !h.is_empty() => h.trim_start_matches('[').trim_end_matches(']'),
            _ => {
                return Err(TruenasError::Config(format!(
                    "host '{trimmed}' names no host"
                )))
            }
        }
        .to_owned();
        let path = url.path().trim_end_matches('/');
        let prefix = ["/api/current", "/api/v2.0"]
            .iter()
            .find_map(|suffix| path.strip_suffix(suffix))
            .unwrap_or(path)
            .to_owned();
        Ok(TruenasEndpoint {
            host,
            port: url.port().unwrap_or(443),
            prefix,
        })
    }

    /// The host (IPv6 without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The same endpoint on another port.
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The host as it appears in a URL (IPv6 in brackets).
    fn url_host(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        }
    }

    /// `https://host:port`, how messages name the appliance.
    pub fn origin(&self) -> String {
        format!("https://{}:{}", self.url_host(), self.port)
    }

    /// The JSON-RPC WebSocket URL, `wss://host:port[/prefix]/api/current`.
    pub fn ws_url(&self) -> String {
        format!(
            "wss://{}:{}{}/api/current",
            self.url_host(),
            self.port,
            self.prefix
        )
    }

    /// A legacy REST URL, `https://host:port[/prefix]/api/v2.0<path>`.
    pub fn rest_url(&self, path: &str) -> String {
        format!("{}{}/api/v2.0{path}", self.origin(), self.prefix)
    }

    /// The name the TLS handshake presents (SNI) and verifies against.
    pub fn server_name(&self) -> Result<ServerName<'static>, TruenasError> {
        ServerName::try_from(self.host.clone())
            .map_err(|_| TruenasError::Config(format!("'{}' is not a valid host name", self.host)))
    }
}

impl fmt::Display for TruenasEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin())
    }
}

impl fmt::Debug for TruenasEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.origin(), self.prefix)
    }
}

/// Everything needed to monitor one TrueNAS connection.
#[derive(Clone, Debug)]
pub struct TruenasSettings {
    /// The connection's id: the snapshot scope and the prefix of every source id, so that pools
    /// of the same name on two appliances never merge.
    pub connection_id: String,
    /// Where the appliance is.
    pub endpoint: TruenasEndpoint,
    /// How to log in.
    pub auth: TruenasAuth,
    /// How to check the certificate.
    pub tls: TlsMode,
    /// Timeout of each handshake and method call.
    pub timeout: Duration,
    /// How often the collector polls.
    pub poll_interval: Duration,
}

impl TruenasSettings {
    /// Settings for `host` (see [`TruenasEndpoint::parse`]) with the default timeout and interval.
    pub fn new(
        connection_id: impl Into<String>,
        host: &str,
        auth: TruenasAuth,
        tls: TlsMode,
    ) -> Result<Self, TruenasError> {
        let connection_id = connection_id.into();
        if connection_id.trim().is_empty()
            || connection_id.chars().count() > MAX_ID_CHARS
            || connection_id.chars().any(char::is_control)
        {
            return Err(TruenasError::Config(format!(
                "the connection id must be 1-{MAX_ID_CHARS} printable characters"
            )));
        }
        auth.validate()?;
        Ok(TruenasSettings {
            connection_id,
            endpoint: TruenasEndpoint::parse(host)?,
            auth,
            tls,
            timeout: DEFAULT_TIMEOUT,
            poll_interval: DEFAULT_POLL_INTERVAL,
        })
    }

    /// Settings for a `[[truenas]]` endpoint of the configuration: the connection id is its name,
    /// an `api_key` (with `user` as its username) is preferred over `user` + `password`,
    /// `verify_ssl = false` means `insecureSkipVerify`, a `fingerprint` pins.
    pub fn from_endpoint(config: &EndpointConfig) -> Result<Self, TruenasError> {
        if config.kind != EndpointKind::Truenas {
            return Err(TruenasError::Config(format!(
                "endpoint '{}' is a {} endpoint, not TrueNAS",
                config.name,
                config.kind.as_str()
            )));
        }
        if !config.host.is_https() {
            return Err(TruenasError::PlainHttpRefused {
                endpoint: config.host.to_string(),
            });
        }
        let user = config
            .user
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty());
        let auth = match (&config.api_key, user, &config.password) {
            (Some(key), user, _) if !key.expose().is_empty() => TruenasAuth::ApiKey {
                username: user.map(str::to_owned),
                key: key.clone(),
            },
            (_, Some(user), Some(password)) => TruenasAuth::Password {
                username: user.to_owned(),
                password: password.clone(),
            },
            _ => {
                return Err(TruenasError::Config(format!(
                "endpoint '{}' has no credentials: set api_key (and user), or user and password",
                config.name
            )))
            }
        };
        let tls = TlsMode::from_settings(config.verify_ssl, config.fingerprint.as_deref())
            .map_err(|e| TruenasError::Config(e.to_string()))?;
        let mut settings =
            TruenasSettings::new(config.name.clone(), &config.host.to_string(), auth, tls)?;
        settings.poll_interval = config.poll_interval;
        Ok(settings)
    }

    /// The same settings with another connection id (connections added through the API have
    /// their own ids).
    pub fn with_connection_id(mut self, id: impl Into<String>) -> Self {
        self.connection_id = id.into();
        self
    }

    /// The same settings with another timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HttpUrl;

    fn key() -> TruenasAuth {
        TruenasAuth::ApiKey {
            username: Some("pulse".into()),
            key: Secret::new("1-abcdef"),
        }
    }

    #[test]
    fn endpoint_forms() {
        let cases = [
            (
                "nas.lan",
                "https://nas.lan:443",
                "wss://nas.lan:443/api/current",
            ),
            (
                "nas.lan:8443",
                "https://nas.lan:8443",
                "wss://nas.lan:8443/api/current",
            ),
            (
                "https://10.0.0.5/api/current/",
                "https://10.0.0.5:443",
                "wss://10.0.0.5:443/api/current",
            ),
            (
                "https://proxy:444/nas/api/v2.0",
                "https://proxy:444",
                "wss://proxy:444/nas/api/current",
            ),
            (
                "[::1]:9443",
                "https://[::1]:9443",
                "wss://[::1]:9443/api/current",
            ),
            ("wss://nas", "https://nas:443", "wss://nas:443/api/current"),
        ];
        for (input, origin, ws) in cases {
            let endpoint = TruenasEndpoint::parse(input).expect(input);
            assert_eq!(endpoint.origin(), origin, "{input}");
            assert_eq!(endpoint.ws_url(), ws, "{input}");
        }
        let proxied = TruenasEndpoint::parse("https://proxy/nas").expect("proxied");
        assert_eq!(
            proxied.rest_url("/system/info"),
            "https://proxy:443/nas/api/v2.0/system/info"
        );
        assert_eq!(proxied.with_port(8443).port(), 8443);
        assert!(TruenasEndpoint::parse("[::1]")
            .expect("v6")
            .server_name()
            .is_ok());
        for plain in ["http://nas", "ws://nas:80"] {
            assert!(matches!(
                TruenasEndpoint::parse(plain),
                Err(TruenasError::PlainHttpRefused { .. })
            ));
        }
        for bad in ["", "ftp://nas", "https://u:p@nas", "https://"] {
            assert!(
                matches!(TruenasEndpoint::parse(bad), Err(TruenasError::Config(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn settings_validation_and_debug() {
        let settings =
            TruenasSettings::new("nas-1", "nas.lan", key(), TlsMode::Verified).expect("settings");
        let debug = format!("{settings:?}");
        assert!(!debug.contains("abcdef"), "{debug}");
        assert!(TruenasSettings::new(" ", "nas", key(), TlsMode::Verified).is_err());
        let empty_key = TruenasAuth::ApiKey {
            username: None,
            key: Secret::new(""),
        };
        assert!(TruenasSettings::new("a", "nas", empty_key, TlsMode::Verified).is_err());
        let bad_user = TruenasAuth::Password {
            username: "a\nb".into(),
            password: Secret::new("pw"),
        };
        assert!(TruenasSettings::new("a", "nas", bad_user, TlsMode::Verified).is_err());
        assert_eq!(key().who(), "user 'pulse'");
    }

    fn endpoint(host: &str) -> EndpointConfig {
        EndpointConfig {
            kind: EndpointKind::Truenas,
            name: "nas-1".into(),
            host: HttpUrl::parse(host, Some((true, 443))).expect("url"),
            token_name: None,
            token_value: None,
            api_key: Some(Secret::new("1-key")),
            user: Some("pulse".into()),
            password: Some(Secret::new("pw")),
            fingerprint: None,
            verify_ssl: false,
            poll_interval: Duration::from_secs(30),
            cluster_endpoints: Vec::new(),
            monitor: Default::default(),
        }
    }

    #[test]
    fn from_endpoint_config() {
        let settings = TruenasSettings::from_endpoint(&endpoint("nas.lan")).expect("settings");
        assert_eq!(settings.connection_id, "nas-1");
        assert_eq!(settings.endpoint.origin(), "https://nas.lan:443");
        assert_eq!(settings.tls, TlsMode::InsecureSkipVerify);
        assert_eq!(settings.poll_interval, Duration::from_secs(30));
        assert!(matches!(settings.auth, TruenasAuth::ApiKey { .. }));
        let mut password_only = endpoint("https://nas.lan:8443");
        password_only.api_key = None;
        password_only.fingerprint = Some("ab".repeat(32));
        let settings = TruenasSettings::from_endpoint(&password_only).expect("settings");
        assert!(matches!(settings.auth, TruenasAuth::Password { .. }));
        assert!(matches!(settings.tls, TlsMode::Pinned(_)));
        assert_eq!(settings.endpoint.port(), 8443);
        assert!(matches!(
            TruenasSettings::from_endpoint(&endpoint("http://nas.lan")),
            Err(TruenasError::PlainHttpRefused { .. })
        ));
        let mut none = endpoint("nas");
        none.api_key = None;
        none.password = None;
        assert!(matches!(
            TruenasSettings::from_endpoint(&none),
            Err(TruenasError::Config(_))
        ));
        let mut pve = endpoint("nas");
        pve.kind = EndpointKind::Pve;
        assert!(TruenasSettings::from_endpoint(&pve).is_err());
    }
}
