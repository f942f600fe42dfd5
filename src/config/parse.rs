//! Parsers for single configuration values; every error is `Error::Config` naming the key (file key,
//! environment variable or flag), the value, and what is allowed.

use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

use super::cidr::Cidr;
use super::secret::Secret;
use super::settings::{LogFormat, LogLevel};
use super::url::HttpUrl;
use crate::auth::{check_password_policy, validate_username, MIN_PASSWORD_CHARS};
use crate::error::{Error, Result};

/// A configuration error for `key = value`, explaining what is `allowed`.
pub(super) fn config_error(key: &str, value: &str, allowed: impl Into<String>) -> Error {
    Error::Config {
        key: key.to_owned(),
        value: value.to_owned(),
        allowed: allowed.into(),
    }
}

/// An `IP:port` listen address.
pub(super) fn socket_addr(key: &str, value: &str) -> Result<SocketAddr> {
    value.trim().parse().map_err(|_| {
        config_error(
            key,
            value,
            "an IP:port address like 0.0.0.0:7655 or [::]:7655",
        )
    })
}

/// The metrics listener: an `IP:port`, or `off`.
pub(super) fn metrics_listen(key: &str, value: &str) -> Result<Option<SocketAddr>> {
    if value.trim().eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    value.trim().parse().map(Some).map_err(|_| {
        config_error(
            key,
            value,
            "an IP:port address like 127.0.0.1:9091, or \"off\"",
        )
    })
}

/// `pretty` or `json`.
pub(super) fn log_format(key: &str, value: &str) -> Result<LogFormat> {
    match value.trim().to_ascii_lowercase().as_str() {
        "pretty" => Ok(LogFormat::Pretty),
        "json" => Ok(LogFormat::Json),
        _ => Err(config_error(key, value, "\"pretty\" or \"json\"")),
    }
}

/// One of the log levels.
pub(super) fn log_level(key: &str, value: &str) -> Result<LogLevel> {
    let wanted = value.trim().to_ascii_lowercase();
    LogLevel::ALL
        .into_iter()
        .find(|l| l.as_str() == wanted)
        .ok_or_else(|| {
            let names: Vec<_> = LogLevel::ALL.iter().map(|l| l.as_str()).collect();
            config_error(key, value, format!("one of {}", names.join(", ")))
        })
}

/// A boolean written as text (environment): true/false, 1/0, yes/no, on/off.
pub(super) fn boolean(key: &str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(config_error(
            key,
            value,
            "true or false (also 1/0, yes/no, on/off)",
        )),
    }
}

/// A non-empty directory path.
pub(super) fn data_dir(key: &str, value: &str) -> Result<PathBuf> {
    if value.trim().is_empty() {
        return Err(config_error(key, value, "a directory path"));
    }
    Ok(PathBuf::from(value))
}

/// The admin username.
pub(super) fn username(key: &str, value: &str) -> Result<String> {
    validate_username(value).map_err(|_| {
        config_error(
            key,
            value,
            "a username of 1-254 characters without spaces or control characters",
        )
    })?;
    Ok(value.to_owned())
}

/// The admin password (checked against the password policy; never echoed).
pub(super) fn password(key: &str, value: Secret) -> Result<Secret> {
    check_password_policy(value.expose()).map_err(|_| {
        config_error(
            key,
            "***",
            format!("a password of at least {MIN_PASSWORD_CHARS} characters"),
        )
    })?;
    Ok(value)
}

/// An absolute http(s) URL; empty means unset.
pub(super) fn optional_url(key: &str, value: &str) -> Result<Option<HttpUrl>> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    HttpUrl::parse(value, None)
        .map(Some)
        .map_err(|why| config_error(key, value, why))
}

/// A list of CIDRs.
pub(super) fn cidrs<'a>(key: &str, values: impl IntoIterator<Item = &'a str>) -> Result<Vec<Cidr>> {
    values
        .into_iter()
        .map(|v| Cidr::parse(v).map_err(|why| config_error(key, v, why)))
        .collect()
}

/// Browser origins (`scheme://host[:port]`), or `*` alone; normalised to the `Origin` header form.
pub(super) fn origins(key: &str, values: &[String]) -> Result<Vec<String>> {
    if values.iter().any(|v| v.trim() == "*") {
        if values.len() > 1 {
            return Err(config_error(
                key,
                &values.join(","),
                "\"*\" on its own, or a list of origins",
            ));
        }
        return Ok(vec!["*".to_owned()]);
    }
    values
        .iter()
        .map(|v| {
            let allowed = "an origin like https://pulse.example.com (scheme, host, optional port)";
            let url = HttpUrl::parse(v, None).map_err(|_| config_error(key, v, allowed))?;
            if !matches!(url.path(), "" | "/") {
                return Err(config_error(key, v, allowed));
            }
            Ok(url.origin())
        })
        .collect()
}

