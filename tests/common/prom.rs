//! The real Prometheus tools from Debian's `prometheus` package, which `.ci/run` installs.
//! Outside CI a missing tool skips the check with a message; in CI (CI=true) it is a failure.

use std::io::Write;
use std::process::{Command, Stdio};

/// Whether the command `name` (from the `prometheus` package) can be run here.
pub fn installed(name: &str) -> bool {
    if Command::new(name).arg("--version").output().is_ok() {
        return true;
    }
    assert!(
        std::env::var("CI").is_err(),
        "{name} is required in CI (Debian package `prometheus`)"
    );
    eprintln!("SKIPPED: {name} not installed (apt-get install prometheus)");
    false
}

/// Asserts that `text` passes `promtool check metrics` (skipped where promtool is missing).
pub fn assert_promtool_accepts(text: &str) {
    if !installed("promtool") {
        return;
    }
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn promtool");
    child
        .stdin
        .take()
        .expect("promtool stdin")
        .write_all(text.as_bytes())
        .expect("write to promtool");
    let out = child.wait_with_output().expect("promtool output");
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}\n--- metrics ---\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
