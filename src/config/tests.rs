//! Tests of the layers together: precedence, every environment variable, file errors, the example file.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::file::parse;
use super::load::layer;
use super::*;
use crate::error::Error;

/// The example file shipped in `config/`.
const EXAMPLE: &str = include_str!("../../config/pulse.example.toml");

/// An environment made of the given pairs.
fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |k: &str| map.get(k).cloned()
}

/// Settings from file text, environment pairs and flags.
fn settings(text: &str, env: &[(&str, &str)], flags: CliOverrides) -> crate::Result<Settings> {
    layer(parse(text, "test.toml")?, &env_of(env), &flags)
}

/// The parts of a configuration error.
fn config_err(r: crate::Result<Settings>) -> (String, String, String) {
    match r {
        Err(Error::Config {
            key,
            value,
            allowed,
        }) => (key, value, allowed),
        other => panic!("expected a config error, got {other:?}"),
    }
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn defaults_are_the_spec_values() {
    let s = settings("", &[], CliOverrides::default()).unwrap();
    assert_eq!(s, Settings::default());
    assert_eq!(s.listen, addr("0.0.0.0:7655"));
    assert_eq!(s.data_dir, PathBuf::from("./data"));
    assert_eq!(s.metrics_listen, Some(addr("127.0.0.1:9091")));
    assert_eq!(
        (s.log_format, s.log_level),
        (LogFormat::Pretty, LogLevel::Info)
    );
    assert_eq!(s.polling.pve, Duration::from_secs(10));
    assert_eq!(s.polling.pbs, Duration::from_secs(60));
    assert_eq!(s.polling.pmg, Duration::from_secs(60));
    assert_eq!(s.polling.truenas, Duration::from_secs(60));
    assert_eq!(s.polling.connection_timeout, Duration::from_secs(60));
    assert_eq!(s.polling.agent_report_interval, Duration::from_secs(30));
    assert_eq!(s.ws.queue_capacity, 128);
    assert_eq!(s.ws.ping_interval, Duration::from_secs(30));
    assert_eq!(s.ws.idle_timeout, Duration::from_secs(90));
    assert_eq!(s.ws.coalesce, Duration::from_millis(25));
    assert!(!s.hosted_mode && !s.multi_tenant_enabled);
}

#[test]
fn flags_beat_env_beat_file_beat_defaults() {
    let file =
        "[server]\nlisten = \"10.0.0.1:1000\"\ndata_dir = \"/file\"\n[log]\nlevel = \"debug\"\n";
    let flags = CliOverrides {
        listen: Some("10.0.0.3:3000".into()),
        ..CliOverrides::default()
    };
    let env = [
        ("PULSE_LISTEN", "10.0.0.2:2000"),
        ("PULSE_DATA_DIR", "/env"),
    ];
    let s = settings(file, &env, flags).unwrap();
    assert_eq!(s.listen, addr("10.0.0.3:3000"), "flag wins");
    assert_eq!(s.data_dir, PathBuf::from("/env"), "env beats file");
    assert_eq!(s.log_level, LogLevel::Debug, "file beats default");
    assert_eq!(s.log_format, LogFormat::Pretty, "default");

    let s = settings(file, &[], CliOverrides::default()).unwrap();
    assert_eq!(s.listen, addr("10.0.0.1:1000"));
    let flags = CliOverrides {
        data_dir: Some("/flag".into()),
        ..CliOverrides::default()
    };
    assert_eq!(
        settings(file, &env, flags).unwrap().data_dir,
        PathBuf::from("/flag")
    );

    use std::os::unix::ffi::OsStrExt;
    let odd = PathBuf::from(std::ffi::OsStr::from_bytes(b"/data-\xff"));
    let flags = CliOverrides {
        data_dir: Some(odd.clone()),
        ..CliOverrides::default()
    };
    assert_eq!(
        settings("", &[], flags).unwrap().data_dir,
        odd,
        "non-UTF-8 paths kept as is"
    );
}

#[test]
fn every_environment_variable() {
    let env = [
        ("PULSE_LISTEN", "127.0.0.1:7000"),
        ("PULSE_DATA_DIR", "/var/lib/pulse"),
        ("PULSE_METRICS_LISTEN", "0.0.0.0:9100"),
        ("PULSE_LOG_FORMAT", "json"),
        ("PULSE_LOG_LEVEL", "WARN"),
        ("PULSE_AUTH_USER", "admin"),
        ("PULSE_AUTH_PASS", "a long enough password"),
        ("PULSE_REMOTE_WRITE_URL", "http://mimir:9009/api/v1/push"),
        (
            "PULSE_WEBHOOK_ALLOWED_CIDRS",
            "10.0.0.0/8, 192.168.1.0/24,,",
        ),
        ("PULSE_HOSTED_MODE", "true"),
        ("PULSE_MULTI_TENANT_ENABLED", "1"),
    ];
    let s = settings("", &env, CliOverrides::default()).unwrap();
    assert_eq!(s.listen, addr("127.0.0.1:7000"));
    assert_eq!(s.data_dir, PathBuf::from("/var/lib/pulse"));
    assert_eq!(s.metrics_listen, Some(addr("0.0.0.0:9100")));
    assert_eq!(s.log_format, LogFormat::Json);
    assert_eq!(s.log_level, LogLevel::Warn);
    assert_eq!(s.auth_user.as_deref(), Some("admin"));
    assert_eq!(
        s.auth_pass.as_ref().map(Secret::expose),
        Some("a long enough password")
    );
    assert_eq!(
        s.remote_write_url
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("http://mimir:9009/api/v1/push")
    );
    let cidrs: Vec<String> = s
        .webhook_allowed_cidrs
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(cidrs, ["10.0.0.0/8", "192.168.1.0/24"]);
    assert!(s.hosted_mode && s.multi_tenant_enabled);
}

#[test]
fn env_errors_name_the_variable() {
    for (name, value) in [
        ("PULSE_LISTEN", "7655"),
        ("PULSE_METRICS_LISTEN", "on"),
        ("PULSE_LOG_FORMAT", "xml"),
        ("PULSE_LOG_LEVEL", "loud"),
        ("PULSE_AUTH_USER", "two words"),
        ("PULSE_REMOTE_WRITE_URL", "mimir:9009"),
        ("PULSE_WEBHOOK_ALLOWED_CIDRS", "10.0.0.0/8,10.0.0.0/40"),
        ("PULSE_HOSTED_MODE", "sometimes"),
        ("PULSE_MULTI_TENANT_ENABLED", "2"),
    ] {
        let (key, _, allowed) = config_err(settings("", &[(name, value)], CliOverrides::default()));
        assert_eq!(key, name, "{allowed}");
        assert!(!allowed.is_empty());
    }
}

#[test]
fn metrics_off_and_blank_env_is_unset() {
    let s = settings(
        "",
        &[("PULSE_METRICS_LISTEN", "off")],
        CliOverrides::default(),
    )
    .unwrap();
    assert_eq!(s.metrics_listen, None);
    let s = settings(
        "[metrics]\nlisten = \"OFF\"\n",
        &[],
        CliOverrides::default(),
    )
    .unwrap();
    assert_eq!(s.metrics_listen, None);
    let s = settings("", &[("PULSE_LISTEN", "  ")], CliOverrides::default()).unwrap();
    assert_eq!(s.listen, Settings::default().listen);
}

#[test]
fn unknown_keys_are_rejected_with_the_key_and_position() {
    let (key, value, allowed) = config_err(settings(
        "[server]\nlisten = \"0.0.0.0:1\"\nlisen = \"0.0.0.0:2\"\n",
        &[],
        CliOverrides::default(),
    ));
    assert_eq!(
        (key.as_str(), value.as_str()),
        ("server.lisen", "0.0.0.0:2")
    );
    assert!(allowed.contains("unknown field `lisen`"), "{allowed}");
    assert!(allowed.contains("line 3, column 1"), "{allowed}");

    let (key, _, _) = config_err(settings("colour = 1\n", &[], CliOverrides::default()));
    assert_eq!(key, "colour");
    let (key, _, _) = config_err(settings("[serverr]\nx = 1\n", &[], CliOverrides::default()));
    assert_eq!(key, "serverr");
    let text = "[[pve]]\nname = \"a\"\nhost = \"h\"\nuser = \"u@pam\"\npassword = \"p\"\n[[pve]]\nnmae = \"b\"\n";
    let (key, _, _) = config_err(settings(text, &[], CliOverrides::default()));
    assert_eq!(key, "pve[1].nmae");
}

#[test]
fn toml_errors_name_line_and_column_and_hide_secrets() {
    let (key, _, allowed) = config_err(settings(
        "[log]\nlevel = \"info\"\nformat = \n",
        &[],
        CliOverrides::default(),
    ));
    assert_eq!(key, "log.format");
    assert!(allowed.contains("test.toml line 3, column 10"), "{allowed}");

    let (key, value, _) = config_err(settings(
        "[auth]\npass = 123456789012345\n",
        &[],
        CliOverrides::default(),
    ));
    assert_eq!((key.as_str(), value.as_str()), ("auth.pass", "***"));

    let (key, _, allowed) = config_err(settings(
        "[ws]\nqueue_capacity = \"many\"\n",
        &[],
        CliOverrides::default(),
    ));
    assert_eq!(key, "ws.queue_capacity");
    assert!(allowed.contains("line 2"), "{allowed}");

    let (key, _, allowed) = config_err(settings("[server\n", &[], CliOverrides::default()));
    assert!(key.contains("test.toml line 1"), "{key}");
    assert!(allowed.starts_with("valid TOML"), "{allowed}");
}

#[test]
fn bad_listen_address_and_bad_cidr_in_the_file() {
    let (key, value, allowed) = config_err(settings(
        "[server]\nlisten = \"localhost\"\n",
        &[],
        CliOverrides::default(),
    ));
    assert_eq!(
        (key.as_str(), value.as_str()),
        ("server.listen", "localhost")
    );
    assert!(allowed.contains("IP:port"));
    let flags = CliOverrides {
        listen: Some("nope".into()),
        ..CliOverrides::default()
    };
    assert_eq!(config_err(settings("", &[], flags)).0, "--listen");

    let (key, value, _) = config_err(settings(
        "[notifications]\nwebhook_allowed_cidrs = [\n  \"10.0.0.0/8\",\n  \"10.0.0.0/99\",\n]\n",
        &[],
        CliOverrides::default(),
    ));
    assert_eq!(
        (key.as_str(), value.as_str()),
        ("notifications.webhook_allowed_cidrs", "10.0.0.0/99")
    );
}

#[test]
fn ranges_and_rules_across_keys() {
    let (key, value, _) = config_err(settings(
        "[polling]\npve_interval_secs = 0\n",
        &[],
        CliOverrides::default(),
    ));
    assert_eq!(
        (key.as_str(), value.as_str()),
        ("polling.pve_interval_secs", "0")
    );
    let (key, _, _) = config_err(settings(
        "[ws]\nping_interval_secs = 60\nidle_timeout_secs = 60\n",
        &[],
        CliOverrides::default(),
    ));
    assert_eq!(key, "ws.idle_timeout_secs");
    let (key, _, _) = config_err(settings(
        "",
        &[("PULSE_AUTH_USER", "admin")],
        CliOverrides::default(),
    ));
    assert!(key.contains("PULSE_AUTH_PASS"), "{key}");
    let (key, value, _) = config_err(settings(
        "",
        &[("PULSE_AUTH_PASS", "short")],
        CliOverrides::default(),
    ));
    assert_eq!((key.as_str(), value.as_str()), ("PULSE_AUTH_PASS", "***"));
    let (key, _, _) = config_err(settings(
        "[metrics]\nlisten = \"0.0.0.0:7655\"\n",
        &[],
        CliOverrides::default(),
    ));
    assert!(key.starts_with("metrics.listen"), "{key}");
}

#[test]
fn endpoints_are_validated() {
    let ok = "[[pve]]\nname = \"a\"\nhost = \"pve.lan\"\ntoken_name = \"pulse@pam!t\"\ntoken_value = \"s3cret-token\"\n\
              fingerprint = \"AB:cd:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89\"\n\
              [[truenas]]\nname = \"nas\"\nhost = \"https://nas\"\napi_key = \"1-key\"\nuser = \"pulse\"\npoll_interval_secs = 5\nverify_ssl = false\n";
    let s = settings(ok, &[], CliOverrides::default()).unwrap();
    let pve = &s.pve[0];
    assert_eq!(pve.kind, EndpointKind::Pve);
    assert_eq!(pve.host.to_string(), "https://pve.lan:8006");
    assert_eq!(pve.fingerprint.as_deref().map(str::len), Some(64));
    assert!(pve.fingerprint.as_deref().unwrap().starts_with("abcdef01"));
    assert!(pve.verify_ssl);
    assert_eq!(pve.poll_interval, Duration::from_secs(10));
    assert_eq!(s.truenas[0].poll_interval, Duration::from_secs(5));
    assert!(!s.truenas[0].verify_ssl);
    assert_eq!(s.truenas[0].host.to_string(), "https://nas");
    assert_eq!(
        s.truenas[0].user.as_deref(),
        Some("pulse"),
        "an API key's owner"
    );

    let base = "name = \"a\"\nhost = \"h\"\n";
    for (text, expected_key) in [
        ("[[pve]]\nhost = \"h\"\nuser = \"u@pam\"\npassword = \"p\"\n", "pve[0].name"),
        ("[[pve]]\nname = \"a\"\nhost = \"ftp://h\"\nuser = \"u\"\npassword = \"p\"\n", "pve[0].host"),
        (&format!("[[pbs]]\n{base}"), "pbs[0].credentials"),
        (&format!("[[pbs]]\n{base}user = \"u\"\n"), "pbs[0].password"),
        (&format!("[[truenas]]\n{base}user = \"u\"\n"), "truenas[0].password"),
        (&format!("[[pmg]]\n{base}token_name = \"pulse@pam!t\"\n"), "pmg[0].token_value"),
        (&format!("[[pve]]\n{base}token_name = \"nobang\"\ntoken_value = \"v\"\n"), "pve[0].token_name"),
        (&format!("[[pve]]\n{base}api_key = \"k\"\n"), "pve[0].api_key"),
        (&format!("[[truenas]]\n{base}token_name = \"a@b!c\"\ntoken_value = \"v\"\n"), "truenas[0].token_name"),
        (&format!("[[pve]]\n{base}user = \"u\"\npassword = \"p\"\nfingerprint = \"abc\"\n"), "pve[0].fingerprint"),
        (&format!("[[pve]]\n{base}user = \"u\"\npassword = \"p\"\npoll_interval_secs = 0\n"), "pve[0].poll_interval_secs"),
        (&format!("[[pve]]\n{base}user = \"u\"\npassword = \"p\"\n[[pve]]\n{base}user = \"u\"\npassword = \"p\"\n"), "pve[1].name"),
    ] {
        let (key, _, allowed) = config_err(settings(text, &[], CliOverrides::default()));
        assert_eq!(key, expected_key, "{text}: {allowed}");
    }
}

#[test]
fn secrets_are_not_in_debug_output() {
    let text = "[auth]\nuser = \"admin\"\npass = \"auth-pass-in-clear\"\n\
                [[pve]]\nname = \"a\"\nhost = \"h\"\ntoken_name = \"u@pam!t\"\ntoken_value = \"token-value-in-clear\"\n\
                user = \"u@pam\"\npassword = \"endpoint-password-in-clear\"\n\
                [[truenas]]\nname = \"n\"\nhost = \"h\"\napi_key = \"api-key-in-clear\"\n";
    let s = settings(text, &[], CliOverrides::default()).unwrap();
    let debug = format!("{s:?} {s:#?}");
    for secret in [
        "auth-pass-in-clear",
        "token-value-in-clear",
        "endpoint-password-in-clear",
        "api-key-in-clear",
    ] {
        assert!(!debug.contains(secret), "{secret} leaked");
    }
    assert!(debug.contains("u@pam!t"), "non-secrets stay visible");
}

#[test]
fn the_example_file_parses_to_the_defaults() {
    let s = settings(EXAMPLE, &[], CliOverrides::default()).unwrap();
    assert_eq!(s, Settings::default(), "documented defaults match the code");
}

#[test]
fn the_example_file_with_every_commented_key_enabled_parses() {
    let enabled: String = EXAMPLE
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(rest) if is_example_line(rest) => rest,
            _ => line,
        })
        .fold(String::new(), |acc, l| acc + l + "\n");
    let s = settings(&enabled, &[], CliOverrides::default()).unwrap();
    assert_eq!(s.auth_user.as_deref(), Some("admin"));
    assert_eq!(
        (s.pve.len(), s.pbs.len(), s.pmg.len(), s.truenas.len()),
        (1, 1, 1, 1)
    );
}

