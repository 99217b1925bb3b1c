//! How `analyze` runs: an unchanged checkpoint is not analysed again, a missing input reruns
//! only its figure, a bad reference config is a configuration error, a damaged or
//! wrong-version checkpoint is refused, and custom steps are cached and retried.

use serde_json::Value as Json;

use super::{analyzed_project, report_json, rewrite_checksum, Project};
use crate::support::{mlrepro, write_file};

#[test]
fn an_unchanged_checkpoint_is_not_analysed_again_nor_its_report_rewritten() {
    let p = analyzed_project();
    let report_before = std::fs::metadata(p.path("outputs/analysis_report.json"))
        .unwrap()
        .modified()
        .unwrap();
    let summary = p.analyze_json();
    for step in summary["steps"].as_array().unwrap() {
        assert_eq!(
            step["status"], "cached",
            "an unchanged checkpoint is not analysed again: {step}"
        );
    }
    let report_after = std::fs::metadata(p.path("outputs/analysis_report.json"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(
        report_before, report_after,
        "an unchanged report is not rewritten"
    );
}

#[test]
fn without_the_private_traces_only_the_traces_figure_reruns_and_is_skipped_with_its_reason() {
    let p = analyzed_project();
    std::fs::remove_file(p.path("private/demo_subjects_traces.pkl")).unwrap();
    let summary = p.analyze_json();
    let ran: Vec<&str> = summary["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "ran")
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(ran, ["subject_traces"]);
    let report = report_json(&p);
    assert_eq!(report["status"], "success");
    let traces = report["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "subject_traces")
        .unwrap();
    assert_eq!(traces["status"], "skipped");
    assert!(
        traces["reason"]
            .as_str()
            .unwrap()
            .contains("demo_subjects_traces.pkl"),
        "{traces}"
    );
}

#[test]
fn an_unknown_reference_config_is_a_configuration_error() {
    let p = Project::extracted();
    let config = std::fs::read_to_string(p.path("config.yaml")).unwrap();
    write_file(
        p.dir(),
        "config.yaml",
        &config.replace(
            "analysis:\n",
            "analysis:\n  reference_config: 'no such run'\n",
        ),
    );
    let out = p.analyze();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("analysis.reference_config"), "{stderr}");
    assert!(!stderr.contains("no such run"), "{stderr}");
}

#[test]
fn analyze_refuses_a_damaged_checkpoint() {
    let p = Project::extracted();
    let db = p.db();
    let mut damaged = std::fs::read(&db).unwrap();
    let mid = damaged.len() / 2;
    damaged[mid] ^= 0xff;
    std::fs::write(&db, &damaged).unwrap();
    let out = p.analyze();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refused"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A project whose checkpoint says it has schema version 999 (its `.sha256` agreeing), and
/// the output of `analyze` on it.
fn analyzed_with_another_schema_version() -> (Project, std::process::Output) {
    let p = Project::extracted();
    let db = p.db();
    {
        let conn = duckdb::Connection::open(&db).unwrap();
        conn.execute_batch("UPDATE metadata SET value = '999' WHERE key = 'schema_version'")
            .unwrap();
    }
    rewrite_checksum(&db);
    let out = p.analyze();
    (p, out)
}

#[test]
fn analyze_refuses_a_checkpoint_of_another_schema_version_naming_both() {
    let (_p, out) = analyzed_with_another_schema_version();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("schema_version") && err.contains("999"),
        "{err}"
    );
}

#[test]
fn a_refused_checkpoint_draws_nothing_and_the_report_says_why() {
    let (p, _) = analyzed_with_another_schema_version();
    assert!(
        !p.path("figures/heatmap.png").exists(),
        "no figure is drawn from a refused checkpoint"
    );
    let report = report_json(&p);
    assert_eq!(report["status"], "failed");
    for e in report["figures"]
        .as_array()
        .unwrap()
        .iter()
        .chain(report["tables"].as_array().unwrap())
    {
        assert_eq!(e["status"], "not_run", "{e}");
        assert!(
            e["reason"].as_str().unwrap().contains("`verify` failed"),
            "{e}"
        );
    }
}

fn step_of<'a>(summary: &'a Json, name: &str) -> &'a Json {
    summary["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == name)
        .unwrap_or_else(|| panic!("no step {name}: {summary}"))
}

#[test]
fn custom_steps_are_cached_retried_and_never_leave_a_broken_output() {
    let p = Project::extracted();
    let config = std::fs::read_to_string(p.path("config.yaml")).unwrap();
    write_file(
        p.dir(),
        "config.yaml",
        &format!(
            "{config}runner:\n  attempts: 3\n  backoff_initial_ms: 1\n  backoff_max_ms: 2\n  custom_steps:\n    \
             - {{name: r-figure, command: [sh, fig.sh], inputs: [fig.sh, public/results.duckdb], outputs: [outputs/fig.txt]}}\n"
        ),
    );
    let run = || {
        let out = mlrepro(p.dir())
            .args(["-c", "config.yaml", "--json", "analyze"])
            .output()
            .unwrap();
        let summary: Json = serde_json::from_slice(&out.stdout).unwrap_or(Json::Null);
        (
            out.status.code(),
            summary,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    write_file(
        p.dir(),
        "fig.sh",
        "test -n \"$MLREPRO_DB\" && mkdir -p outputs && echo v1 > outputs/fig.txt\n",
    );
    let (code, summary, err) = run();
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(step_of(&summary, "custom:r-figure")["status"], "ran");
    assert_eq!(
        std::fs::read_to_string(p.path("outputs/fig.txt")).unwrap(),
        "v1\n"
    );

    let (code, summary, _) = run();
    assert_eq!(code, Some(0));
    assert_eq!(step_of(&summary, "custom:r-figure")["status"], "cached");

    // A failing script: not retried, its half-written output replaced by the previous one.
    write_file(
        p.dir(),
        "fig.sh",
        "echo partial > outputs/fig.txt\necho boom >&2\nexit 3\n",
    );
    let (code, summary, err) = run();
    assert_eq!(code, Some(1), "{err}");
    let step = step_of(&summary, "custom:r-figure");
    assert_eq!(step["status"], "failed");
    assert_eq!(step["attempts"], 1);
    let error = step["error"].as_str().unwrap();
    assert!(
        error.contains("exited with status 3") && error.contains("boom"),
        "{error}"
    );
    assert_eq!(
        std::fs::read_to_string(p.path("outputs/fig.txt")).unwrap(),
        "v1\n"
    );
    assert_eq!(
        step_of(&summary, "tables")["status"],
        "cached",
        "other steps are unaffected"
    );

    // Exit status 75 (EX_TEMPFAIL) is transient: retried, and recorded as flaky.
    write_file(
        p.dir(),
        "fig.sh",
        "n=$(cat count 2>/dev/null || echo 0); n=$((n + 1)); echo $n > count\n[ $n -ge 2 ] || exit 75\necho v2 > outputs/fig.txt\n",
    );
    let (code, summary, err) = run();
    assert_eq!(code, Some(0), "{err}");
    let step = step_of(&summary, "custom:r-figure");
    assert_eq!(step["status"], "flaky");
    assert_eq!(step["attempts"], 2);
    assert_eq!(
        std::fs::read_to_string(p.path("outputs/fig.txt")).unwrap(),
        "v2\n"
    );
}
