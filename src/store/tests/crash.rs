//! Crash safety: a writer killed with SIGKILL mid-stream leaves a store that reopens cleanly with
//! every token whose write had returned.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use super::new_token;
use crate::store::{Store, TokenStore};

/// Environment variable that turns [`child_writes_tokens_until_killed`] into the writer.
const CHILD_DIR_VAR: &str = "PULSE_STORE_CRASH_TEST_DIR";

/// The child half: does nothing in a normal run; spawned by the parent with [`CHILD_DIR_VAR`] set,
/// it writes tokens forever and reports each id on stdout once `put_token` has returned.
#[test]
fn child_writes_tokens_until_killed() {
    let Some(dir) = std::env::var_os(CHILD_DIR_VAR) else {
        return;
    };
    let store = Store::open(std::path::Path::new(&dir)).unwrap();
    let mut out = std::io::stdout().lock();
    for i in 0u64.. {
        let (_, record) = new_token(&format!("t{i}"), i);
        store.put_token(&record).unwrap();
        writeln!(out, "written {}", record.id).unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn sigkill_during_writes_loses_nothing_that_was_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let test_name = format!(
        "{}::child_writes_tokens_until_killed",
        module_path!()
            .split_once("::")
            .map_or(module_path!(), |(_, rest)| rest)
    );
    let mut acknowledged = Vec::new();
    for kill_after in [20, 37, 55] {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                test_name.as_str(),
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DIR_VAR, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = 0;
        for line in lines.by_ref() {
            if let Some(id) = line.unwrap().strip_prefix("written ") {
                acknowledged.push(id.to_owned());
                seen += 1;
                if seen == kill_after {
                    break;
                }
            }
        }
        assert_eq!(seen, kill_after, "the child stopped early");
        child.kill().unwrap();
        for line in lines {
            if let Some(id) = line.unwrap().strip_prefix("written ") {
                acknowledged.push(id.to_owned());
            }
        }
        child.wait().unwrap();
    }

    let store = Store::open(dir.path()).unwrap();
    for id in &acknowledged {
        let record = store
            .get_token(id)
            .unwrap()
            .unwrap_or_else(|| panic!("acknowledged token {id} lost"));
        assert_eq!(store.token_by_hash(&record.hash).unwrap().unwrap().id, *id);
    }
    assert!(store.list_tokens(None).unwrap().len() >= acknowledged.len());
}
