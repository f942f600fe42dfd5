//! The real `pulse` binary as a child process: for kill -9, restart and log tests.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The server binary of this package, built for the tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_pulse");

/// Spawns `cmd` (a `pulse serve` command) with stdout piped, waits for the line naming its
/// address and returns the child and its base URL. Stdout is drained from then on so the child
/// never blocks on a full pipe; stderr is left as the caller set it.
pub fn spawn_serve(mut cmd: Command) -> (Child, String) {
    let mut child = cmd.stdout(Stdio::piped()).spawn().expect("spawn pulse");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let base = loop {
        let line = lines
            .next()
            .expect("server printed its address")
            .expect("line");
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.trim().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, base)
}

/// SIGKILL (what `Child::kill` sends on Unix), then reaps the child.
pub fn kill9(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// `pulse token create --scopes SCOPES` offline on `data_dir`: the raw token.
pub fn create_token(data_dir: &Path, scopes: &str) -> String {
    let out = Command::new(BIN)
        .args([
            "token",
            "create",
            "--name",
            "test",
            "--scopes",
            scopes,
            "--data-dir",
        ])
        .arg(data_dir)
        .output()
        .expect("token create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf8")
        .trim()
        .to_owned()
}
