//! A real SMTP server on loopback for the email tests: `tests/fixtures/smtp_sink.py` on aiosmtpd
//! (PyPI; `.ci/run` installs it). Outside CI a missing aiosmtpd skips the test with a message; in
//! CI (CI=true) it is a failure.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running sink; killed when dropped.
pub struct SmtpSink {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Where it writes received messages (`<n>.eml`).
    pub dir: tempfile::TempDir,
    child: Child,
}

impl SmtpSink {
    /// Starts the sink, or `None` (outside CI) when python3 or aiosmtpd is missing.
    pub fn start() -> Option<SmtpSink> {
        let available = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !available {
            assert!(
                std::env::var("CI").is_err(),
                "aiosmtpd is required in CI (python3 -m pip install aiosmtpd)"
            );
            eprintln!("SKIPPED: python3 with aiosmtpd not available (pip install aiosmtpd)");
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn smtp sink");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("sink prints its port");
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected sink output {line:?}"));
        Some(SmtpSink { port, dir, child })
    }

    /// The messages received so far, in order.
    pub fn messages(&self) -> Vec<String> {
        let mut found: Vec<(u64, String)> = std::fs::read_dir(self.dir.path())
            .expect("read dir")
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let n: u64 = name.strip_suffix(".eml")?.parse().ok()?;
                Some((n, std::fs::read_to_string(e.path()).ok()?))
            })
            .collect();
        found.sort();
        found.into_iter().map(|(_, m)| m).collect()
    }

    /// Waits until at least `n` messages arrived (panics after `limit`).
    pub async fn wait_for(&self, n: usize, limit: Duration) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let found = self.messages();
            if found.len() >= n {
                return found;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {n} emails, got {}",
                found.len()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        // Closing stdin ends it; kill in case it is stuck.
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
