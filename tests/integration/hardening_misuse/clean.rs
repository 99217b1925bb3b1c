//! `clean` and the output directories: no output directory may cover the checkpoint, the
//! private dir or the project root, or leave the project, and `clean` deletes only what
//! mlrepro wrote.

use std::path::Path;

use super::stderr;
use crate::support::{mlrepro, run_ok, write_file};

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
