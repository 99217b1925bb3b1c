//! Issue #18: runs are keyed on the inputs the metrics read, not on every pickle byte. An edit
//! that no metric reads reruns nothing and says so; an edit to a read value recomputes that
//! run only; a pickle made unreadable after a good run is refused, naming the run.

use std::path::Path;
use std::process::Output;

use serde_json::Value as Json;

use crate::extract::{extract_details, logical_digest};
use crate::support::{mlrepro, repo_root, ProjectConfig};

/// A project over a copy of the fixture store, with `max_failed_runs` as given.
fn project(max_failed_runs: usize) -> tempfile::TempDir {
    ProjectConfig::fixture_store_copy()
        .max_failed_runs(max_failed_runs)
        .write()
}

fn run(dir: &Path, args: &[&str]) -> Output {
    let mut full = vec!["-c", "config.yaml", "--no-progress"];
    full.extend_from_slice(args);
    mlrepro(dir).args(&full).output().unwrap()
}

fn ok(o: Output) -> Output {
    assert!(
        o.status.success(),
        "failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// The pickle of the fixture run `key` in the project, with its run id.
fn pickle_of(dir: &Path, key: &str) -> (std::path::PathBuf, String) {
    let run = crate::golden::manifest_runs("filestore")
        .into_iter()
        .find(|r| r.key == key)
        .unwrap();
    let rel = run.pickle.unwrap();
    let rel = rel
        .strip_prefix(repo_root().join("tests/fixtures/filestore"))
        .unwrap()
        .to_path_buf();
    // mlruns/<experiment>/<run id>/artifacts/…
    let run_id = rel.components().nth(2).unwrap().as_os_str();
    (dir.join(&rel), run_id.to_string_lossy().into_owned())
}

/// The byte offset of the first element (in memory order) of the float array at `path` in
/// the pickle `bytes` whose value passes `pick`, found by decoding (the decoder borrows array
/// payloads from its input).
fn element_offset(bytes: &[u8], path: &str, pick: impl Fn(f64) -> bool) -> usize {
    let root = numpickle::decode(bytes).unwrap();
    let array = root.at(path).unwrap().as_array().unwrap();
    let numpickle::ArrayData::Raw(raw) = array.data() else {
        panic!("{path} is not a raw array")
    };
    let std::borrow::Cow::Borrowed(raw) = raw else {
        panic!("{path} is not borrowed from the pickle")
    };
    let start = raw.as_ptr() as usize - bytes.as_ptr() as usize;
    let size = array.dtype().itemsize();
    let index = raw
        .chunks_exact(size)
        .position(|e| match size {
            8 => pick(f64::from_le_bytes(e.try_into().unwrap())),
            4 => pick(f64::from(f32::from_le_bytes(e.try_into().unwrap()))),
            _ => panic!("{path}: itemsize {size}"),
        })
        .unwrap();
    start + index * size
}

/// Flips the lowest bit of the byte at `at` (the lowest mantissa bit of a little-endian
/// float), rewriting the file in place.
fn flip(pickle: &Path, at: usize) {
    let mut bytes = std::fs::read(pickle).unwrap();
    bytes[at] ^= 1;
    std::fs::write(pickle, &bytes).unwrap();
}

#[test]
fn an_edit_that_no_metric_reads_reruns_nothing_and_says_so() {
    let p = project(10);
    let first = extract_details(&ok(run(p.path(), &["extract", "--json"])).stdout);
    let db = p.path().join("public/results.duckdb");
    let digest = logical_digest(&db);
    let (pickle, run_id) = pickle_of(p.path(), "good_p4_f8");
    let bytes = std::fs::read(&pickle).unwrap();
    let at = element_offset(
        &bytes,
        "metrics_iter.train.metrics.arrays.AUROC.tpr",
        |_| true,
    );
    flip(&pickle, at);
    assert_ne!(
        std::fs::read(&pickle).unwrap(),
        bytes,
        "the content changed"
    );

    let status = String::from_utf8(ok(run(p.path(), &["status"])).stdout).unwrap();
    assert!(status.contains("Fresh extract"), "{status}");
    assert!(
        status.contains(&format!("run `{run_id}`")) && status.contains("inputs unchanged"),
        "{status}"
    );

    // `status` recorded what it decoded: the extraction finds the pickle known. Flipped back,
    // the pickle has changed on disk again, and the extraction itself says so.
    let fresh = ok(run(p.path(), &["extract", "--json"]));
    let report: Json = serde_json::from_slice(&fresh.stdout).unwrap();
    assert_eq!(report["steps"][0]["status"], "cached", "{report}");
    flip(&pickle, at);
    let again = ok(run(p.path(), &["extract", "--json"]));
    let report: Json = serde_json::from_slice(&again.stdout).unwrap();
    let step = &report["steps"][0];
    assert_eq!(step["status"], "cached", "{report}");
    assert!(
        step["summary"].as_str().is_some_and(
            |s| s.contains(&format!("run `{run_id}`")) && s.contains("inputs unchanged")
        ),
        "{report}"
    );
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("inputs unchanged"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(logical_digest(&db), digest);

    // Forced, the extraction takes every run from the per-run cache.
    let forced = extract_details(&ok(run(p.path(), &["extract", "--force", "--json"])).stdout);
    assert_eq!(forced["runs_parsed"], 0, "{forced}");
    assert_eq!(forced["runs_from_cache"], first["included"], "{forced}");
    assert_eq!(forced["logical_digest"], first["logical_digest"]);
}

#[test]
fn an_edit_no_metric_reads_while_another_run_changes_is_decoded_but_not_recomputed() {
    let p = project(10);
    let first = extract_details(&ok(run(p.path(), &["extract", "--json"])).stdout);
    let (pickle, _) = pickle_of(p.path(), "good_p4_f8");
    // An edit in the val split, with the stat cache and the step record gone: every pickle is
    // decoded by the extraction itself, and every run's inputs are found in the per-run cache.
    let bytes = std::fs::read(&pickle).unwrap();
    flip(
        &pickle,
        element_offset(&bytes, "metrics_iter.val.metrics.arrays.AUROC.fpr", |_| {
            true
        }),
    );
    std::fs::remove_file(p.path().join("cache/stat-v3.json")).unwrap();
    std::fs::remove_dir_all(p.path().join("cache/steps-v1")).unwrap();
    let again = extract_details(&ok(run(p.path(), &["extract", "--json"])).stdout);
    assert_eq!(again["runs_parsed"], 0, "{again}");
    assert_eq!(again["runs_decoded"], first["included"], "{again}");
    assert_eq!(again["runs_from_cache"], first["included"], "{again}");
    assert_eq!(again["runs_inputs_unchanged"], first["included"], "{again}");
    assert_eq!(again["logical_digest"], first["logical_digest"]);
}

#[test]
fn an_edit_to_a_read_value_recomputes_that_run_only() {
    let p = project(10);
    let first = extract_details(&ok(run(p.path(), &["extract", "--json"])).stdout);
    let (pickle, run_id) = pickle_of(p.path(), "good_p4_f8");
    let bytes = std::fs::read(&pickle).unwrap();
    let at = element_offset(
        &bytes,
        "metrics_iter.test.preds.arrays.predictions.y_pred_proba",
        |v| v > 0.01 && v < 0.99,
    );
    flip(&pickle, at);
    let status = String::from_utf8(ok(run(p.path(), &["status"])).stdout).unwrap();
    assert!(
        status.contains("Stale extract")
            && status.contains(&format!("input `run {run_id}` changed")),
        "{status}"
    );
    let again = extract_details(&ok(run(p.path(), &["extract", "--json"])).stdout);
    assert_eq!(again["runs_parsed"], 1, "{again}");
    assert_eq!(again["runs_decoded"], 1, "{again}");
    assert_eq!(
        again["runs_from_cache"].as_u64().unwrap() + 1,
        first["included"].as_u64().unwrap(),
        "{again}"
    );
    // Restored, the run's inputs are the first ones again: nothing is recomputed.
    std::fs::write(&pickle, &bytes).unwrap();
    let restored = extract_details(&ok(run(p.path(), &["extract", "--json"])).stdout);
    assert_eq!(restored["runs_parsed"], 0, "{restored}");
    assert_eq!(restored["logical_digest"], first["logical_digest"]);
}

#[test]
fn a_pickle_truncated_or_made_hostile_after_a_good_run_is_refused_naming_the_run() {
    let hostile: &[u8] = b"\x80\x02cposix\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.";
    for (what, damage) in [("truncated", None), ("hostile", Some(hostile))] {
        let p = project(10);
        // The fixture store holds runs that fail on purpose: allow exactly those.
        let good = extract_details(&ok(run(p.path(), &["extract", "--json"])).stdout);
        let failed = good["failed"].as_u64().unwrap();
        let (allowed, one_more) = (failed.to_string(), (failed + 1).to_string());
        let db = p.path().join("public/results.duckdb");
        let digest = logical_digest(&db);
        let (pickle, run_id) = pickle_of(p.path(), "good_p4_f8");
        let bytes = std::fs::read(&pickle).unwrap();
        match damage {
            None => std::fs::write(&pickle, &bytes[..bytes.len() / 2]).unwrap(),
            Some(payload) => std::fs::write(&pickle, payload).unwrap(),
        }
        let refused = run(p.path(), &["extract", "--max-failed-runs", &allowed]);
        let text = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(1), "{what}: {text}");
        assert!(text.contains(&format!("run {run_id}")), "{what}: {text}");
        assert_eq!(
            logical_digest(&db),
            digest,
            "{what}: the checkpoint is kept"
        );

        // With tolerance the run is listed failed, and the others come from the cache.
        let tolerated = extract_details(
            &ok(run(
                p.path(),
                &["extract", "--max-failed-runs", &one_more, "--json"],
            ))
            .stdout,
        );
        assert_eq!(tolerated["failed"], failed + 1, "{what}: {tolerated}");
        let listed = tolerated["failures"].as_array().unwrap();
        assert!(
            listed.iter().any(|f| f["run_id"] == run_id.as_str()),
            "{what}: {tolerated}"
        );
        assert_eq!(tolerated["runs_parsed"], 0, "{what}: {tolerated}");
    }
}
