//! The lock: two writers on one checkpoint exclude each other, readers share, and `clean`
//! waits for a pipeline and keeps the lock file.

use std::fs::File;
use std::path::Path;
use std::time::{Duration, Instant};

use super::{stderr, StoreProject};
use crate::support::{mlrepro, mlrepro_process, run_ok, write_file};

/// Waits until `path` has text (a writer records itself once it holds every lock).
fn wait_for_text(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::fs::read_to_string(path).map_or(true, |t| t.is_empty()) {
        assert!(
            Instant::now() < deadline,
            "`{}` never filled",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn two_configs_with_different_cache_dirs_cannot_write_one_checkpoint_at_once() {
    let p = StoreProject::new();
    p.config("a.yaml", "cache-a");
    p.config("b.yaml", "cache-b");
    let mut first = mlrepro_process(p.path())
        .env("MLREPRO_FAULT", "extract:slow-run:500")
        .args(["-c", "a.yaml", "-j", "1", "extract"])
        .spawn()
        .unwrap();
    wait_for_text(&p.path().join("cache-a/lock"));
    let second = mlrepro(p.path())
        .args(["-c", "b.yaml", "extract"])
        .output()
        .unwrap();
    let _ = first.kill();
    first.wait().unwrap();
    let text = stderr(&second);
    assert_eq!(second.status.code(), Some(1), "{text}");
    assert!(
        text.contains("another mlrepro is using the checkpoint `public/results.duckdb`")
            && text.contains(&format!("pid {} (writing)", first.id())),
        "{text}"
    );
}

#[test]
fn verify_refuses_while_a_writer_holds_the_checkpoint_and_waits_with_a_timeout() {
    let p = StoreProject::new();
    run_ok(p.path(), &["-c", "c.yaml", "extract"]);
    let writer = p.hold_checkpoint_lock(false);
    let refused = p.run(&["verify"]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains(&format!("pid {} (writing)", std::process::id())),
        "{}",
        stderr(&refused)
    );
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        drop(writer);
    });
    let waited = p.run(&["--lock-timeout", "20", "verify"]);
    release.join().unwrap();
    assert!(waited.status.success(), "{}", stderr(&waited));
}

#[test]
fn two_verifies_run_at_once_and_keep_a_writer_out() {
    let p = StoreProject::new();
    run_ok(p.path(), &["-c", "c.yaml", "extract"]);
    let _reader = p.hold_checkpoint_lock(true);
    let verified = p.run(&["verify"]);
    assert!(verified.status.success(), "{}", stderr(&verified));
    let status = p.run(&["status"]);
    assert!(status.status.success(), "{}", stderr(&status));
    let writer = p.run(&["extract", "--force"]);
    assert_eq!(writer.status.code(), Some(1), "{}", stderr(&writer));
    assert!(
        stderr(&writer).contains(&format!("pid {} (reading)", std::process::id())),
        "{}",
        stderr(&writer)
    );
}

#[test]
fn clean_is_refused_and_deletes_nothing_while_a_pipeline_holds_the_lock() {
    let p = StoreProject::new();
    run_ok(p.path(), &["-c", "c.yaml", "extract"]);
    let lock = File::options()
        .write(true)
        .open(p.path().join("cache/lock"))
        .unwrap();
    lock.lock().unwrap();
    let refused = p.run(&["clean", "--cache"]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("another mlrepro is running"));
    assert!(p.path().join("cache/steps-v1").exists(), "nothing removed");
}

#[test]
fn the_lock_file_survives_clean_cache() {
    let p = StoreProject::new();
    run_ok(p.path(), &["-c", "c.yaml", "extract"]);
    let mine = write_file(p.path(), "cache-notes.txt", "mine");
    run_ok(p.path(), &["-c", "c.yaml", "clean", "--cache"]);
    let mut left: Vec<String> = std::fs::read_dir(p.path().join("cache"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, [".gitignore", "CACHEDIR.TAG", "lock"]);
    assert!(mine.exists() && p.path().join("public/results.duckdb").exists());
    run_ok(p.path(), &["-c", "c.yaml", "verify"]);
}
