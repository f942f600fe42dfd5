//! Command line and environment → [`Config`] (SPEC §2).
//!
//! Hand-rolled to keep the binary small. Flags take `--flag value` or `--flag=value`; flags
//! win over environment variables, which win over defaults. Every usage error names the flag
//! or variable, the value and what is allowed, and maps to exit code 2.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::docker::DEFAULT_SOCKET;

/// Server URL when neither `--url` nor `PULSE_URL` is given (the upstream default).
pub const DEFAULT_URL: &str = "http://localhost:7655";
/// Report interval when neither `--interval` nor `PULSE_INTERVAL` is given.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
/// Token file read when no other token source is given (upstream location).
pub const DEFAULT_TOKEN_FILE: &str = "/var/lib/pulse-agent/token";
/// Shortest accepted interval.
const MIN_INTERVAL: Duration = Duration::from_secs(1);
/// Longest accepted interval.
const MAX_INTERVAL: Duration = Duration::from_secs(24 * 3600);

/// Help text printed by `--help`.
pub const USAGE: &str = "\
pulse-agent: collects Linux host metrics and Docker containers and reports them to Pulse

Usage:
  pulse-agent --url URL --token TOKEN [--interval 30s] [--docker auto|on|off] [--once]

Options:
  --url URL             Pulse server URL [env PULSE_URL] (default http://localhost:7655)
  --token TOKEN         API token with agent:report and docker:report scopes [env PULSE_TOKEN]
  --token-file PATH     Read the token from PATH (default /var/lib/pulse-agent/token)
  --interval DURATION   Report interval, e.g. 30s, 1m, 1m30s; 1s to 24h [env PULSE_INTERVAL] (default 30s)
  --docker MODE         auto: report Docker when its socket exists (default)
                        on:   Docker is required; failing to reach it is an error
                        off:  never talk to Docker
  --docker-socket PATH  Docker daemon socket [env DOCKER_HOST=unix://PATH] (default /var/run/docker.sock)
  --hostname NAME       Report under NAME instead of the kernel hostname [env PULSE_HOSTNAME]
  --insecure            Accept any TLS certificate (self-signed servers)
  --once                Send one report and exit: 0 if delivered, 1 if not
  -h, --help            Print this help
  -V, --version         Print the version

Token lookup order: --token, --token-file, PULSE_TOKEN, /var/lib/pulse-agent/token.
Exit codes: 0 success, 1 runtime failure, 2 bad usage.
";

/// Whether and how to collect Docker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DockerMode {
    /// Collect when the socket exists; silently skip otherwise.
    Auto,
    /// Collect; an unreachable daemon is an error.
    On,
    /// Never collect.
    Off,
}

/// Validated agent configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Server base URL without a trailing slash.
    pub url: String,
    /// API token.
    pub token: String,
    /// Report interval.
    pub interval: Duration,
    /// Docker collection mode.
    pub docker: DockerMode,
    /// Docker daemon socket.
    pub docker_socket: PathBuf,
    /// Send one report and exit.
    pub once: bool,
    /// Hostname override.
    pub hostname: Option<String>,
    /// Skip TLS certificate verification.
    pub insecure: bool,
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run the agent.
    Run(Config),
    /// Print [`USAGE`].
    Help,
    /// Print the version.
    Version,
}

/// A bad command line or environment; the message says what is wrong and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn invalid(what: &str, value: &str, allowed: &str) -> UsageError {
    UsageError(format!("{what}: invalid value {value:?}: {allowed}"))
}

/// Parses a duration such as `30s`, `500ms`, `2m`, `1h`, `1m30s`; a bare number means seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let value: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = match &rest[..unit_len] {
            "ms" => Duration::from_millis(1),
            "s" => Duration::from_secs(1),
            "m" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            _ => return None,
        };
        rest = &rest[unit_len..];
        total = total.checked_add(unit.checked_mul(u32::try_from(value).ok()?)?)?;
    }
    Some(total)
}

/// Checks and normalises the server URL (scheme required, trailing slashes removed).
fn parse_url(what: &str, raw: &str) -> Result<String, UsageError> {
    let url = raw.trim().trim_end_matches('/');
    let host = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    match host {
        Some(h) if !h.is_empty() && !h.starts_with('/') && !url.contains(char::is_whitespace) => {
            Ok(url.to_string())
        }
        _ => Err(invalid(
            what,
            raw,
            "expected an http:// or https:// URL such as http://pulse.lan:7655",
        )),
    }
}

fn parse_docker_mode(what: &str, raw: &str) -> Result<DockerMode, UsageError> {
    match raw {
        "auto" => Ok(DockerMode::Auto),
        "on" | "true" => Ok(DockerMode::On),
        "off" | "false" => Ok(DockerMode::Off),
        _ => Err(invalid(what, raw, "expected auto, on or off")),
    }
}

fn parse_interval(what: &str, raw: &str) -> Result<Duration, UsageError> {
    parse_duration(raw)
        .filter(|d| (MIN_INTERVAL..=MAX_INTERVAL).contains(d))
        .ok_or_else(|| {
            invalid(
                what,
                raw,
                "expected a duration from 1s to 24h such as 30s, 1m or 1m30s",
            )
        })
}

