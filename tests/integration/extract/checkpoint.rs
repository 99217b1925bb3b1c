//! What happens to a checkpoint: `verify` accepts a fresh one and refuses a changed one or
//! one without its checksum, unchanged content leaves it alone, too many failed runs keep
//! the previous one, and an unknown experiment or a remote tracking URI is refused.

use serde_json::Value as Json;

use super::{extract_details, extract_fixture, fixture_config};
use crate::golden;
use crate::support::mlrepro;

#[test]
fn verify_accepts_a_fresh_checkpoint_and_refuses_a_changed_one() {
    let x = extract_fixture("filestore", 2);
    mlrepro(x.dir.path())
        .args(["-c", "config.yaml", "verify"])
        .assert()
        .success();
    let db = x.db();
    let mut bytes = std::fs::read(&db).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&db, bytes).unwrap();
    let out = mlrepro(x.dir.path())
        .args(["-c", "config.yaml", "verify"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("checksum"));
}

#[test]
fn verify_refuses_a_checkpoint_without_checksum() {
    let x = extract_fixture("filestore", 2);
    std::fs::remove_file(x.dir.path().join("public/results.duckdb.sha256")).unwrap();
    let out = mlrepro(x.dir.path())
        .args(["-c", "config.yaml", "verify"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(".sha256"));
}

#[test]
fn unchanged_content_leaves_the_checkpoint_file_alone() {
    let x = extract_fixture("filestore", 2);
    let before = std::fs::read(x.db()).unwrap();
    let out = mlrepro(x.dir.path())
        .args(["-c", "config.yaml", "extract", "--json", "--force"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let summary = extract_details(&out.stdout);
    assert_eq!(summary["checkpoint_written"], Json::Bool(false));
    assert_eq!(summary["logical_digest"], x.summary["logical_digest"]);
    assert_eq!(std::fs::read(x.db()).unwrap(), before);
}

#[test]
fn too_many_failed_runs_exit_1_and_keep_the_previous_checkpoint() {
    let x = extract_fixture("filestore", 2);
    let before = std::fs::read(x.db()).unwrap();
    fixture_config(x.dir.path(), "filestore", 0);
    // The limit changes no row, so it reruns nothing by itself; forced, extraction applies it.
    let out = mlrepro(x.dir.path())
        .args(["-c", "config.yaml", "extract", "--force"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for run in golden::manifest_runs("filestore")
        .iter()
        .filter(|r| r.expected == "failed")
    {
        assert!(
            stderr.contains(&run.run_id),
            "the failure list names run {}:\n{stderr}",
            run.run_id
        );
    }
    assert_eq!(
        std::fs::read(x.db()).unwrap(),
        before,
        "the previous checkpoint is untouched"
    );
}

#[test]
fn unknown_experiment_is_a_usage_error_listing_experiments() {
    let dir = tempfile::tempdir().unwrap();
    fixture_config(dir.path(), "filestore", 10);
    let out = mlrepro(dir.path())
        .args(["-c", "config.yaml", "extract", "--experiment", "Nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("PLR_Classification") && stderr.contains("--experiment"),
        "{stderr}"
    );
}

#[test]
fn remote_tracking_uri_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    fixture_config(dir.path(), "filestore", 10);
    let out = mlrepro(dir.path())
        .args([
            "-c",
            "config.yaml",
            "extract",
            "--tracking-uri",
            "http://127.0.0.1:5000",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("remote"));
}
