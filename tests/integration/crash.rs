//! Extraction killed with SIGKILL at random moments and between the promotions of the
//! checkpoint set, on a store whose content changes between rounds: after every kill a rerun
//! exits 0, `verify` passes and the logical digest is the one an uninterrupted run gives.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::extract::logical_digest;
use crate::golden;
use crate::support::{copy_dir, mlrepro, mlrepro_process, repo_root, ProjectConfig};

/// The promotion points of `db::promote`, in order: before and after the journal, and after
/// each of the four members (Parquet, SCHEMA.md, database, checksum) is renamed.
const PAUSE_POINTS: [&str; 6] = [
    "before-journal",
    "after-journal",
    "after-promotion-1",
    "after-promotion-2",
    "after-promotion-3",
    "after-promotion-4",
];

/// A small deterministic generator (SplitMix64), so the kill moments are the same each run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: Duration) -> Duration {
        let unit = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        bound.mul_f64(unit)
    }
}

/// A fixture file store copied into a temporary directory, with one included run that can
/// be taken out of the experiment and put back.
struct ChangingStore {
    _dir: tempfile::TempDir,
    mlruns: PathBuf,
    run_dir: PathBuf,
    aside: PathBuf,
}

impl ChangingStore {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mlruns = dir.path().join("mlruns");
        copy_dir(
            &repo_root().join("tests/fixtures/filestore/mlruns"),
            &mlruns,
        );
        let manifest = golden::load("manifest.json");
        let experiment = manifest["filestore"]["experiment"]["experiment_id"]
            .as_str()
            .unwrap()
            .to_string();
        let run = manifest["filestore"]["runs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["expected"] == "included")
            .unwrap()["run_id"]
            .as_str()
            .unwrap()
            .to_string();
        let run_dir = mlruns.join(&experiment).join(&run);
        let aside = dir.path().join(&run);
        ChangingStore {
            _dir: dir,
            mlruns,
            run_dir,
            aside,
        }
    }

    /// State `true` holds every run; `false` lacks one included run.
    fn set(&self, full: bool) {
        match (full, self.run_dir.exists()) {
            (true, false) => std::fs::rename(&self.aside, &self.run_dir).unwrap(),
            (false, true) => std::fs::rename(&self.run_dir, &self.aside).unwrap(),
            _ => {}
        }
    }
}

/// A project reading `store` with the fixture's secret, so every project numbers alike.
fn project(store: &ChangingStore) -> tempfile::TempDir {
    ProjectConfig::store(store.mlruns.display())
        .secret(&repo_root().join("tests/fixtures/filestore/anonymization_secret"))
        .max_failed_runs(20)
        .write()
}

/// Runs an extraction in `dir` to the end; returns the logical digest its checkpoint records
/// (read from the database, since a rerun that finds the work done reports no details) and
/// its wall time.
fn extract(dir: &Path) -> (String, Duration) {
    let started = Instant::now();
    let out = mlrepro(dir)
        .args(["-c", "config.yaml", "extract"])
        .output()
        .unwrap();
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "the rerun after a kill failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (logical_digest(&dir.join("public/results.duckdb")), took)
}

/// Starts an extraction and kills it with SIGKILL after `delay`, or once it pauses at
/// `point`; an extraction that finishes first (nothing to promote) is left to finish.
fn extract_and_kill(dir: &Path, delay: Option<Duration>, point: Option<&str>) {
    let mut cmd = mlrepro_process(dir);
    cmd.args(["-c", "config.yaml", "extract"])
        .stderr(Stdio::piped());
    if let Some(point) = point {
        cmd.env("MLREPRO_FAULT", format!("extract:pause-at:{point}"));
    }
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("paused at") {
                let _ = tx.send(());
            }
        }
    });
    let deadline = Instant::now() + delay.unwrap_or(Duration::from_secs(60));
    loop {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        if Instant::now() >= deadline || rx.try_recv().is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(
        delay.is_some() || point.is_none() || Instant::now() < deadline,
        "extraction never reached `{point:?}`"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn extraction_killed_anywhere_recovers_on_the_next_run() {
    let store = ChangingStore::new();
    let mut expected = Vec::new();
    let mut cold = Duration::ZERO;
    for full in [false, true] {
        store.set(full);
        let (digest, took) = extract(project(&store).path());
        expected.push(digest);
        cold = cold.max(took);
    }
    assert_ne!(expected[0], expected[1], "the two store states differ");

    let project = project(&store);
    let mut rng = Rng(0x6d6c_7265_7072_6f15);
    let kills: Vec<(Option<Duration>, Option<&str>)> = (0..10)
        .map(|_| (Some(rng.below(cold)), None))
        .chain(PAUSE_POINTS.iter().map(|p| (None, Some(*p))))
        .collect();
    for (round, (delay, point)) in kills.into_iter().enumerate() {
        let full = round % 2 == 0;
        store.set(full);
        extract_and_kill(project.path(), delay, point);
        let (digest, _) = extract(project.path());
        assert_eq!(
            digest, expected[usize::from(full)],
            "round {round} (kill after {delay:?} / at {point:?}): the rerun's digest is not an uninterrupted run's"
        );
        let verify = mlrepro(project.path())
            .args(["-c", "config.yaml", "verify"])
            .output()
            .unwrap();
        assert!(
            verify.status.success(),
            "round {round} (kill after {delay:?} / at {point:?}): verify fails after the rerun:\n{}",
            String::from_utf8_lossy(&verify.stderr)
        );
        let public = project.path().join("public");
        let leftovers: Vec<String> = std::fs::read_dir(&public)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.') || n.ends_with(".old"))
            .collect();
        assert!(
            leftovers.iter().all(|n| n.ends_with(".lock")),
            "round {round}: temporary files left in `public/`: {leftovers:?}"
        );
    }
}
