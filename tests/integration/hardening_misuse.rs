//! Misuse, as a careless or hostile user would try it: `clean` pointed at what it must not
//! delete, two mlrepros on one checkpoint, and run names written to break LaTeX, the terminal
//! or the artifact directory.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use crate::extract::extract_details;
use crate::support::{
    compile_on_a4, copy_dir, latex_available, mlrepro, mlrepro_process, repo_root, run_ok,
    write_file, ProjectConfig,
};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

// ---------------------------------------------------------------------------------------
// `clean` and the output directories

/// A project with a checkpoint, a private dir and generated outputs in their default
/// places, and a config `c.yaml` holding `outputs`.
fn project_with_outputs(outputs: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let config = if outputs.is_empty() {
        String::new()
    } else {
        format!("outputs:\n{outputs}")
    };
    write_file(root, "c.yaml", &config);
    for f in [
        "data/public/results.duckdb",
        "data/public/results.duckdb.sha256",
        "data/private/anonymization_secret",
        "figures/heatmap.png",
        "outputs/numbers.tex",
    ] {
        write_file(root, f, "x");
    }
    dir
}

/// Runs `clean` in `root` and requires a configuration error that names `keys`.
fn clean_is_refused(root: &Path, keys: &[&str]) {
    let out = mlrepro(root)
        .args(["-c", "c.yaml", "clean"])
        .output()
        .unwrap();
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    for key in keys {
        assert!(text.contains(key), "the refusal names {key}:\n{text}");
    }
    for kept in [
        "data/public/results.duckdb",
        "data/public/results.duckdb.sha256",
        "data/private/anonymization_secret",
        "c.yaml",
    ] {
        assert!(root.join(kept).exists(), "`{kept}` was deleted");
    }
}

#[test]
fn clean_refuses_outputs_dir_over_the_checkpoint() {
    let p = project_with_outputs("  outputs_dir: data/public\n");
    clean_is_refused(
        p.path(),
        &[
            "`outputs.outputs_dir` (`data/public`) contains `outputs.db` (`data/public/results.duckdb`)",
        ],
    );
}

#[test]
fn clean_refuses_figures_dir_over_the_private_dir() {
    let p = project_with_outputs("  figures_dir: data\n");
    clean_is_refused(
        p.path(),
        &["`outputs.figures_dir` (`data`)", "`outputs.db`"],
    );
    let p = project_with_outputs("  figures_dir: data/private\n");
    clean_is_refused(
        p.path(),
        &["`outputs.figures_dir` (`data/private`) is `outputs.private_dir`"],
    );
}

#[test]
fn clean_refuses_cache_dir_at_the_project_root() {
    let p = project_with_outputs("  cache_dir: .\n");
    clean_is_refused(p.path(), &["`outputs.cache_dir` (`.`) is the project root"]);
    assert!(p.path().join("figures/heatmap.png").exists());
}

