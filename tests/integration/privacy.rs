//! Attacks on the privacy promises: pickles cut inside dicts keyed by subject codes, the
//! demo's public settings pointed at another store, and a private secret that cannot be read.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::extract::{as_text, original_codes, query, walk};
use crate::golden;
use crate::support::{copy_dir, mlrepro, repo_root, write_file, ProjectConfig};

/// A copy of a fixture store in its own directory (outside the project, which is scanned).
struct StoreCopy {
    _dir: tempfile::TempDir,
    uri: String,
    root: PathBuf,
}

/// Copies `tests/fixtures/<backend>`; an SQLite copy's runs are pointed at the copy's
/// artifacts (their recorded `artifact_uri` is made to not exist, so the store's own
/// directory is searched).
fn copy_store(backend: &str) -> StoreCopy {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join(backend);
    copy_dir(&repo_root().join("tests/fixtures").join(backend), &root);
    let uri = match backend {
        "filestore" => root.join("mlruns").display().to_string(),
        _ => {
            let db = root.join("mlflow.db");
            let conn = rusqlite::Connection::open(&db).unwrap();
            conn.execute(
                "UPDATE runs SET artifact_uri = '/nonexistent-mlrepro-store/artifacts/' || experiment_id || '/' || run_uuid || '/artifacts'",
                [],
            )
            .unwrap();
            format!("sqlite:///{}", db.display())
        }
    };
    StoreCopy {
        _dir: dir,
        uri,
        root,
    }
}

/// Included runs of PLR_Classification in `backend` written by numpy `major`.
fn runs_of_major(backend: &str, major: u64) -> Vec<(String, String)> {
    let manifest = golden::load("manifest.json");
    manifest[backend]["runs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["expected"] == "included" && r["numpy_major"] == major)
        .map(|r| {
            let pickle = r["pickle_relpath"].as_str().unwrap();
            let relative = pickle
                .split_once(&format!("tests/fixtures/{backend}/"))
                .unwrap()
                .1;
            (
                r["run_id"].as_str().unwrap().to_string(),
                relative.to_string(),
            )
        })
        .collect()
}

/// Every `PLR` code that stands as a token in `bytes`.
fn codes_in(bytes: &[u8]) -> BTreeSet<String> {
    let text = String::from_utf8_lossy(bytes);
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| {
            t.len() > 3 && t.starts_with("PLR") && t[3..].chars().all(|c| c.is_ascii_digit())
        })
        .map(str::to_string)
        .collect()
}

/// Cuts `pickle` one byte after an occurrence of a subject code: the first one (`first`) or
/// the last one. Both lie in dicts keyed by original codes (the train/val `preds_dict`) or
/// in the codes of the test subjects.
fn cut_after_a_code(pickle: &Path, codes: &BTreeSet<String>, first: bool) {
    let bytes = std::fs::read(pickle).unwrap();
    let mut hits: Vec<usize> = codes
        .iter()
        .flat_map(|c| {
            let c = c.as_bytes();
            bytes
                .windows(c.len())
                .enumerate()
                .filter(move |(_, w)| *w == c)
                .map(move |(i, _)| i + c.len())
        })
        .collect();
    hits.sort_unstable();
    let at = if first {
        hits[0]
    } else {
        *hits.last().unwrap()
    };
    std::fs::write(pickle, &bytes[..at + 1]).unwrap();
}

fn scan(what: &str, bytes: &[u8], codes: &BTreeSet<String>) {
    for code in codes {
        assert!(
            !bytes.windows(code.len()).any(|w| w == code.as_bytes()),
            "original code `{code}` appears in {what}"
        );
    }
}