/// Whether a commented line of the example is a key or table header meant to be uncommented.
fn is_example_line(rest: &str) -> bool {
    if rest.starts_with("[[") && rest.ends_with("]]") {
        return true;
    }
    rest.split_once(" = ").is_some_and(|(k, _)| {
        !k.is_empty() && k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
    })
}

#[test]
fn load_reads_the_file_named_by_flag_env_or_caller() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.toml");
    let b = dir.path().join("b.toml");
    std::fs::write(&a, "[server]\nlisten = \"10.0.0.1:1\"\n").unwrap();
    std::fs::write(&b, "[server]\nlisten = \"10.0.0.2:2\"\n").unwrap();
    let b_str = b.to_str().unwrap();

    let s = Settings::load(Some(&a), &env_of(&[]), CliOverrides::default()).unwrap();
    assert_eq!(
        (s.listen, s.config_file.as_deref()),
        (addr("10.0.0.1:1"), Some(a.as_path()))
    );
    let s = Settings::load(
        Some(&a),
        &env_of(&[("PULSE_CONFIG", b_str)]),
        CliOverrides::default(),
    )
    .unwrap();
    assert_eq!(s.listen, addr("10.0.0.2:2"));
    let flags = CliOverrides {
        config: Some(a.clone()),
        ..CliOverrides::default()
    };
    let s = Settings::load(None, &env_of(&[("PULSE_CONFIG", b_str)]), flags).unwrap();
    assert_eq!(s.listen, addr("10.0.0.1:1"));
    let s = Settings::load(None, &env_of(&[]), CliOverrides::default()).unwrap();
    assert_eq!(s.config_file, None);

    let missing = Path::new("/nonexistent/pulse.toml");
    let flags = CliOverrides {
        config: Some(missing.to_path_buf()),
        ..CliOverrides::default()
    };
    let (key, value, _) = config_err(Settings::load(None, &env_of(&[]), flags));
    assert_eq!(
        (key.as_str(), value.as_str()),
        ("--config", "/nonexistent/pulse.toml")
    );
    let (key, _, _) = config_err(Settings::load(
        None,
        &env_of(&[("PULSE_CONFIG", "/nonexistent/x.toml")]),
        CliOverrides::default(),
    ));
    assert_eq!(key, "PULSE_CONFIG");

    let big = dir.path().join("big.toml");
    std::fs::write(&big, "#".repeat(2 * 1024 * 1024)).unwrap();
    let (_, _, allowed) = config_err(Settings::load(
        Some(&big),
        &env_of(&[]),
        CliOverrides::default(),
    ));
    assert!(allowed.contains("larger than"), "{allowed}");
}

