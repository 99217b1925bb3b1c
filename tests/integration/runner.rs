//! The step engine: cache hits and misses with their explanations, retries, timeouts,
//! interruption by `kill -9`, per-run incremental extraction, the lock and the ledger.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value as Json;

use crate::extract::extract_details;
use crate::support::{mlrepro, mlrepro_process, repo_root, ProjectConfig};

/// A project directory with its own copy of the fixture file store.
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

    fn run(&self, args: &[&str]) -> Output {
        let mut full = vec!["-c", "config.yaml"];
        full.extend_from_slice(args);
        mlrepro(self.path()).args(&full).output().unwrap()
    }

    fn run_with_fault(&self, fault: &str, args: &[&str]) -> Output {
        let mut full = vec!["-c", "config.yaml"];
        full.extend_from_slice(args);
        mlrepro(self.path())
            .env("MLREPRO_FAULT", fault)
            .args(&full)
            .output()
            .unwrap()
    }

    fn status(&self) -> String {
        let out = self.run(&["status"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn pickle_of(&self, run_key: &str) -> PathBuf {
        let run = crate::golden::manifest_runs("filestore")
            .into_iter()
            .find(|r| r.key == run_key)
            .unwrap();
        let rel = run.pickle.unwrap();
        let rel = rel
            .strip_prefix(repo_root().join("tests/fixtures/filestore"))
            .unwrap()
            .to_path_buf();
        self.path().join(rel)
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "failed:\n{}", stderr(&o));
    o
}

#[test]
fn second_run_is_a_no_op_that_says_so() {
    let p = Project::new("");
    ok(p.run(&["extract"]));
    let again = ok(p.run(&["extract"]));
    let text = stderr(&again);
    assert!(
        text.contains("Fresh") && text.contains("nothing to do"),
        "{text}"
    );
    assert!(p.status().contains("Fresh extract"));
}

/// A project whose checkpoint is extracted, so `status` starts from `Fresh extract`.
fn extracted() -> Project {
    let p = Project::new("");
    ok(p.run(&["extract"]));
    p
}

/// Flips one bit in the middle of `path`; returns its content before.
fn flip_a_bit(path: &Path) -> Vec<u8> {
    let original = std::fs::read(path).unwrap();
    let mut changed = original.clone();
    let at = changed.len() / 2;
    changed[at] ^= 1;
    std::fs::write(path, &changed).unwrap();
    original
}

#[test]
fn touching_a_pickle_without_changing_it_keeps_extract_fresh() {
    let p = extracted();
    std::fs::File::options()
        .write(true)
        .open(p.pickle_of("good_p4_f8"))
        .unwrap()
        .set_modified(std::time::SystemTime::now())
        .unwrap();
    assert!(
        p.status().contains("Fresh extract"),
        "a touch must not make the step stale"
    );
}

#[test]
fn a_changed_pickle_makes_extract_stale_naming_the_run_input() {
    let p = extracted();
    flip_a_bit(&p.pickle_of("good_p4_f8"));
    let s = p.status();
    assert!(
        s.contains("Stale extract") && s.contains("input `run ") && s.contains("changed"),
        "{s}"
    );
}

#[test]
fn editing_what_no_output_depends_on_keeps_extract_fresh_and_renaming_a_run_does_not() {
    let p = extracted();
    let run = p.pickle_of("good_p4_f8");
    let run = run
        .ancestors()
        .find(|d| d.join("meta.yaml").is_file())
        .unwrap()
        .to_path_buf();
    // A param rewritten, a tag added and a metric logged again: extraction reads none of them.
    let param = std::fs::read_dir(run.join("params"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(&param, "edited after the run").unwrap();
    std::fs::write(run.join("tags/mlflow.note.content"), "a note").unwrap();
    std::fs::create_dir_all(run.join("metrics")).unwrap();
    std::fs::write(run.join("metrics/extra"), "1700000000000 0.5 3\n").unwrap();
    let s = p.status();
    assert!(s.contains("Fresh extract"), "{s}");
    // The run name is what the factors are parsed from: renaming the run is a change.
    let name = run.join("tags/mlflow.runName");
    let text = std::fs::read_to_string(&name).unwrap();
    std::fs::write(&name, format!("{text}x")).unwrap();
    let s = p.status();
    assert!(
        s.contains("Stale extract") && s.contains("input `run "),
        "{s}"
    );
}

#[test]
fn a_pickle_changed_and_restored_leaves_extract_fresh() {
    let p = extracted();
    let pickle = p.pickle_of("good_p4_f8");
    let original = flip_a_bit(&pickle);
    // `status` sees the change first, so what it remembers of the file is the changed one.
    p.status();
    std::fs::write(&pickle, &original).unwrap();
    assert!(p.status().contains("Fresh extract"));
}

#[test]
fn a_changed_config_key_makes_extract_stale_naming_the_key() {
    let p = extracted();
    let cfg = std::fs::read_to_string(p.path().join("config.yaml")).unwrap();
    std::fs::write(
        p.path().join("config.yaml"),
        cfg.replace("selection:\n", "selection:\n  featurizations: [PLR]\n"),
    )
    .unwrap();
    let s = p.status();
    assert!(
        s.contains("config key `selection.featurizations` changed (null → [\"PLR\"])"),
        "{s}"
    );
}

#[test]
fn a_missing_output_makes_extract_stale_naming_the_output() {
    let p = extracted();
    std::fs::remove_file(p.path().join("public/results.duckdb.sha256")).unwrap();
    assert!(p
        .status()
        .contains("output `public/results.duckdb.sha256` is missing"));
}

#[test]
fn an_edited_output_makes_extract_stale() {
    let p = extracted();
    std::fs::write(
        p.path().join("public/results.duckdb.sha256"),
        b"0000  results.duckdb\n",
    )
    .unwrap();
    assert!(p.status().contains("was modified after it was written"));
}

#[test]
fn an_output_edited_and_restored_leaves_extract_fresh() {
    let p = extracted();
    let sha = p.path().join("public/results.duckdb.sha256");
    let sha_text = std::fs::read(&sha).unwrap();
    std::fs::write(&sha, b"0000  results.duckdb\n").unwrap();
    // `status` sees the edit first, so what it remembers of the file is the edited one.
    p.status();
    std::fs::write(&sha, &sha_text).unwrap();
    assert!(p.status().contains("Fresh extract"));
}

#[test]
fn status_with_force_says_each_step_is_forced() {
    let p = extracted();
    let out = ok(p.run(&["status", "--force"]));
    assert!(String::from_utf8_lossy(&out.stdout).contains("forced"));
}

#[test]
fn dry_run_changes_nothing() {
    let p = Project::new("");
    let out = ok(p.run(&["extract", "--dry-run"]));
    assert!(
        stderr(&out).contains("Would run extract: no successful run recorded"),
        "{}",
        stderr(&out)
    );
    assert!(!p.path().join("public/results.duckdb").exists());
}

#[test]
fn transient_fault_is_retried_and_recorded_as_flaky() {
    let p = Project::new("runner:\n  backoff_initial_ms: 1\n  backoff_max_ms: 5\n");
    let out = ok(p.run_with_fault("extract:transient:1", &["extract", "--json"]));
    assert!(
        stderr(&out).contains("attempt 1/3 failed with a transient error"),
        "{}",
        stderr(&out)
    );
    let report: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["steps"][0]["status"], "flaky");
    assert_eq!(report["steps"][0]["attempts"], 2);
}

#[test]
fn deterministic_fault_is_not_retried() {
    let p = Project::new("runner:\n  backoff_initial_ms: 1\n");
    let out = p.run_with_fault("extract:fatal", &["extract", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["steps"][0]["status"], "failed");
    assert_eq!(report["steps"][0]["attempts"], 1);
    assert!(
        stderr(&out).contains("step `extract` failed"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn stalled_step_times_out_and_is_recorded() {
    let p = Project::new("runner:\n  step_timeout_s: 1\n  stall_warning_s: 1\n");
    let out = p.run_with_fault("extract:stall", &["extract"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stderr(&out);
    assert!(
        text.contains("timed out") && text.contains("runner.step_timeout_s"),
        "{text}"
    );
    assert!(
        !p.path().join("public/results.duckdb").exists(),
        "nothing is promoted"
    );
    let history = ok(p.run(&["history", "--json"]));
    let runs: Json = serde_json::from_slice(&history.stdout).unwrap();
    assert_eq!(runs[0]["steps"][0]["status"], "timed_out");
}

#[test]
fn stall_warning_names_the_runs_in_flight_memory_and_output_growth() {
    let p = Project::new("runner:\n  step_timeout_s: 2\n  stall_warning_s: 1\n");
    let out = p.run_with_fault("extract:slow-run:1500", &["-j", "2", "extract"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stderr(&out);
    assert!(
        text.contains("made no progress for 1 s") && text.contains("in flight: run "),
        "{text}"
    );
    // Memory, what the process wrote meanwhile and the outputs' size tell stuck from slow.
    for part in ["RSS ", " meanwhile, outputs ", "it stops at 2 s"] {
        assert!(text.contains(part), "no `{part}` in: {text}");
    }
}

#[test]
fn killed_extraction_resumes_from_the_run_cache_with_the_same_content() {
    let clean = Project::new("");
    let reference = extract_details(&ok(clean.run(&["extract", "--json"])).stdout);

    let p = Project::new("");
    let mut child = mlrepro_process(p.path())
        .env("MLREPRO_FAULT", "extract:slow-run:400")
        .args(["-c", "config.yaml", "-j", "1", "extract"])
        .spawn()
        .unwrap();
    let cache = p.path().join("cache/runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while count_files(&cache) < 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    let _ = child.wait();
    assert!(
        !p.path().join("public/results.duckdb").exists(),
        "no checkpoint is promoted half-way"
    );
    let history = ok(p.run(&["history", "--json"]));
    let runs: Json = serde_json::from_slice(&history.stdout).unwrap();
    assert_eq!(runs[0]["status"], "incomplete");

    let resumed = extract_details(&ok(p.run(&["extract", "--json"])).stdout);
    assert_eq!(resumed["logical_digest"], reference["logical_digest"]);
    let from_cache = resumed["runs_from_cache"].as_u64().unwrap();
    assert!(from_cache >= 3, "{resumed}");
    assert_eq!(
        from_cache + resumed["runs_parsed"].as_u64().unwrap(),
        reference["included"].as_u64().unwrap()
    );
}

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| match e.path() {
                    p if p.is_dir() => count_files(&p),
                    p if p.extension().is_some_and(|x| x == "bin") => 1,
                    _ => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn adding_a_run_reparses_only_that_run_and_removing_one_drops_its_rows() {
    let p = Project::new("");
    let pickle = p.pickle_of("good_p2_f4");
    let run_dir = pickle.ancestors().nth(3).unwrap().to_path_buf();
    let parked = p.path().join("parked");
    std::fs::rename(&run_dir, &parked).unwrap();
    let without = extract_details(&ok(p.run(&["extract", "--json"])).stdout);
    std::fs::rename(&parked, &run_dir).unwrap();
    let with = extract_details(&ok(p.run(&["extract", "--json"])).stdout);
    assert_eq!(with["runs_parsed"], 1, "{with}");
    assert_eq!(
        with["included"].as_u64().unwrap(),
        without["included"].as_u64().unwrap() + 1
    );
    std::fs::rename(&run_dir, &parked).unwrap();
    let again = extract_details(&ok(p.run(&["extract", "--json"])).stdout);
    assert_eq!(again["runs_parsed"], 0);
    assert_eq!(again["logical_digest"], without["logical_digest"]);
}

#[test]
fn a_second_invocation_fails_while_the_lock_is_held() {
    let p = Project::new("");
    let mut first = mlrepro_process(p.path())
        .env("MLREPRO_FAULT", "extract:slow-run:300")
        .args(["-c", "config.yaml", "-j", "1", "extract"])
        .spawn()
        .unwrap();
    let lock = p.path().join("cache/lock");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::fs::read_to_string(&lock)
        .map(|t| t.is_empty())
        .unwrap_or(true)
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let second = p.run(&["extract"]);
    assert_eq!(second.status.code(), Some(1));
    assert!(
        stderr(&second).contains("another mlrepro is running"),
        "{}",
        stderr(&second)
    );
    assert!(first.wait().unwrap().success());
    ok(p.run(&["verify"]));
}

#[test]
fn history_and_logs_show_a_run() {
    let p = Project::new("");
    ok(p.run(&["extract"]));
    let list = String::from_utf8(ok(p.run(&["history"])).stdout).unwrap();
    let id = list
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let show = String::from_utf8(ok(p.run(&["history", "show", &id])).stdout).unwrap();
    assert!(
        show.contains("extract") && show.contains("because no successful run recorded"),
        "{show}"
    );
    let log = String::from_utf8(ok(p.run(&["logs", &id])).stdout).unwrap();
    assert!(
        log.contains("extract: rerun because no successful run recorded"),
        "{log}"
    );
    assert_eq!(p.run(&["logs", "nope"]).status.code(), Some(2));
}

#[test]
fn clean_cache_forces_a_full_extraction() {
    let p = Project::new("");
    ok(p.run(&["extract"]));
    ok(p.run(&["clean", "--cache"]));
    let again = extract_details(&ok(p.run(&["extract", "--json"])).stdout);
    assert_eq!(again["runs_from_cache"], 0);
    assert_eq!(
        again["checkpoint_written"], false,
        "same content: the checkpoint is kept"
    );
}
