//! Leanness budgets: CPU per collection and resident memory of a running agent.
//!
//! Ignored by default because the figures only mean something in an optimised build:
//! `cargo test --release -p pulse-agent --test lean -- --ignored --nocapture`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pulse_agent::docker::DockerCollector;
use pulse_agent::host::HostCollector;

/// CPU time (user + system) this process has used so far.
fn cpu_time() -> Duration {
    // SAFETY: rusage is plain data and getrusage fills it in.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pointer refers to a live rusage.
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) }, 0);
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

#[test]
#[ignore = "measurement; run in release"]
fn host_collection_costs_under_5ms_cpu() {
    let mut host = HostCollector::new("/", None);
    host.collect(); // first call samples CPU for 200 ms; not part of the steady state
    let n = 500;
    let before = cpu_time();
    for _ in 0..n {
        std::hint::black_box(host.collect());
    }
    let per = (cpu_time() - before) / n;
    println!("host collection: {per:?} CPU per collection ({n} iterations)");
    assert!(per <= Duration::from_millis(5), "{per:?}");
}

#[test]
#[ignore = "measurement; run in release"]
fn docker_collection_cost_against_the_simulator() {
    let sock = std::env::temp_dir().join(format!("pulse-agent-lean-{}.sock", std::process::id()));
    let sim = pulse::sim::docker_engine::DockerEngineSim::start(&sock).expect("simulator");
    let mut docker = DockerCollector::new(sim.socket_path());
    let n = 100;
    let before = cpu_time();
    for _ in 0..n {
        std::hint::black_box(docker.collect().expect("collect"));
    }
    // Includes the simulator's own work, which runs in this process too: an upper bound.
    let per = (cpu_time() - before) / n;
    println!("docker collection (6 containers, simulator included): {per:?} CPU per collection");
}

fn vm_kib(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("field")
}

#[test]
#[ignore = "measurement; run in release"]
fn running_agent_stays_under_8mb_rss() {
    // Receiver: accept everything, answer 200.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut w = conn.try_clone().expect("clone");
                let mut r = BufReader::new(conn);
                loop {
                    let mut len = 0usize;
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    loop {
                        line.clear();
                        if r.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line.trim().is_empty() {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; len];
                    if r.read_exact(&mut body).is_err() {
                        return;
                    }
                    let _ = w.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
                    let _ = tx.send(());
                }
            });
        }
    });
    let sock = std::env::temp_dir().join(format!("pulse-agent-rss-{}.sock", std::process::id()));
    let sim = pulse::sim::docker_engine::DockerEngineSim::start(&sock).expect("simulator");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pulse-agent"))
        .args([
            "--url",
            &url,
            "--token",
            "t",
            "--interval",
            "1s",
            "--docker",
            "on",
        ])
        .arg("--docker-socket")
        .arg(sim.socket_path())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let started = Instant::now();
    let mut reports = 0;
    while reports < 40 && started.elapsed() < Duration::from_secs(60) {
        if rx.recv_timeout(Duration::from_secs(5)).is_ok() {
            reports += 1;
        }
    }
    let rss = vm_kib(child.id(), "VmRSS:");
    let hwm = vm_kib(child.id(), "VmHWM:");
    let _ = child.kill();
    let _ = child.wait();
    println!("agent after {reports} reports: VmRSS {rss} KiB, peak VmHWM {hwm} KiB");
    assert!(reports >= 20, "only {reports} reports");
    assert!(rss <= 8 * 1024, "RSS {rss} KiB");
}
