//! Block 2 on the demo checkpoint: the shared fixtures (a project extracted and analysed once
//! per run, its sidecars and checkpoint queries) and the test modules that use them.

mod curves;
mod methods;
mod outputs;
mod runs;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use crate::extract::query;
use crate::support::{mlrepro, repo_root, run_ok, shared_dir, ProjectConfig};

/// A project with the demo checkpoint extracted into it.
struct Project {
    root: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

impl Project {
    /// Extracts the demo store into a new temporary project.
    fn extracted() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let p = Self::extracted_in(dir.path().to_path_buf());
        Self {
            _dir: Some(dir),
            ..p
        }
    }

    /// Extracts the demo store into the project directory `root`.
    fn extracted_in(root: PathBuf) -> Self {
        ProjectConfig::demo()
            .subjects()
            .figures_and_outputs()
            .analysis("reference_auroc: 0.9")
            .analysis("png_dpi: 100")
            .extra(
                "methods:\n  outlier:\n    names:\n      pupil-gt: {display: 'Ground truth & raw_50%', abbreviation: GT}\n    \
                 categories: [{equals: pupil-gt, category: Ground Truth}]\n  \
                 imputation:\n    categories: [{equals: pupil-gt, category: Ground Truth}]\n",
            )
            .write_in(&root, "config.yaml");
        run_ok(&root, &["-c", "config.yaml", "extract"]);
        Self { root, _dir: None }
    }

    /// The demo checkpoint extracted and analysed once for the whole test run, shared by the
    /// tests that only read what the analysis wrote; returned with its logical digest.
    fn analyzed() -> (&'static Self, &'static str) {
        static ANALYZED: OnceLock<(Project, String)> = OnceLock::new();
        let (p, digest) = ANALYZED.get_or_init(|| {
            let p = Self::extracted_in(shared_dir("analyze-demo"));
            let out = p.analyze();
            assert!(
                out.status.success(),
                "analyze failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let digest = crate::extract::logical_digest(&p.db());
            (p, digest)
        });
        (p, digest)
    }

    fn dir(&self) -> &Path {
        &self.root
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir().join(rel)
    }

    fn db(&self) -> PathBuf {
        self.path("public/results.duckdb")
    }

    fn analyze(&self) -> std::process::Output {
        mlrepro(self.dir())
            .args(["-c", "config.yaml", "analyze"])
            .output()
            .unwrap()
    }

    /// Runs `analyze --json`, requires success and returns its summary.
    fn analyze_json(&self) -> Json {
        let out = run_ok(self.dir(), &["-c", "config.yaml", "--json", "analyze"]);
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn sidecar(&self, name: &str) -> Json {
        let text =
            std::fs::read_to_string(self.path(&format!("figures/data/{name}.json"))).unwrap();
        serde_json::from_str(&text).unwrap()
    }
}

fn f(v: &Json) -> Option<f64> {
    v.as_f64()
}

fn close(what: &str, got: Option<f64>, want: Option<f64>, tol: f64) {
    match (got, want) {
        (Some(g), Some(w)) => assert!((g - w).abs() <= tol, "{what}: got {g}, want {w}"),
        (g, w) => assert_eq!(g, w, "{what}"),
    }
}

fn scalar(db: &Path, sql: &str) -> Option<f64> {
    match &query(db, sql)[0][0] {
        duckdb::types::Value::Double(x) => Some(*x),
        duckdb::types::Value::BigInt(x) => Some(*x as f64),
        duckdb::types::Value::HugeInt(x) => Some(*x as f64),
        duckdb::types::Value::Int(x) => Some(f64::from(*x)),
        duckdb::types::Value::Null => None,
        other => panic!("unexpected value {other:?} for {sql}"),
    }
}

fn text(db: &Path, sql: &str) -> Vec<String> {
    query(db, sql)
        .into_iter()
        .map(|r| match &r[0] {
            duckdb::types::Value::Text(s) => s.clone(),
            other => panic!("unexpected value {other:?}"),
        })
        .collect()
}

/// A project of its own, extracted and analysed once, for a test that analyses it again.
fn analyzed_project() -> Project {
    let p = Project::extracted();
    let out = p.analyze();
    assert!(
        out.status.success(),
        "analyze failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    p
}

fn report_json(p: &Project) -> Json {
    serde_json::from_str(&std::fs::read_to_string(p.path("outputs/analysis_report.json")).unwrap())
        .unwrap()
}

/// The R golden values of the demo checkpoint (`scripts/fixtures/emmeans.sh`): one row per
/// level (`emm`) or factor (`f_test`).
fn r_golden() -> Vec<Vec<String>> {
    std::fs::read_to_string(repo_root().join("tests/fixtures/golden/emm/demo_expected.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            l.split(',')
                .map(|c| c.trim_matches('"').to_string())
                .collect()
        })
        .collect()
}

/// Rewrites the `.sha256` beside `db` to match its content, as for a checkpoint changed on
/// purpose.
pub fn rewrite_checksum(db: &Path) {
    let digest = Sha256::digest(std::fs::read(db).unwrap());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let name = db.file_name().unwrap().to_string_lossy();
    std::fs::write(
        db.with_extension("duckdb.sha256"),
        format!("{hex}  {name}\n"),
    )
    .unwrap();
}
