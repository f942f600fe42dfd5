//! `pulse-agent --once` end to end: the real binary against a tiny HTTP receiver.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use flate2::read::GzDecoder;
use serde_json::Value;

/// A request as the receiver saw it.
struct Received {
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        assert_eq!(self.header("Content-Encoding"), Some("gzip"));
        let mut text = String::new();
        GzDecoder::new(&self.body[..])
            .read_to_string(&mut text)
            .expect("gzip body");
        serde_json::from_str(&text).expect("JSON body")
    }
}

/// Reads requests from one connection (keep-alive aware) and answers 200.
fn serve(conn: TcpStream, tx: &mpsc::Sender<Received>) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut writer = conn.try_clone()?;
    let mut reader = BufReader::new(conn);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let path = line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_string();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h)?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((n, v)) = h.split_once(':') {
                headers.push((n.trim().to_string(), v.trim().to_string()));
            }
        }
        let len = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        reader.read_exact(&mut body)?;
        let reply = r#"{"success":true,"agentId":"x"}"#;
        write!(writer, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{reply}", reply.len())?;
        let _ = tx.send(Received {
            path,
            headers,
            body,
        });
    }
}

/// Starts the receiver; returns its base URL and the channel of received requests.
fn receiver() -> (String, mpsc::Receiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let tx = tx.clone();
            thread::spawn(move || serve(conn, &tx));
        }
    });
    (url, rx)
}

fn agent(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pulse-agent"))
        .args(args)
        .env_remove("PULSE_URL")
        .env_remove("PULSE_TOKEN")
        .env_remove("PULSE_INTERVAL")
        .env_remove("PULSE_HOSTNAME")
        .env_remove("DOCKER_HOST")
        .output()
        .expect("run pulse-agent")
}

fn meminfo_total_bytes() -> u64 {
    let text = std::fs::read_to_string("/proc/meminfo").expect("meminfo");
    let kib: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("MemTotal");
    kib * 1024
}

fn machine_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("hostname")
        .trim()
        .to_string()
}

#[test]
fn once_delivers_a_host_report() {
    let (url, rx) = receiver();
    let out = agent(&["--once", "--url", &url, "--token", "t", "--docker", "off"]);
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );

    let req = rx.recv_timeout(Duration::from_secs(5)).expect("a request");
    assert_eq!(req.path, "/api/agents/agent/report");
    assert_eq!(req.header("X-API-Token"), Some("t"));
    assert_eq!(req.header("Authorization"), Some("Bearer t"));
    assert_eq!(req.header("Content-Type"), Some("application/json"));
    assert!(req
        .header("User-Agent")
        .is_some_and(|ua| ua.starts_with("pulse-agent/")));

    let report = req.json();
    assert_eq!(
        report["metrics"]["memory"]["totalBytes"].as_u64(),
        Some(meminfo_total_bytes())
    );
    assert_eq!(
        report["host"]["hostname"].as_str(),
        Some(machine_hostname().as_str())
    );
    assert_eq!(report["host"]["platform"], "linux");
    assert_eq!(report["agent"]["type"], "unified");
    assert_eq!(report["agent"]["intervalSeconds"], 30);
    assert!(report["metrics"]["cpuUsagePercent"]
        .as_f64()
        .is_some_and(|c| (0.0..=100.0).contains(&c)));
    assert!(
        report["disks"].as_array().is_some_and(|d| !d.is_empty()),
        "at least the root filesystem"
    );

    // --docker off: nothing else arrives.
    assert!(rx.recv_timeout(Duration::from_millis(300)).is_err());
}

#[test]
fn once_with_docker_sends_both_reports() {
    let (url, rx) = receiver();
    let sock = std::env::temp_dir().join(format!("pulse-agent-once-{}.sock", std::process::id()));
    let sim = pulse::sim::docker_engine::DockerEngineSim::start(&sock).expect("simulator");
    let sock_arg = sim.socket_path().display().to_string();
    let out = agent(&[
        "--once",
        "--url",
        &url,
        "--token",
        "t",
        "--docker",
        "on",
        "--docker-socket",
        &sock_arg,
        "--hostname",
        "dock",
    ]);
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );

    let host = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("host report");
    assert_eq!(host.path, "/api/agents/agent/report");
    assert_eq!(host.json()["host"]["hostname"], "dock");
    let docker = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("docker report");
    assert_eq!(docker.path, "/api/agents/docker/report");
    assert_eq!(docker.header("Authorization"), Some("Bearer t"));
    let report = docker.json();
    assert_eq!(report["host"]["hostname"], "dock");
    assert_eq!(report["host"]["runtime"], "docker");
    assert_eq!(report["host"]["dockerVersion"], "27.3.1");
    assert_eq!(report["host"]["totalCpu"], 8);
    assert_eq!(report["agent"]["type"], "unified");
    assert_eq!(report["containers"].as_array().map(Vec::len), Some(6));
    assert!(report["timestamp"].is_string());
}

#[test]
fn docker_auto_without_a_socket_sends_only_the_host_report() {
    let (url, rx) = receiver();
    let out = agent(&[
        "--once",
        "--url",
        &url,
        "--token",
        "t",
        "--docker-socket",
        "/nonexistent/docker.sock",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let host = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("host report");
    assert_eq!(host.path, "/api/agents/agent/report");
    assert!(
        rx.recv_timeout(Duration::from_millis(300)).is_err(),
        "no Docker report"
    );
}

#[test]
fn once_exits_1_when_the_server_is_unreachable() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let out = agent(&[
        "--once",
        "--url",
        &format!("http://127.0.0.1:{port}"),
        "--token",
        "t",
        "--docker",
        "off",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("unreachable"));
}

#[test]
fn docker_on_without_a_socket_exits_1() {
    let out = agent(&[
        "--once",
        "--token",
        "t",
        "--docker",
        "on",
        "--docker-socket",
        "/nonexistent/docker.sock",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/docker.sock"));
}

#[test]
fn bad_usage_exits_2_and_names_the_flag() {
    let out = agent(&["--once", "--token", "t", "--docker", "sometimes"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--docker") && err.contains("sometimes") && err.contains("auto, on or off"),
        "{err}"
    );

    let out = agent(&["--frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--frobnicate"));
}

#[test]
fn help_exits_0() {
    let out = agent(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("--url") && text.contains("--docker auto|on|off") && text.contains("--once")
    );
}

#[test]
fn sigterm_stops_the_loop_promptly_with_exit_0() {
    let (url, rx) = receiver();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pulse-agent"))
        .args([
            "--url",
            &url,
            "--token",
            "t",
            "--docker",
            "off",
            "--interval",
            "1h",
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    rx.recv_timeout(Duration::from_secs(5))
        .expect("first report");
    let pid = i32::try_from(child.id()).expect("pid");
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "agent did not stop"
        );
        thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
}
