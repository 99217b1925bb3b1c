//! What an installed `mlrepro` offers beyond the pipeline: shell completions, the man page and
//! a `--version` that names the commit and DuckDB (issue 20).

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::{mlrepro, run_ok, tool_available};

/// The visible subcommands, from the clap definition itself (no hand-kept list).
fn visible_subcommands() -> Vec<String> {
    let names: Vec<String> = mlrepro::cli::command()
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set())
        .map(|sub| sub.get_name().to_string())
        .collect();
    assert!(names.len() >= 9, "too few subcommands found: {names:?}");
    names
}

fn stdout_of(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    String::from_utf8(run_ok(dir.path(), args).stdout).unwrap()
}

#[test]
fn completions_for_every_shell_mention_every_subcommand() {
    let subcommands = visible_subcommands();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = stdout_of(&["completions", shell]);
        assert!(
            script.contains("mlrepro"),
            "{shell} completions do not name mlrepro"
        );
        for sub in &subcommands {
            assert!(
                script.contains(sub.as_str()),
                "{shell} completions do not mention `{sub}`"
            );
        }
    }
}

#[test]
fn completions_need_no_config_and_reject_an_unknown_shell() {
    // Run in an empty directory: no `configs/default.yaml` there.
    let dir = tempfile::tempdir().unwrap();
    mlrepro(dir.path())
        .args(["completions", "bash"])
        .assert()
        .success();
    mlrepro(dir.path())
        .args(["completions", "tcsh"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("possible values"));
}

#[test]
fn man_page_is_hidden_from_help_but_lists_subcommands() {
    let help = stdout_of(&["--help"]);
    assert!(
        !help.lines().any(|l| l.trim_start().starts_with("man ")),
        "`man` should be hidden:\n{help}"
    );
    let page = stdout_of(&["man"]);
    assert!(page.contains(".TH mlrepro 1"), "not a man page:\n{page}");
    for sub in visible_subcommands() {
        assert!(page.contains(&sub), "the man page does not mention `{sub}`");
    }
}

#[test]
fn man_page_renders_without_groff_warnings() {
    let page = stdout_of(&["man"]);
    if !tool_available("groff", "--version") {
        return;
    }
    let mut child = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(page.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let warnings = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "groff failed:\n{warnings}");
    assert!(warnings.is_empty(), "groff warnings:\n{warnings}");
}

#[test]
fn long_version_names_version_commit_and_duckdb() {
    let text = stdout_of(&["--version"]);
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        text.starts_with(&format!("mlrepro {version} (commit ")),
        "{text}"
    );
    let commit = text
        .split("commit ")
        .nth(1)
        .and_then(|rest| rest.split([',', ')']).next())
        .unwrap_or_default();
    assert!(
        commit == "unknown" || (commit.len() >= 7 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "commit `{commit}` is neither hex nor `unknown`: {text}"
    );
    assert!(text.contains("DuckDB v"), "{text}");
}

#[test]
fn short_version_is_one_line() {
    let text = stdout_of(&["-V"]);
    assert_eq!(text, format!("mlrepro {}\n", env!("CARGO_PKG_VERSION")));
}