/// A whole number of seconds within `range`.
pub(super) fn secs(key: &str, value: u64, range: RangeInclusive<u64>) -> Result<Duration> {
    within(key, value, &range, "seconds").map(Duration::from_secs)
}

/// A whole number of hours within `range`.
pub(super) fn hours(key: &str, value: u64, range: RangeInclusive<u64>) -> Result<Duration> {
    within(key, value, &range, "hours").map(|h| Duration::from_secs(h * 3600))
}

/// A whole number of days within `range`.
pub(super) fn days(key: &str, value: u64, range: RangeInclusive<u64>) -> Result<Duration> {
    within(key, value, &range, "days").map(|d| Duration::from_secs(d * 86_400))
}

/// A credential for an outside service: non-empty, at most 4,096 printable characters; never
/// echoed in errors.
pub(super) fn secret(key: &str, value: Secret) -> Result<Secret> {
    let v = value.expose();
    if v.is_empty() || v.len() > 4096 || v.chars().any(char::is_control) {
        return Err(config_error(
            key,
            "***",
            "a non-empty value of at most 4096 printable characters",
        ));
    }
    Ok(value)
}

/// A whole number of milliseconds within `range`.
pub(super) fn millis(key: &str, value: u64, range: RangeInclusive<u64>) -> Result<Duration> {
    within(key, value, &range, "milliseconds").map(Duration::from_millis)
}

/// A count within `range`.
pub(super) fn count(key: &str, value: u64, range: RangeInclusive<u64>) -> Result<usize> {
    let n = within(key, value, &range, "")?;
    usize::try_from(n).map_err(|_| config_error(key, &value.to_string(), "a smaller number"))
}

/// `value` if inside `range`, else an error naming the range and `unit`.
fn within(key: &str, value: u64, range: &RangeInclusive<u64>, unit: &str) -> Result<u64> {
    if range.contains(&value) {
        Ok(value)
    } else {
        let unit = if unit.is_empty() {
            String::new()
        } else {
            format!(" {unit}")
        };
        Err(config_error(
            key,
            &value.to_string(),
            format!(
                "a whole number from {} to {}{unit}",
                range.start(),
                range.end()
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(e: Error) -> (String, String, String) {
        match e {
            Error::Config {
                key,
                value,
                allowed,
            } => (key, value, allowed),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn values_and_their_errors() {
        assert_eq!(socket_addr("k", "127.0.0.1:1").unwrap().port(), 1);
        let (k, v, a) = parts(socket_addr("PULSE_LISTEN", "localhost:7655").unwrap_err());
        assert_eq!((k.as_str(), v.as_str()), ("PULSE_LISTEN", "localhost:7655"));
        assert!(a.contains("IP:port"));
        assert_eq!(metrics_listen("k", "OFF").unwrap(), None);
        assert!(metrics_listen("k", "9091").is_err());
        assert_eq!(log_format("k", "JSON").unwrap(), LogFormat::Json);
        assert!(log_format("k", "xml").is_err());
        assert_eq!(log_level("k", "warn").unwrap(), LogLevel::Warn);
        assert!(parts(log_level("k", "verbose").unwrap_err())
            .2
            .contains("trace, debug"));
        assert!(boolean("k", "Yes").unwrap());
        assert!(!boolean("k", "0").unwrap());
        assert!(boolean("k", "maybe").is_err());
        assert!(data_dir("k", " ").is_err());
        assert!(username("k", "a b").is_err());
        let (_, v, _) = parts(password("k", Secret::new("short-pw")).unwrap_err());
        assert_eq!(v, "***");
        assert_eq!(optional_url("k", "").unwrap(), None);
        assert!(optional_url("k", "mimir:9009").is_err());
        let (_, v, _) = parts(cidrs("k", ["10.0.0.0/8", "300.0.0.0/8"]).unwrap_err());
        assert_eq!(v, "300.0.0.0/8");
        assert_eq!(secs("k", 10, 1..=60).unwrap(), Duration::from_secs(10));
        assert!(parts(secs("k", 0, 1..=60).unwrap_err())
            .2
            .contains("1 to 60 seconds"));
        assert!(count("k", 7, 8..=9).is_err());
        assert_eq!(millis("k", 0, 0..=5).unwrap(), Duration::ZERO);
    }

    #[test]
    fn origin_lists() {
        let list = [
            "https://Pulse.example.com:443/".to_owned(),
            "http://10.0.0.2:8080".to_owned(),
        ];
        assert_eq!(
            origins("k", &list).unwrap(),
            ["https://pulse.example.com", "http://10.0.0.2:8080"]
        );
        assert_eq!(origins("k", &["*".to_owned()]).unwrap(), ["*"]);
        assert!(origins("k", &["*".to_owned(), "https://a".to_owned()]).is_err());
        assert!(origins("k", &["https://a/path".to_owned()]).is_err());
        assert!(origins("k", &["a.example".to_owned()]).is_err());
    }
}