#[test]
fn history_and_remote_write_keys_are_validated() {
    let s = settings(
        "[history]\nflush_interval_secs = 2\nraw_retention_hours = 6\nday_retention_days = 365\n\
         [metrics]\nremote_write_url = \"http://127.0.0.1:9090/api/v1/write\"\n\
         remote_write_bearer_token = \"tok\"\nremote_write_batch_size = 100\n",
        &[],
        CliOverrides::default(),
    )
    .unwrap();
    assert_eq!(s.history.flush_interval, Duration::from_secs(2));
    assert_eq!(s.history.raw_retention, Duration::from_secs(6 * 3600));
    assert_eq!(s.history.day_retention, Duration::from_secs(365 * 86_400));
    assert_eq!(s.remote_write.batch_size, 100);
    assert!(s.remote_write.bearer_token.is_some());
    assert!(
        !format!("{s:?}").contains("tok\""),
        "bearer token never in Debug"
    );

    for (text, key) in [
        (
            "[history]\nflush_interval_secs = 0",
            "history.flush_interval_secs",
        ),
        (
            "[history]\nraw_retention_hours = 49",
            "history.raw_retention_hours",
        ),
        (
            "[history]\nday_retention_days = 5",
            "history.day_retention_days",
        ),
        (
            "[history]\nminute_retention_hours = 1",
            "history.minute_retention_hours",
        ),
        ("[history]\nbogus = 1", "history.bogus"),
        (
            "[metrics]\nremote_write_batch_size = 0",
            "metrics.remote_write_batch_size",
        ),
        (
            "[metrics]\nremote_write_password = \"\"",
            "metrics.remote_write_password",
        ),
        (
            "[metrics]\nremote_write_username = \"u\"",
            "metrics.remote_write_username / metrics.remote_write_password",
        ),
        (
            "[metrics]\nremote_write_username = \"u\"\nremote_write_password = \"p\"\n\
             remote_write_bearer_token = \"t\"",
            "metrics.remote_write_bearer_token",
        ),
    ] {
        let (got, _, _) = config_err(settings(text, &[], CliOverrides::default()));
        assert_eq!(got, key, "{text}");
    }
}