#[test]
fn clean_refuses_a_dir_outside_the_project() {
    let outer = tempfile::tempdir().unwrap();
    let project = outer.path().join("project");
    std::fs::create_dir(&project).unwrap();
    let theirs = write_file(outer.path(), "elsewhere/heatmap.png", "someone else's");
    for value in [
        "../elsewhere",
        &outer.path().join("elsewhere").display().to_string(),
    ] {
        write_file(
            &project,
            "c.yaml",
            &format!("outputs:\n  figures_dir: '{value}'\n"),
        );
        let out = mlrepro(&project)
            .args(["-c", "c.yaml", "clean"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("`outputs.figures_dir`")
                && stderr(&out).contains("is outside the project"),
            "{}",
            stderr(&out)
        );
        assert!(theirs.exists());
    }
}

#[test]
fn clean_refuses_a_symlinked_outputs_dir_that_leads_to_the_checkpoint() {
    let p = project_with_outputs("  outputs_dir: out\n");
    std::os::unix::fs::symlink(p.path().join("data/public"), p.path().join("out")).unwrap();
    clean_is_refused(
        p.path(),
        &[
            "`outputs.outputs_dir` (`out`, which leads to",
            "contains `outputs.db`",
        ],
    );
}

#[test]
fn a_figures_dir_flag_over_the_checkpoint_is_refused_before_anything_runs() {
    let p = project_with_outputs("");
    let out = mlrepro(p.path())
        .args(["-c", "c.yaml", "analyze", "--figures-dir", "data/public"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("`outputs.figures_dir` (`data/public`) contains `outputs.db`"));
}

#[test]
fn clean_leaves_a_users_own_file_in_figures_alone() {
    let p = project_with_outputs("");
    let root = p.path();
    for f in [
        "figures/heatmap.svg",
        "figures/heatmap.pdf",
        "figures/data/heatmap.json",
        "figures/.heatmap.png.Ab12Cd.tmp",
        "outputs/anova.tex",
        "outputs/analysis_report.json",
    ] {
        write_file(root, f, "x");
    }
    let mine = [
        "figures/my-sketch.png",
        "figures/data/notes.json",
        "outputs/paper.tex",
    ];
    for f in mine {
        write_file(root, f, "mine");
    }
    run_ok(root, &["-c", "c.yaml", "clean"]);
    for gone in [
        "figures/heatmap.png",
        "figures/heatmap.svg",
        "figures/heatmap.pdf",
        "figures/data/heatmap.json",
        "figures/.heatmap.png.Ab12Cd.tmp",
        "outputs/numbers.tex",
        "outputs/anova.tex",
        "outputs/analysis_report.json",
    ] {
        assert!(
            !root.join(gone).exists(),
            "`{gone}` is generated and removed"
        );
    }
    for kept in mine {
        assert_eq!(std::fs::read_to_string(root.join(kept)).unwrap(), "mine");
    }
    assert!(root.join("data/public/results.duckdb").exists());
}

#[test]
fn clean_removes_generated_directories_once_empty() {
    let p = project_with_outputs("");
    let root = p.path();
    write_file(root, "figures/data/heatmap.json", "x");
    run_ok(root, &["-c", "c.yaml", "clean"]);
    assert!(!root.join("figures").exists() && !root.join("outputs").exists());
}

// ---------------------------------------------------------------------------------------
// The lock

/// A project reading its own copy of the fixture file store; `cache_dir` is the config's.
struct StoreProject {
    dir: tempfile::TempDir,
}

impl StoreProject {
    fn new() -> Self {
        let p = StoreProject {
            dir: tempfile::tempdir().unwrap(),
        };
        p.config("c.yaml", "cache");
        p
    }

    /// Writes a config `name` whose cache directory is `cache_dir`.
    fn config(&self, name: &str, cache_dir: &str) {
        ProjectConfig::fixture_store_copy()
            .max_failed_runs(10)
            .cache_dir(cache_dir)
            .write_in(self.path(), name);
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut full = vec!["-c", "c.yaml"];
        full.extend_from_slice(args);
        mlrepro(self.path()).args(&full).output().unwrap()
    }

    /// Holds the checkpoint's lock file as another process would (shared or not).
    fn hold_checkpoint_lock(&self, shared: bool) -> File {
        let file = File::options()
            .read(true)
            .write(true)
            .open(self.path().join("public/.mlrepro.lock"))
            .expect("the extraction created the checkpoint's lock file");
        if shared {
            file.lock_shared().unwrap();
        } else {
            file.lock().unwrap();
        }
        file
    }
}

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

// ---------------------------------------------------------------------------------------
// Text from runs

/// The run directory of the run named `name` in an experiment directory of a file store.
fn run_dir_named(store: &Path, name: &str) -> PathBuf {
    for exp in std::fs::read_dir(store).unwrap() {
        for run in std::fs::read_dir(exp.unwrap().path()).into_iter().flatten() {
            let run = run.unwrap().path();
            if std::fs::read_to_string(run.join("tags/mlflow.runName")).is_ok_and(|n| n == name) {
                return run;
            }
        }
    }
    panic!("no run named {name}");
}

/// Renames the run `old` to `new` (its `mlflow.runName` tag); returns its directory.
fn rename_run(store: &Path, old: &str, new: &str) -> PathBuf {
    let dir = run_dir_named(store, old);
    std::fs::write(dir.join("tags/mlflow.runName"), new).unwrap();
    dir
}

fn pickle_of(run_dir: &Path, name: &str) -> PathBuf {
    run_dir.join(format!("artifacts/metrics/metrics_{name}.pickle"))
}

/// The names of LaTeX files in `dir`, sorted.
fn tex_files(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tex"))
        .collect();
    out.sort();
    out
}

/// Compiles every table of `outputs` with `pdflatex`, when it is installed.
fn pdflatex_compiles(outputs: &Path) {
    if !latex_available() {
        return;
    }
    for t in tex_files(outputs) {
        let text = if t == "numbers.tex" {
            "Best: \\bestPipeline."
        } else {
            ""
        };
        compile_on_a4(&outputs.join(t), text);
    }
}

/// An outlier method that ends a `tabular`, starts a comment, colours the terminal, returns
/// the cursor and reverses the text; short enough that figure labels keep all of it.
const HOSTILE_LEVEL: &str = "\u{1b}[31mL\n\n}\\end{tabular}%[2pt]\r\u{202e}x";

#[test]
fn a_hostile_run_name_compiles_in_the_tables_and_reaches_stderr_without_escapes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    copy_dir(&repo_root().join("data/demo/mlruns"), &root.join("mlruns"));
    let old = "XGBOOST_eval-auc__simple1.0__pupil-gt__LOF";
    let new = format!("XGBOOST_eval-auc__simple1.0__pupil-gt__{HOSTILE_LEVEL}");
    let run = rename_run(&root.join("mlruns"), old, &new);
    write_file(
        root,
        "c.yaml",
        "store:\n  tracking_uri: mlruns\n  experiment: PLR_Classification\n\
         analysis:\n  png_dpi: 72\n",
    );
    // Its pickle keeps the old name: the run fails, and its name is in the message.
    let failed = mlrepro(root)
        .args(["-c", "c.yaml", "extract"])
        .output()
        .unwrap();
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    for (what, bytes) in [("stderr", &failed.stderr), ("stdout", &failed.stdout)] {
        assert!(
            !bytes.iter().any(|b| *b == 0x1b || *b == b'\r'),
            "a raw ESC or CR reached {what}:\n{}",
            String::from_utf8_lossy(bytes)
        );
    }
    assert!(
        stderr(&failed).contains("\\u{1b}[31mL\n\n}\\end{tabular}%[2pt]\\r\\u{202e}x"),
        "the name is shown, escaped:\n{}",
        stderr(&failed)
    );
    std::fs::rename(pickle_of(&run, old), pickle_of(&run, &new)).unwrap();
    run_ok(root, &["-c", "c.yaml", "extract"]);
    let analyzed = run_ok(root, &["-c", "c.yaml", "analyze"]);
    assert!(!analyzed.stderr.contains(&0x1b), "{}", stderr(&analyzed));
    for entry in std::fs::read_dir(root.join("figures")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "svg") {
            let svg = std::fs::read(&path).unwrap();
            assert!(
                !svg.iter().any(|b| *b < 0x20 && !b"\t\n\r".contains(b)),
                "`{}` holds a character XML forbids",
                path.display()
            );
        }
    }

    let outputs = root.join("outputs");
    let comparison = std::fs::read_to_string(outputs.join("comparison_outlier.tex")).unwrap();
    assert!(
        comparison.contains(
            // The method column wraps: a break is allowed inside the camel case "mL".
            "\\textbackslash{}u\\{1b\\}{[}31m\\allowbreak{}L\\textbackslash{}n\\textbackslash{}n\\}\\textbackslash{}end\\{tabular\\}\\%{[}2pt{]}\\textbackslash{}r"
        ),
        "{comparison}"
    );
    for name in tex_files(&outputs) {
        let text = std::fs::read_to_string(outputs.join(&name)).unwrap();
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{name} holds a control character"
        );
        assert!(!text.contains("\n\n"), "{name} has a blank line:\n{text}");
        assert_eq!(
            text.matches("\\begin{tabular}").count(),
            text.matches("\\end{tabular}").count(),
            "{name}"
        );
    }
    pdflatex_compiles(&outputs);
}

