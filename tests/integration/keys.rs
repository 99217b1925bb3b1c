//! Which settings rerun which steps: a setting that changes no output reruns nothing (and
//! `status` says nothing would rerun), and one that does reruns the steps whose output it
//! changes, naming the key, while the others stay cached. That a limit such as
//! `max_failed_runs` still applies when extraction runs is in
//! `extract::checkpoint::too_many_failed_runs_exit_1_and_keep_the_previous_checkpoint`.

use std::path::Path;

use serde_json::Value as Json;

use crate::extract::{extract_fixture, fixture_config};
use crate::support::{repo_root, run_ok, write_file};

/// Replaces `from` by `to` in the project's config file.
fn edit_config(dir: &Path, from: &str, to: &str) {
    let path = dir.join("config.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "no `{from}` in:\n{text}");
    std::fs::write(&path, text.replace(from, to)).unwrap();
}

/// `status --json` in `dir`: each step with the reasons it would rerun (none when fresh).
fn stale_steps(dir: &Path) -> Vec<(String, Vec<String>)> {
    let out = run_ok(dir, &["-c", "config.yaml", "--json", "status"]);
    let steps: Json = serde_json::from_slice(&out.stdout).unwrap();
    steps
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let reasons = s["reasons"].as_array().unwrap();
            assert_eq!(s["up_to_date"], reasons.is_empty(), "{s}");
            let reasons = reasons.iter().map(|r| r.as_str().unwrap().to_string());
            (s["step"].as_str().unwrap().to_string(), reasons.collect())
        })
        .collect()
}

/// Runs `COMMAND --json` in `dir`; returns each step with its status (`ran`, `cached`, …).
fn run_steps(dir: &Path, command: &str) -> Vec<(String, String)> {
    let out = run_ok(dir, &["-c", "config.yaml", "--json", command]);
    let report: Json = serde_json::from_slice(&out.stdout).unwrap();
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let name = s["step"].as_str().unwrap().to_string();
            (name, s["status"].as_str().unwrap().to_string())
        })
        .collect()
}

/// The entry of `step` in `steps`.
fn of<'a, T>(steps: &'a [(String, T)], step: &str) -> &'a T {
    steps
        .iter()
        .find(|(name, _)| name == step)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no step `{step}`"))
}

/// A project on the demo store, which Block 2 analyses in full.
fn demo_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = repo_root();
    write_file(
        dir.path(),
        "config.yaml",
        &format!(
            "store:\n  tracking_uri: '{}'\n  experiment: PLR_Classification\n\
             anonymization:\n  secret_file: '{}'\n\
             subjects:\n  database: '{}'\n  demo_subjects: [H001, G001]\n\
             selection:\n  max_failed_runs: 0\n\
             outputs:\n  db: public/results.duckdb\n  private_dir: private\n  cache_dir: cache\n  \
             figures_dir: figures\n  outputs_dir: outputs\n\
             analysis:\n  top_k: 5\n  png_dpi: 72\n",
            root.join("data/demo/mlruns").display(),
            root.join("data/demo/anonymization_secret").display(),
            root.join("data/demo/subjects.duckdb").display()
        ),
    );
    dir
}

#[test]
fn max_failed_runs_does_not_rerun_an_extraction_with_failed_runs() {
    let x = extract_fixture("filestore", 2);
    assert!(x.summary["failed"].as_u64().unwrap() > 0, "{}", x.summary);
    let dir = x.dir.path();
    fixture_config(dir, "filestore", 0);
    let stale = stale_steps(dir);
    assert!(of(&stale, "extract").is_empty(), "{stale:?}");
    assert_eq!(of(&run_steps(dir, "extract"), "extract"), "cached");
}

#[test]
fn after_reproduce_a_setting_reruns_only_the_steps_whose_output_it_changes() {
    let dir = demo_project();
    let p = dir.path();
    let first = run_steps(p, "reproduce");
    assert!(first.len() > 10, "{first:?}");
    assert!(first.iter().all(|(_, s)| s == "ran"), "{first:?}");

    // `max_failed_runs` changes no row of the checkpoint: nothing would rerun, nothing does.
    edit_config(p, "max_failed_runs: 0", "max_failed_runs: 3");
    let stale = stale_steps(p);
    assert_eq!(stale.len(), first.len());
    assert!(stale.iter().all(|(_, r)| r.is_empty()), "{stale:?}");
    let again = run_steps(p, "reproduce");
    assert_eq!(again.len(), first.len());
    assert!(again.iter().all(|(_, s)| s == "cached"), "{again:?}");

    // `analysis.top_k` changes the figures of the top configurations and the tables, and
    // `status` says so; the checkpoint and the figures of every configuration stay.
    edit_config(p, "top_k: 5", "top_k: 2");
    let rerun = [
        "calibration_curves",
        "decision_curves",
        "probability_distributions",
        "retention_curves",
        "tables",
    ];
    let kept = [
        "extract",
        "verify",
        "factorial_design",
        "heatmap",
        "specification_curve",
        "mean_rank",
    ];
    let stale = stale_steps(p);
    for step in rerun {
        assert_eq!(
            of(&stale, step),
            &["config key `analysis.top_k` changed (5 → 2)"],
            "{step}"
        );
    }
    for step in kept {
        assert!(
            of(&stale, step).is_empty(),
            "{step}: {:?}",
            of(&stale, step)
        );
    }
    let last = run_steps(p, "reproduce");
    for step in rerun {
        assert_eq!(of(&last, step), "ran", "{step}");
    }
    for step in kept {
        assert_eq!(of(&last, step), "cached", "{step}");
    }
    assert!(stale_steps(p).iter().all(|(_, r)| r.is_empty()));
}
