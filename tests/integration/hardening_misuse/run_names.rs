//! Text from runs: a hostile run name compiles in the tables and reaches stderr without
//! escapes, and a run name that climbs out of the artifact directory fails only its run.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use super::{stderr, StoreProject};
use crate::extract::extract_details;
use crate::support::{
    compile_on_a4, copy_dir, latex_available, mlrepro, repo_root, run_ok, write_file,
};

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