#[test]
fn a_run_name_that_climbs_out_of_artifacts_fails_that_run_and_reads_nothing_outside() {
    let p = StoreProject::new();
    let store = p.path().join("mlruns");
    let old = "XGBOOST_eval-auc__simple1.0__pupil-gt__LOF";
    let prefix = "XGBOOST_eval-auc__simple1.0__pupil-gt__";
    // The first `..` is glued to the prefix; the six after it climb to the project.
    let hostile = format!("{prefix}../../../../../../../outside");
    let run = rename_run(&store, old, &hostile);
    let run_id = run.file_name().unwrap().to_string_lossy().into_owned();
    // Everything the path needs to resolve exists, and a valid pickle waits outside the store.
    std::fs::create_dir_all(run.join(format!("artifacts/metrics/metrics_{prefix}.."))).unwrap();
    std::fs::copy(pickle_of(&run, old), p.path().join("outside.pickle")).unwrap();
    assert!(
        pickle_of(&run, &hostile).is_file(),
        "the attack's path leads to the planted pickle"
    );

    let out = run_ok(p.path(), &["-c", "c.yaml", "--json", "extract"]);
    let details: Json = extract_details(&out.stdout);
    let failure = details["failures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["run_id"] == run_id.as_str())
        .unwrap_or_else(|| panic!("the run is not failed: {details:#}"));
    let cause = failure["cause"].as_str().unwrap();
    assert!(
        cause.contains(&format!("`{run_id}`"))
            && cause.contains("`store.metrics_pickle`")
            && cause.contains("`..`"),
        "{cause}"
    );
    assert!(
        !cause.contains("outside"),
        "the hostile name is not repeated: {cause}"
    );
}