fn read_token_file(what: &str, path: &Path) -> Result<String, UsageError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        UsageError(format!(
            "{what}: cannot read {:?}: {e}",
            path.display().to_string()
        ))
    })?;
    let token = text.trim().to_string();
    if token.is_empty() {
        return Err(UsageError(format!(
            "{what}: {:?} is empty; expected the API token",
            path.display().to_string()
        )));
    }
    Ok(token)
}

/// Raw flag values before environment fallbacks.
#[derive(Default)]
struct Flags {
    url: Option<String>,
    token: Option<String>,
    token_file: Option<String>,
    interval: Option<String>,
    docker: Option<String>,
    docker_socket: Option<String>,
    hostname: Option<String>,
    once: bool,
    insecure: bool,
}

/// Parses `args` (without the program name); `env` looks up environment variables.
///
/// `default_token_file` is the last token source tried; the binary passes
/// [`DEFAULT_TOKEN_FILE`].
pub fn parse(
    args: impl IntoIterator<Item = String>,
    env: impl Fn(&str) -> Option<String>,
    default_token_file: &Path,
) -> Result<Command, UsageError> {
    let mut flags = Flags::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let slot = match name.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--once" | "--insecure" => {
                if let Some(v) = inline {
                    return Err(UsageError(format!("{name}: takes no value, got {v:?}")));
                }
                if name == "--once" {
                    flags.once = true;
                } else {
                    flags.insecure = true;
                }
                continue;
            }
            "--url" => &mut flags.url,
            "--token" => &mut flags.token,
            "--token-file" => &mut flags.token_file,
            "--interval" => &mut flags.interval,
            "--docker" => &mut flags.docker,
            "--docker-socket" => &mut flags.docker_socket,
            "--hostname" => &mut flags.hostname,
            other if other.starts_with('-') => {
                return Err(UsageError(format!(
                    "unknown flag {other:?}; run pulse-agent --help for the list"
                )));
            }
            other => {
                return Err(UsageError(format!(
                    "unexpected argument {other:?}; the agent takes only flags"
                )));
            }
        };
        // A following flag is not taken as the value: `--token --once` is a missing token.
        let value = match inline {
            Some(v) => v,
            None => args
                .next()
                .filter(|v| !v.starts_with("--"))
                .ok_or_else(|| UsageError(format!("{name}: missing value")))?,
        };
        *slot = Some(value);
    }
    config_from(flags, &env, default_token_file).map(Command::Run)
}

