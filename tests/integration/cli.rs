//! The command-line contract: help text, exit codes and configuration errors.

use predicates::prelude::*;

use crate::support::{mlrepro, repo_root, write_file};

const SUBCOMMANDS: [&str; 8] = [
    "extract",
    "analyze",
    "reproduce",
    "status",
    "history",
    "logs",
    "verify",
    "clean",
];

#[test]
fn help_lists_every_subcommand() {
    let out = mlrepro(&repo_root())
        .arg("--help")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    for sub in SUBCOMMANDS {
        assert!(
            text.contains(sub),
            "`mlrepro --help` does not list `{sub}`:\n{text}"
        );
    }
}

#[test]
fn every_subcommand_has_help_with_global_flags() {
    for sub in SUBCOMMANDS {
        let out = mlrepro(&repo_root())
            .args([sub, "--help"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let text = String::from_utf8(out).unwrap();
        for flag in [
            "--config",
            "--jobs",
            "--force",
            "--dry-run",
            "--json",
            "--quiet",
            "--verbose",
            "--no-progress",
        ] {
            assert!(
                text.contains(flag),
                "`mlrepro {sub} --help` lacks `{flag}`:\n{text}"
            );
        }
        assert!(
            text.contains("[default: configs/default.yaml]"),
            "`{sub} --help` does not show the config default"
        );
    }
}

#[test]
fn extract_help_names_store_flags_with_defaults() {
    let out = mlrepro(&repo_root())
        .args(["extract", "--help"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    for flag in [
        "--tracking-uri",
        "--experiment",
        "--db",
        "--private-dir",
        "MLFLOW_TRACKING_URI",
        "data/public/results.duckdb",
    ] {
        assert!(text.contains(flag), "extract --help lacks `{flag}`");
    }
}

#[test]
fn unknown_flag_is_a_usage_error() {
    mlrepro(&repo_root())
        .args(["extract", "--no-such-flag"])
        .assert()
        .code(2);
}

#[test]
fn unknown_config_key_exits_2_naming_key_and_file() {
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "bad.yaml", "store:\n  trackng_uri: somewhere\n");
    mlrepro(dir.path())
        .args(["-c", "bad.yaml", "clean"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("trackng_uri").and(predicate::str::contains("`bad.yaml`")),
        );
}

#[test]
fn wrong_type_in_config_exits_2_naming_key() {
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "bad.yaml", "analysis:\n  top_k: lots\n");
    mlrepro(dir.path())
        .args(["-c", "bad.yaml", "clean"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("top_k"));
}

#[test]
fn missing_config_exits_2_with_hint() {
    let dir = tempfile::tempdir().unwrap();
    mlrepro(dir.path())
        .args(["-c", "nope.yaml", "clean"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`nope.yaml`").and(predicate::str::contains("hint:")));
}

#[test]
fn clean_keeps_checkpoint_and_private_dir() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_file(root, "c.yaml", "");
    for f in [
        "figures/heatmap.png",
        "outputs/numbers.tex",
        ".mlrepro/cache/x",
        "data/public/results.duckdb",
        "data/private/subject_lookup.yaml",
    ] {
        write_file(root, f, "x");
    }
    write_file(root, ".mlrepro/CACHEDIR.TAG", "# mlrepro cache\n");
    mlrepro(root)
        .args(["-c", "c.yaml", "clean"])
        .assert()
        .success();
    assert!(
        !root.join("figures").exists()
            && !root.join("outputs").exists()
            && !root.join(".mlrepro/cache").exists()
    );
    assert!(root.join("data/public/results.duckdb").exists());
    assert!(root.join("data/private/subject_lookup.yaml").exists());
}

#[test]
fn clean_cache_keeps_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_file(root, "c.yaml", "");
    write_file(root, "figures/heatmap.png", "x");
    write_file(root, ".mlrepro/cache/x", "x");
    write_file(root, ".mlrepro/CACHEDIR.TAG", "# mlrepro cache\n");
    mlrepro(root)
        .args(["-c", "c.yaml", "clean", "--cache"])
        .assert()
        .success();
    assert!(root.join("figures/heatmap.png").exists());
    assert!(!root.join(".mlrepro/cache").exists());
}