/// Extracts from a store whose pickles were cut inside code-keyed dicts, then looks for any
/// original code in stdout, stderr, `--json`, every file of the project outside the private
/// directory (checkpoint, Parquet, cache, ledger, logs) and every DuckDB cell.
fn cut_pickles_leak_no_code(backend: &str) {
    let store = copy_store(backend);
    let mut codes: BTreeSet<String> = original_codes().into_iter().collect();
    for b in ["filestore", "sqlite"] {
        let anon = golden::load(&format!("anonymization/{b}.json"));
        codes.extend(anon["mapping"].as_object().unwrap().keys().cloned());
    }
    let mut cut_runs = Vec::new();
    for major in [1, 2] {
        let runs = runs_of_major(backend, major);
        assert!(!runs.is_empty(), "no numpy {major} run in {backend}");
        for (i, (run_id, relative)) in runs.iter().take(2).enumerate() {
            let pickle = store.root.join(relative);
            let found = codes_in(&std::fs::read(&pickle).unwrap());
            assert!(!found.is_empty(), "no subject code in {}", pickle.display());
            codes.extend(found.iter().cloned());
            cut_after_a_code(&pickle, &found, i == 0);
            cut_runs.push(run_id.clone());
        }
    }
    for max_failed in [0, 20] {
        let project = ProjectConfig::store(&store.uri)
            .max_failed_runs(max_failed)
            .figures_and_outputs()
            .write();
        let out = mlrepro(project.path())
            .args(["-c", "config.yaml", "extract", "--json"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if max_failed == 0 {
            assert_eq!(out.status.code(), Some(1), "{stderr}");
        } else {
            assert!(out.status.success(), "{stderr}");
        }
        for run in &cut_runs {
            assert!(
                stderr.contains(run.as_str()),
                "the failure of run {run} is reported:\n{stderr}"
            );
        }
        scan("stdout (--json)", &out.stdout, &codes);
        scan("stderr", &out.stderr, &codes);
        let private = project.path().join("private");
        for file in walk(project.path()) {
            if !file.starts_with(&private) {
                scan(
                    &file.display().to_string(),
                    &std::fs::read(&file).unwrap(),
                    &codes,
                );
            }
        }
        let db = project.path().join("public/results.duckdb");
        if max_failed > 0 {
            let failed = query(
                &db,
                "SELECT run_id, reason FROM extraction_runs WHERE status = 'failed'",
            );
            for run in &cut_runs {
                assert!(
                    failed.iter().any(|r| as_text(&r[0]) == *run),
                    "run {run} is listed as failed"
                );
            }
            for (table, column) in query(
                &db,
                "SELECT table_name, column_name FROM duckdb_columns() WHERE data_type = 'VARCHAR' AND NOT internal",
            )
            .iter()
            .map(|r| (as_text(&r[0]), as_text(&r[1])))
            {
                for row in query(
                    &db,
                    &format!("SELECT DISTINCT \"{column}\" FROM \"{table}\" WHERE \"{column}\" IS NOT NULL"),
                ) {
                    scan(&format!("{table}.{column}"), as_text(&row[0]).as_bytes(), &codes);
                }
            }
        }
    }
}

#[test]
fn pickles_cut_inside_code_keyed_dicts_leak_no_code_filestore() {
    cut_pickles_leak_no_code("filestore");
}

#[test]
fn pickles_cut_inside_code_keyed_dicts_leak_no_code_sqlite() {
    cut_pickles_leak_no_code("sqlite");
}

/// A project whose config is `configs/default.yaml` (demo paths made absolute) pointed at
/// another store.
fn default_config_project(store: &StoreCopy, extra: &str) -> tempfile::TempDir {
    let project = tempfile::tempdir().unwrap();
    let demo = repo_root().join("data/demo");
    let text = std::fs::read_to_string(repo_root().join("configs/default.yaml"))
        .unwrap()
        .replace("data/demo/", &format!("{}/", demo.display()))
        .replace("tracking_uri: ", "tracking_uri_of_the_demo: ")
        .replace(
            "tracking_uri_of_the_demo: ",
            &format!("tracking_uri: '{}'\n  # ", store.uri),
        )
        .replace("selection:\n", "selection:\n  max_failed_runs: 20\n")
        .replace("  max_failed_runs: 0\n", "");
    write_file(project.path(), "config.yaml", &format!("{text}{extra}"));
    project
}

#[test]
fn the_demo_config_on_another_store_uses_a_private_secret_and_says_so() {
    let store = copy_store("filestore");
    let project = default_config_project(&store, "");
    let out = mlrepro(project.path())
        .args(["-c", "config.yaml", "extract"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stderr.matches("belong to the bundled demo store").count(),
        1,
        "one line says the demo settings were set aside:\n{stderr}"
    );
    let secret = project.path().join("data/private/anonymization_secret");
    assert!(secret.is_file(), "a private secret was created");
    let lookup =
        std::fs::read_to_string(project.path().join("data/private/subject_lookup.yaml")).unwrap();
    assert!(
        lookup.contains("data/private/anonymization_secret"),
        "{lookup}"
    );
    assert!(
        !project
            .path()
            .join("data/private/demo_subjects_traces.pkl")
            .exists(),
        "no demo subjects on another store"
    );
}

#[test]
fn a_public_secret_named_for_another_store_is_refused() {
    let store = copy_store("filestore");
    let demo_secret = repo_root().join("data/demo/anonymization_secret");
    let project = default_config_project(&store, "");
    let config = std::fs::read_to_string(project.path().join("config.yaml"))
        .unwrap()
        .replace(
            "  secret_file: null\n",
            &format!("  secret_file: '{}'\n", demo_secret.display()),
        );
    std::fs::write(project.path().join("config.yaml"), config).unwrap();
    let out = mlrepro(project.path())
        .args(["-c", "config.yaml", "extract"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("never anonymizes another store"),
        "{stderr}"
    );
    assert!(!project.path().join("data/public/results.duckdb").exists());
}

#[test]
fn a_private_dir_open_to_others_is_refused_and_its_secret_kept() {
    use std::os::unix::fs::PermissionsExt;
    let store = copy_store("filestore");
    let project = default_config_project(&store, "");
    let run = || {
        mlrepro(project.path())
            .args(["-c", "config.yaml", "extract"])
            .output()
            .unwrap()
    };
    assert!(run().status.success());
    let private = project.path().join("data/private");
    let secret = std::fs::read(private.join("anonymization_secret")).unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("chmod 700"), "{stderr}");
    assert_eq!(
        std::fs::read(private.join("anonymization_secret")).unwrap(),
        secret
    );
}

#[test]
fn a_secret_that_cannot_be_read_is_never_replaced() {
    let store = copy_store("filestore");
    let project = default_config_project(&store, "");
    let private = project.path().join("data/private");
    std::fs::create_dir_all(&private).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
    // Not a file: reading it fails with an error other than "not found".
    std::fs::create_dir(private.join("anonymization_secret")).unwrap();
    let out = mlrepro(project.path())
        .args(["-c", "config.yaml", "extract"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("anonymization_secret"), "{stderr}");
    assert!(
        private.join("anonymization_secret").is_dir(),
        "left as it was"
    );
}

#[test]
fn init_writes_a_config_and_a_private_secret_and_never_overwrites() {
    let store = copy_store("filestore");
    let project = tempfile::tempdir().unwrap();
    let init = || {
        mlrepro(project.path())
            .args([
                "init",
                "--tracking-uri",
                &store.uri,
                "--experiment",
                "PLR_Classification",
            ])
            .output()
            .unwrap()
    };
    let out = init();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = project.path().join("configs/project.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.contains("PLR_Classification") && !text.contains("demo"),
        "{text}"
    );
    let ignore = std::fs::read_to_string(project.path().join(".gitignore")).unwrap();
    assert!(ignore.lines().any(|l| l == "/data/private/"), "{ignore}");
    use std::os::unix::fs::PermissionsExt;
    let secret = project.path().join("data/private/anonymization_secret");
    assert_eq!(
        std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let again = init();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("never overwrites"));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), text);
    let extract = mlrepro(project.path())
        .args([
            "-c",
            "configs/project.yaml",
            "extract",
            "--max-failed-runs",
            "20",
        ])
        .output()
        .unwrap();
    assert!(
        extract.status.success(),
        "{}",
        String::from_utf8_lossy(&extract.stderr)
    );
    assert!(project.path().join("data/public/results.duckdb").is_file());
}
