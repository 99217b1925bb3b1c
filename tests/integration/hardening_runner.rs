//! Issue 15, items 5 (runner part), 7 and 8: errors keep their kind across the step
//! boundary, nothing in a store can make the runner wait for ever, and a step that does not
//! stop at its timeout cannot write once the lock is released.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use crate::extract::{extract_details, query};
use crate::support::{mlrepro_process, repo_root, ProjectConfig};

/// A project with its own copy of the fixture file store.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(extra_config: &str) -> Self {
        let dir = ProjectConfig::fixture_store_copy()
            .max_failed_runs(10)
            .extra(extra_config)
            .write();
        Project { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `mlrepro -c config.yaml ARGS` with `MLREPRO_FAULT=fault` (when given); a run
    /// that has not ended after `limit` is killed and fails the test.
    fn run_within(&self, limit: Duration, fault: Option<&str>, args: &[&str]) -> Output {
        let mut cmd = mlrepro_process(self.path());
        cmd.args(["-c", "config.yaml"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(fault) = fault {
            cmd.env("MLREPRO_FAULT", fault);
        }
        let mut child = cmd.spawn().unwrap();
        let started = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > limit {
                child.kill().unwrap();
                let out = child.wait_with_output().unwrap();
                panic!(
                    "`mlrepro {}` still ran after {limit:?}:\n{}",
                    args.join(" "),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.wait_with_output().unwrap()
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_within(Duration::from_secs(120), None, args)
    }

    /// The experiment's directory in the store copy.
    fn experiment_dir(&self) -> PathBuf {
        self.run_dir("good_p4_f8").parent().unwrap().to_path_buf()
    }

    /// The directory of the fixture run named `key` in the manifest, in the store copy.
    fn run_dir(&self, key: &str) -> PathBuf {
        let pickle = self.pickle_of(key);
        pickle
            .ancestors()
            .find(|dir| dir.join("meta.yaml").is_file())
            .unwrap()
            .to_path_buf()
    }

    /// The metrics pickle of the fixture run named `key`, in the store copy.
    fn pickle_of(&self, key: &str) -> PathBuf {
        let run = crate::golden::manifest_runs("filestore")
            .into_iter()
            .find(|r| r.key == key)
            .unwrap();
        let fixture = repo_root().join("tests/fixtures/filestore");
        self.path()
            .join(run.pickle.unwrap().strip_prefix(&fixture).unwrap())
    }

    /// `(status, reason)` of `run_id` in the checkpoint's `extraction_runs`.
    fn extraction_row(&self, run_id: &str) -> (String, String) {
        let rows = query(
            &self.path().join("public/results.duckdb"),
            &format!("SELECT status, reason FROM extraction_runs WHERE run_id = '{run_id}'"),
        );
        assert_eq!(rows.len(), 1, "one row for `{run_id}`");
        let text = |v: &duckdb::types::Value| match v {
            duckdb::types::Value::Text(s) => s.clone(),
            other => panic!("{other:?} is not text"),
        };
        (text(&rows[0][0]), text(&rows[0][1]))
    }
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "failed:\n{}", stderr(&o));
    o
}

fn run_id_of(run_dir: &Path) -> String {
    run_dir.file_name().unwrap().to_string_lossy().into_owned()
}

/// The ledger's steps of the latest pipeline run.
fn last_run_steps(p: &Project) -> Json {
    let history = ok(p.run(&["history", "--json"]));
    let runs: Json = serde_json::from_slice(&history.stdout).unwrap();
    runs[0]["steps"].clone()
}

#[test]
fn a_usage_error_inside_extract_exits_2_with_one_hint() {
    let p = Project::new("");
    // The experiment is checked by the extract step itself (under its timeout), so the
    // usage error comes back across the step boundary.
    let out = p.run(&["extract", "--experiment", "Nope", "--json"]);
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert_eq!(text.matches("hint:").count(), 1, "{text}");
    assert!(
        text.contains("step `extract` failed: no experiment named or numbered `Nope`"),
        "{text}"
    );
    assert!(
        text.contains("hint: the store has:") && text.contains("PLR_Classification"),
        "{text}"
    );
    let report: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["steps"][0]["error_kind"], "usage");

    let status = p.run(&["status", "--experiment", "Nope"]);
    let text = stderr(&status);
    assert_eq!(status.status.code(), Some(2), "{text}");
    assert_eq!(text.matches("hint:").count(), 1, "{text}");
}

#[test]
fn an_io_timeout_inside_extraction_is_retried() {
    let p = Project::new("runner:\n  backoff_initial_ms: 1\n  backoff_max_ms: 5\n");
    // The first listing of the store's runs fails with a timed-out read.
    let out = ok(p.run_within(
        Duration::from_secs(120),
        Some("extract:io-timeout:1"),
        &["extract", "--json"],
    ));
    let text = stderr(&out);
    assert!(
        text.contains("attempt 1/3 failed with a transient error")
            && text.contains("read timed out"),
        "{text}"
    );
    let report: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["steps"][0]["status"], "flaky", "{report}");
    assert_eq!(report["steps"][0]["attempts"], 2);
    assert_eq!(last_run_steps(&p)[0]["status"], "flaky");

    // A timeout that does not go away fails after the policy's attempts, as a failure.
    let q = Project::new("runner:\n  backoff_initial_ms: 1\n  backoff_max_ms: 5\n");
    let out = q.run_within(
        Duration::from_secs(120),
        Some("extract:io-timeout:9"),
        &["extract", "--json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["steps"][0]["attempts"], 3);
}

#[test]
fn a_fifo_in_a_run_dir_does_not_hang_extract_or_status() {
    let p = Project::new("");
    let in_params = p.run_dir("good_p4_f8");
    mkfifo(&in_params.join("params/waiting"));
    // A pickle replaced by a FIFO: hashing or decoding it would wait for a writer for ever.
    let pickled = p.run_dir("good_p2_f4");
    let pickle = p.pickle_of("good_p2_f4");
    std::fs::remove_file(&pickle).unwrap();
    mkfifo(&pickle);

    let limit = Duration::from_secs(60);
    let status = ok(p.run_within(limit, None, &["status"]));
    assert!(String::from_utf8_lossy(&status.stdout).contains("Stale extract"));
    let details = extract_details(&ok(p.run_within(limit, None, &["extract", "--json"])).stdout);
    assert!(details["excluded"].as_u64().unwrap() >= 1, "{details}");

    let (state, reason) = p.extraction_row(&run_id_of(&in_params));
    assert_eq!(state, "excluded");
    assert!(reason.contains("`params/waiting` is a FIFO"), "{reason}");
    let (state, reason) = p.extraction_row(&run_id_of(&pickled));
    assert_eq!(state, "failed", "{reason}");
    assert!(!reason.starts_with('/'), "no absolute path: {reason}");
}

#[test]
fn a_half_written_meta_yaml_excludes_one_run() {
    let p = Project::new("");
    let reference = extract_details(&ok(p.run(&["extract", "--json"])).stdout);
    // A run that no other run of its configuration can stand in for.
    let run = p.run_dir("good_p2_f4");
    let meta = run.join("meta.yaml");
    let text = std::fs::read_to_string(&meta).unwrap();
    for written in ["", &text[..text.len() / 2]] {
        std::fs::write(&meta, written).unwrap();
        // The second state reads as the first: the step may then be up to date.
        ok(p.run(&["extract"]));
        let included = query(
            &p.path().join("public/results.duckdb"),
            "SELECT count(*) FROM extraction_runs WHERE status = 'included'",
        );
        assert_eq!(
            format!("{:?}", included[0][0]),
            format!("BigInt({})", reference["included"].as_u64().unwrap() - 1)
        );
        let (state, reason) = p.extraction_row(&run_id_of(&run));
        assert_eq!(state, "excluded");
        assert!(
            reason.contains("`meta.yaml` is empty or half-written"),
            "{reason}"
        );
    }
    // Once MLflow has finished writing it, the run is back.
    std::fs::write(&meta, &text).unwrap();
    let details = extract_details(&ok(p.run(&["extract", "--json"])).stdout);
    assert_eq!(details["logical_digest"], reference["logical_digest"]);
}

#[test]
fn a_symlink_loop_in_the_store_is_refused() {
    let p = Project::new("");
    let run = p.run_dir("good_p4_f8");
    // A directory link back up the tree: a walk that follows it never ends.
    std::os::unix::fs::symlink(".", run.join("params/again")).unwrap();
    std::os::unix::fs::symlink("..", run.join("tags/up")).unwrap();
    // Two links to each other, where a run directory would be.
    let exp = p.experiment_dir();
    std::os::unix::fs::symlink("loop-b", exp.join("loop-a")).unwrap();
    std::os::unix::fs::symlink("loop-a", exp.join("loop-b")).unwrap();

    let limit = Duration::from_secs(60);
    ok(p.run_within(limit, None, &["status"]));
    ok(p.run_within(limit, None, &["extract"]));
    let (state, reason) = p.extraction_row(&run_id_of(&run));
    assert_eq!(state, "excluded");
    assert!(
        reason.contains("`params/again` leads back to a directory above it"),
        "{reason}"
    );
    let (state, reason) = p.extraction_row("loop-a");
    assert_eq!(state, "excluded");
    assert!(reason.contains("symbolic links"), "{reason}");
}

#[test]
fn status_times_out_computing_a_key() {
    let p = Project::new("runner:\n  step_timeout_s: 1\n");
    let limit = Duration::from_secs(30);
    for args in [&["status"][..], &["extract", "--dry-run"], &["extract"]] {
        let out = p.run_within(limit, Some("extract:stall-key"), args);
        let text = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {text}");
        assert!(
            text.contains("timed out computing the key of step `extract` after 1 s")
                && text.contains("`runner.step_timeout_s`"),
            "{args:?}: {text}"
        );
    }
    assert_eq!(last_run_steps(&p)[0]["status"], "timed_out");
}

#[test]
fn a_step_that_ignores_its_timeout_cannot_write_after_the_lock_is_released() {
    let p = Project::new("runner:\n  step_timeout_s: 1\n  stall_warning_s: 60\n");
    let started = Instant::now();
    // The step keeps working for 6 s whatever it is told, then writes the checkpoint.
    let out = p.run_within(
        Duration::from_secs(30),
        Some("extract:unresponsive:6000"),
        &["extract"],
    );
    let ended = started.elapsed();
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        ended < Duration::from_secs(6),
        "the process exits before the step could write ({ended:?})"
    );
    assert!(
        text.contains("exceeded its timeout of 1 s") && text.contains("did not stop within"),
        "{text}"
    );
    assert_eq!(last_run_steps(&p)[0]["status"], "timed_out");
    std::thread::sleep(Duration::from_secs(7).saturating_sub(started.elapsed()));
    assert!(
        !p.path().join("public/results.duckdb").exists(),
        "nothing the step wrote after its timeout landed"
    );
    // The lock went with the process: the next extraction (with a timeout a loaded machine
    // cannot exceed) takes it and runs.
    let config = p.path().join("config.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("step_timeout_s: 1\n", "step_timeout_s: 600\n"),
    )
    .unwrap();
    ok(p.run(&["extract"]));
}
