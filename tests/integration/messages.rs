//! Snapshots of the text a user reads: the main errors, whole (message, causes and hint), and
//! what `reproduce`, `status` and `history` print on the demo project. A change of wording
//! shows in the diff of `tests/integration/snapshots/`; `INSTA_UPDATE=always` rewrites them.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use insta::assert_snapshot;

use crate::support::{mlrepro, redact, repo_root, run_ok, shared_dir, write_file, ProjectConfig};

/// Runs `mlrepro -c config.yaml --no-progress ARGS` in `dir`, requires exit status `code`
/// and returns its stderr, redacted.
fn stderr_of(dir: &Path, code: i32, args: &[&str]) -> String {
    let out = mlrepro(dir)
        .args(["-c", "config.yaml", "--no-progress"])
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    redact(&stderr, dir)
}

#[test]
fn an_unknown_config_key() {
    let dir = tempfile::tempdir().unwrap();
    write_file(
        dir.path(),
        "config.yaml",
        "store:\n  trackng_uri: somewhere\n",
    );
    assert_snapshot!(stderr_of(dir.path(), 2, &["clean"]));
}

#[test]
fn a_config_value_out_of_range() {
    let dir = ProjectConfig::demo().analysis("figure_width_mm: 5").write();
    assert_snapshot!(stderr_of(dir.path(), 2, &["analyze"]));
}

#[test]
fn a_missing_store() {
    let dir = tempfile::tempdir().unwrap();
    ProjectConfig::store(dir.path().join("no-such-store").display())
        .write_in(dir.path(), "config.yaml");
    assert_snapshot!(stderr_of(dir.path(), 2, &["extract"]));
}

/// A project holding a copy of the committed demo checkpoint.
fn project_with_checkpoint() -> (tempfile::TempDir, PathBuf) {
    let dir = ProjectConfig::demo().figures_and_outputs().write();
    let public = dir.path().join("public");
    std::fs::create_dir_all(&public).unwrap();
    for f in ["results.duckdb", "results.duckdb.sha256"] {
        std::fs::copy(repo_root().join("data/public").join(f), public.join(f)).unwrap();
    }
    (dir, public.join("results.duckdb"))
}

#[test]
fn a_damaged_checkpoint() {
    let (dir, db) = project_with_checkpoint();
    let mut bytes = std::fs::read(&db).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&db, &bytes).unwrap();
    assert_snapshot!(stderr_of(dir.path(), 1, &["analyze"]));
}

#[test]
fn a_checkpoint_of_another_schema_version() {
    let (dir, db) = project_with_checkpoint();
    {
        let conn = duckdb::Connection::open(&db).unwrap();
        conn.execute_batch("UPDATE metadata SET value = '999' WHERE key = 'schema_version'")
            .unwrap();
    }
    crate::analyze::rewrite_checksum(&db);
    assert_snapshot!(stderr_of(dir.path(), 1, &["analyze"]));
}

#[test]
fn a_project_locked_by_another_mlrepro() {
    let dir = ProjectConfig::demo()
        .extra("runner:\n  lock_timeout_s: 0\n")
        .write();
    // The message names the holder as the system reports it (this test's process).
    let lock = write_file(dir.path(), "cache/lock", "");
    let held = File::options().read(true).write(true).open(lock).unwrap();
    held.lock().unwrap();
    assert_snapshot!(stderr_of(dir.path(), 1, &["extract"]));
}

/// What `reproduce`, then `status` and `history` print on the demo project: run once for the
/// tests that snapshot them.
struct DemoRun {
    reproduce: String,
    status: String,
    history: String,
}

fn demo_run() -> &'static DemoRun {
    static RUN: OnceLock<DemoRun> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = shared_dir("messages-demo");
        ProjectConfig::demo()
            .subjects()
            .figures_and_outputs()
            .analysis("png_dpi: 72")
            .write_in(&dir, "config.yaml");
        let run = |args: &[&str]| -> Output {
            run_ok(
                &dir,
                &[&["-c", "config.yaml", "--no-progress"], args].concat(),
            )
        };
        let text = |out: &Output| {
            let both = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            redact(&both, &dir)
        };
        DemoRun {
            reproduce: text(&run(&["reproduce"])),
            status: text(&run(&["status"])),
            history: text(&run(&["history"])),
        }
    })
}

#[test]
fn reproduce_on_the_demo_project() {
    assert_snapshot!(demo_run().reproduce);
}

#[test]
fn status_after_reproduce() {
    assert_snapshot!(demo_run().status);
}

#[test]
fn history_after_reproduce() {
    assert_snapshot!(demo_run().history);
}
