//! Starting the real `pulse` binary as a child process and watching its memory.

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::Duration;

/// Spawning `pulse serve`, killing it and creating tokens offline, shared with the tests.
#[path = "../../tests/common/process.rs"]
#[allow(dead_code)]
mod process;

use process::BIN;

/// Environment variable naming another server binary to run (for example one built with
/// `--features system-allocator`, which heap profilers can see into).
const BIN_ENV: &str = "LOADGEN_SERVER_BIN";

/// Environment variable with a command prefix to run the server under, split on whitespace
/// (for example `heaptrack -o /tmp/fanout`). The server is then stopped with SIGTERM, so the
/// profiler can write its output, instead of being killed.
const WRAP_ENV: &str = "LOADGEN_SERVER_WRAP";

/// The server binary to run.
fn server_bin() -> String {
    std::env::var(BIN_ENV).unwrap_or_else(|_| BIN.to_owned())
}

/// A running server process; killed on drop.
pub struct ServerProcess {
    /// The child: the server, or the wrapper that runs it.
    child: Child,
    /// Process id of the server itself (differs from the child's under a wrapper).
    pid: u32,
    /// Whether the server runs under a wrapper (stopped with SIGTERM, not killed).
    wrapped: bool,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// An API token with every scope.
    pub token: String,
    _dir: tempfile::TempDir,
}

impl ServerProcess {
    /// Creates a data dir with an all-scopes token, then starts `pulse serve` on a free port.
    pub fn start(extra_env: &[(&str, &str)]) -> ServerProcess {
        Self::start_in(tempfile::tempdir().expect("tempdir"), extra_env)
    }

    /// [`ServerProcess::start`] on a data dir the caller prepared.
    pub fn start_in(dir: tempfile::TempDir, extra_env: &[(&str, &str)]) -> ServerProcess {
        // Any build of the server writes the same store, so the token comes from this one.
        let token = process::create_token(dir.path(), "*");
        let wrap: Vec<String> = std::env::var(WRAP_ENV)
            .map(|w| w.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default();
        let mut cmd = match wrap.split_first() {
            Some((program, args)) => {
                let mut cmd = Command::new(program);
                cmd.args(args).arg(server_bin());
                cmd
            }
            None => Command::new(server_bin()),
        };
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .env("PULSE_METRICS_LISTEN", "off")
            .env("PULSE_LOG_LEVEL", "warn")
            .env("PULSE_AUTH_USER", "admin")
            .env("PULSE_AUTH_PASS", "load-generator-pass");
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let (child, base) = process::spawn_serve(cmd);
        let addr = base.trim_start_matches("http://").to_owned();
        let wrapped = !wrap.is_empty();
        let pid = if wrapped {
            // A wrapper may exec the server in its own process (`env`) or run it as a child.
            descendant_named(child.id(), "pulse").unwrap_or(child.id())
        } else {
            child.id()
        };
        ServerProcess {
            child,
            pid,
            wrapped,
            base,
            addr,
            token,
            _dir: dir,
        }
    }

    /// Process id of the server.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Resident set size of the server, bytes.
    pub fn rss_bytes(&self) -> u64 {
        rss_of(self.pid)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if self.wrapped {
            // A graceful stop lets the wrapper (a profiler) see the exit and write its output.
            // SAFETY: kill(2) only sends a signal to the server process started above.
            unsafe { libc::kill(self.pid as libc::pid_t, libc::SIGTERM) };
            let _ = self.child.wait();
        } else {
            process::kill9(&mut self.child);
        }
    }
}

/// The first process below `root` (depth-first) whose command name is `name`.
fn descendant_named(root: u32, name: &str) -> Option<u32> {
    // (pid, parent pid, command name) of every process, read once.
    let procs: Vec<(u32, u32, String)> = std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // The command name lies between the first '(' and the last ')'; the state and the
            // parent pid follow.
            let (open, close) = (stat.find('(')?, stat.rfind(')')?);
            let ppid = stat
                .get(close + 1..)?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some((pid, ppid, stat.get(open + 1..close)?.to_owned()))
        })
        .collect();
    let mut parents = vec![root];
    while let Some(parent) = parents.pop() {
        for (pid, _, comm) in procs.iter().filter(|p| p.1 == parent) {
            if comm == name {
                return Some(*pid);
            }
            parents.push(*pid);
        }
    }
    None
}

/// VmRSS of a process in bytes (0 when unknown).
pub fn rss_of(pid: u32) -> u64 {
    let path = PathBuf::from(format!("/proc/{pid}/status"));
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// CPU time (user + system) of a process so far.
pub fn cpu_time_of(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime is field 14, stime 15 (1-based, counting pid and comm); here index 11 and 12.
    let total = ticks(11) + ticks(12);
    let hz = 100u64; // USER_HZ on Linux
    Duration::from_millis(total * 1000 / hz)
}