fn config_from(
    flags: Flags,
    env: &impl Fn(&str) -> Option<String>,
    default_token_file: &Path,
) -> Result<Config, UsageError> {
    let env_nonempty = |k: &str| env(k).filter(|v| !v.trim().is_empty());

    let url = match (flags.url, env_nonempty("PULSE_URL")) {
        (Some(u), _) => parse_url("--url", &u)?,
        (None, Some(u)) => parse_url("PULSE_URL", &u)?,
        (None, None) => DEFAULT_URL.to_string(),
    };

    let interval = match (flags.interval, env_nonempty("PULSE_INTERVAL")) {
        (Some(i), _) => parse_interval("--interval", &i)?,
        (None, Some(i)) => parse_interval("PULSE_INTERVAL", &i)?,
        (None, None) => DEFAULT_INTERVAL,
    };

    let docker = match flags.docker {
        Some(m) => parse_docker_mode("--docker", &m)?,
        None => DockerMode::Auto,
    };

    let docker_socket = match (flags.docker_socket, env_nonempty("DOCKER_HOST")) {
        (Some(p), _) if p.trim().is_empty() => {
            return Err(invalid("--docker-socket", &p, "expected a socket path"))
        }
        (Some(p), _) => PathBuf::from(p.strip_prefix("unix://").unwrap_or(&p)),
        (None, Some(h)) => match h.strip_prefix("unix://") {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => {
                return Err(invalid(
                    "DOCKER_HOST",
                    &h,
                    "only unix:///path/to/docker.sock is supported",
                ))
            }
        },
        (None, None) => PathBuf::from(DEFAULT_SOCKET),
    };

    let hostname = match (flags.hostname, env_nonempty("PULSE_HOSTNAME")) {
        (Some(h), _) if h.trim().is_empty() => {
            return Err(invalid("--hostname", &h, "expected a non-empty name"))
        }
        (Some(h), _) => Some(h.trim().to_string()),
        (None, h) => h.map(|h| h.trim().to_string()),
    };

    let token = if let Some(t) = flags.token {
        if t.trim().is_empty() {
            return Err(invalid("--token", &t, "expected a non-empty API token"));
        }
        t.trim().to_string()
    } else if let Some(path) = flags.token_file {
        read_token_file("--token-file", Path::new(&path))?
    } else if let Some(t) = env_nonempty("PULSE_TOKEN") {
        t.trim().to_string()
    } else if default_token_file.exists() {
        read_token_file(
            &default_token_file.display().to_string(),
            default_token_file,
        )?
    } else {
        return Err(UsageError(
            "missing API token: pass --token TOKEN or --token-file PATH, or set PULSE_TOKEN".into(),
        ));
    };

    Ok(Config {
        url,
        token,
        interval,
        docker,
        docker_socket,
        once: flags.once,
        hostname,
        insecure: flags.insecure,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str], env: &[(&str, &str)]) -> Result<Command, UsageError> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse(
            args.iter().map(|s| s.to_string()),
            move |k| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()),
            Path::new("/nonexistent/pulse-agent/token"),
        )
    }

    fn config(args: &[&str], env: &[(&str, &str)]) -> Config {
        match run(args, env) {
            Ok(Command::Run(c)) => c,
            other => panic!("expected a config, got {other:?}"),
        }
    }

    #[test]
    fn parses_the_spec_command_line() {
        let c = config(
            &[
                "--url",
                "https://pulse.lan:7655/",
                "--token",
                "t0k",
                "--interval",
                "1m",
                "--docker",
                "off",
                "--once",
            ],
            &[],
        );
        assert_eq!(c.url, "https://pulse.lan:7655");
        assert_eq!(c.token, "t0k");
        assert_eq!(c.interval, Duration::from_secs(60));
        assert_eq!(c.docker, DockerMode::Off);
        assert!(c.once && !c.insecure);
        assert_eq!(c.docker_socket, PathBuf::from(DEFAULT_SOCKET));
    }

    #[test]
    fn applies_defaults_and_environment() {
        let c = config(&["--token=abc"], &[]);
        assert_eq!(c.url, DEFAULT_URL);
        assert_eq!(c.interval, DEFAULT_INTERVAL);
        assert_eq!(c.docker, DockerMode::Auto);
        let env = [
            ("PULSE_URL", "http://10.0.0.5:7655"),
            ("PULSE_TOKEN", "envtok"),
            ("PULSE_INTERVAL", "45"),
            ("PULSE_HOSTNAME", "box"),
            ("DOCKER_HOST", "unix:///run/user/1000/docker.sock"),
        ];
        let c = config(&[], &env);
        assert_eq!(c.url, "http://10.0.0.5:7655");
        assert_eq!(c.token, "envtok");
        assert_eq!(c.interval, Duration::from_secs(45));
        assert_eq!(c.hostname.as_deref(), Some("box"));
        assert_eq!(c.docker_socket, PathBuf::from("/run/user/1000/docker.sock"));
        // Flags beat the environment.
        let c = config(&["--token", "flag", "--url", "http://a"], &env);
        assert_eq!((c.token.as_str(), c.url.as_str()), ("flag", "http://a"));
    }

    #[test]
    fn reads_token_files() {
        let dir = std::env::temp_dir().join(format!("pulse-agent-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("token");
        std::fs::write(&file, "  filetok\n").expect("write");
        let path = file.display().to_string();
        assert_eq!(
            config(&["--token-file", &path], &[("PULSE_TOKEN", "env")]).token,
            "filetok"
        );
        let default = parse(Vec::<String>::new(), |_| None, &file);
        assert!(matches!(default, Ok(Command::Run(c)) if c.token == "filetok"));
        std::fs::write(&file, "\n").expect("write");
        let err = run(&["--token-file", &path], &[]).expect_err("empty");
        assert!(
            err.0.contains("--token-file") && err.0.contains("empty"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn reports_usage_errors_precisely() {
        let cases: &[(&[&str], &str)] = &[
            (
                &["--token", "t", "--docker", "maybe"],
                "--docker: invalid value \"maybe\": expected auto, on or off",
            ),
            (
                &["--token", "t", "--interval", "soon"],
                "--interval: invalid value \"soon\"",
            ),
            (&["--token", "t", "--interval", "0s"], "from 1s to 24h"),
            (
                &["--token", "t", "--url", "pulse.lan"],
                "--url: invalid value \"pulse.lan\": expected an http:// or https://",
            ),
            (&["--token", "t", "--bogus"], "unknown flag \"--bogus\""),
            (&["--token"], "--token: missing value"),
            (&["--token", "--once"], "--token: missing value"),
            (&["stray"], "unexpected argument \"stray\""),
            (&["--once=yes", "--token", "t"], "--once: takes no value"),
            (&[], "missing API token"),
        ];
        for (args, expected) in cases {
            let err = run(args, &[]).expect_err("must fail");
            assert!(err.0.contains(expected), "{args:?}: {err}");
        }
        let err = run(&["--token", "t"], &[("PULSE_INTERVAL", "forever")]).expect_err("env");
        assert!(err.0.starts_with("PULSE_INTERVAL:"), "{err}");
    }

    #[test]
    fn recognises_help_and_version() {
        assert_eq!(run(&["--help"], &[]), Ok(Command::Help));
        assert_eq!(run(&["--token", "t", "-h"], &[]), Ok(Command::Help));
        assert_eq!(run(&["-V"], &[]), Ok(Command::Version));
    }

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1500ms"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("15"), Some(Duration::from_secs(15)));
        for bad in ["", "s", "10x", "1.5s", "-1s", "m5"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
