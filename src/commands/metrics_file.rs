//! `--metrics-file`: a pipeline run's figures in the Prometheus text exposition format, for
//! node_exporter's textfile collector on a machine that runs mlrepro on a schedule.
//!
//! Written atomically (a scrape never sees half a file). Step outcomes are one-hot gauges
//! over every outcome, so an alert can match `outcome="failed"` whatever ran before.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;

use crate::fsx;
use crate::runner::ledger::StepStatus;
use crate::runner::report::PipelineReport;

/// The counts of the extract step's details that become gauges: detail key, metric, help.
const EXTRACTION: [(&str, &str, &str); 6] = [
    (
        "included",
        "mlrepro_extraction_runs{status=\"included\"}",
        "",
    ),
    (
        "excluded",
        "mlrepro_extraction_runs{status=\"excluded\"}",
        "",
    ),
    ("failed", "mlrepro_extraction_runs{status=\"failed\"}", ""),
    (
        "runs_from_cache",
        "mlrepro_extraction_cache_hits",
        "Runs the last extraction took from the per-run cache.",
    ),
    (
        "runs_parsed",
        "mlrepro_extraction_runs_decoded",
        "Runs the last extraction decoded from their pickles.",
    ),
    (
        "bytes_read",
        "mlrepro_extraction_bytes_read",
        "Bytes of pickles the last extraction decoded.",
    ),
];

/// Writes the metrics of `report` (a `command` run that took `seconds`) to `path`.
pub fn write(path: &Path, command: &str, report: &PipelineReport, seconds: f64) -> Result<()> {
    fsx::write_atomic(
        path,
        render(command, report, seconds, unix_now()).as_bytes(),
    )
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The exposition text; `now` is the Unix time of the run's end.
fn render(command: &str, report: &PipelineReport, seconds: f64, now: f64) -> String {
    let cmd = label(command);
    let mut text = String::new();
    let mut block = |name: &str, help: &str, lines: Vec<String>| {
        let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} gauge");
        for line in lines {
            let _ = writeln!(text, "{line}");
        }
    };
    block(
        "mlrepro_run_success",
        "Whether the last pipeline run succeeded (1) or not (0).",
        vec![format!(
            "mlrepro_run_success{{command=\"{cmd}\"}} {}",
            u8::from(report.success)
        )],
    );
    block(
        "mlrepro_run_duration_seconds",
        "Wall time of the last pipeline run.",
        vec![format!(
            "mlrepro_run_duration_seconds{{command=\"{cmd}\"}} {seconds}"
        )],
    );
    block(
        "mlrepro_run_timestamp_seconds",
        "Unix time at which the last pipeline run ended.",
        vec![format!(
            "mlrepro_run_timestamp_seconds{{command=\"{cmd}\"}} {now:.3}"
        )],
    );
    block(
        "mlrepro_step_duration_seconds",
        "Wall time of each step in the last pipeline run.",
        report
            .steps
            .iter()
            .map(|s| {
                format!(
                    "mlrepro_step_duration_seconds{{step=\"{}\"}} {}",
                    label(&s.step),
                    s.seconds
                )
            })
            .collect(),
    );
    block(
        "mlrepro_step_attempts",
        "Attempts each step made in the last pipeline run.",
        report
            .steps
            .iter()
            .map(|s| {
                format!(
                    "mlrepro_step_attempts{{step=\"{}\"}} {}",
                    label(&s.step),
                    s.attempts
                )
            })
            .collect(),
    );
    block(
        "mlrepro_step_outcome",
        "How each step ended in the last pipeline run: 1 for its outcome, 0 for the others.",
        report
            .steps
            .iter()
            .flat_map(|s| {
                StepStatus::ALL.iter().map(move |status| {
                    format!(
                        "mlrepro_step_outcome{{step=\"{}\",outcome=\"{}\"}} {}",
                        label(&s.step),
                        status.as_str(),
                        u8::from(s.status == *status)
                    )
                })
            })
            .collect(),
    );
    let details = report
        .steps
        .iter()
        .find(|s| s.step == "extract")
        .and_then(|s| s.details.as_ref());
    if let Some(details) = details {
        let value = |key: &str| details.get(key).and_then(serde_json::Value::as_u64);
        let runs: Vec<String> = EXTRACTION[..3]
            .iter()
            .filter_map(|(key, metric, _)| value(key).map(|v| format!("{metric} {v}")))
            .collect();
        block(
            "mlrepro_extraction_runs",
            "Runs of the last extraction, by outcome.",
            runs,
        );
        for (key, metric, help) in &EXTRACTION[3..] {
            if let Some(v) = value(key) {
                block(metric, help, vec![format!("{metric} {v}")]);
            }
        }
    }
    text
}

/// `text` as a label value: backslash, double quote and newline escaped.
fn label(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::report::StepReport;

    fn step(name: &str, status: StepStatus, details: Option<serde_json::Value>) -> StepReport {
        StepReport {
            step: name.into(),
            status,
            reasons: vec![],
            attempts: 1,
            seconds: 0.25,
            summary: None,
            details,
            error: None,
            error_kind: None,
            hint: None,
        }
    }

    fn report() -> PipelineReport {
        let details = serde_json::json!({
            "included": 40, "excluded": 3, "failed": 1,
            "runs_from_cache": 30, "runs_parsed": 10, "bytes_read": 123456
        });
        PipelineReport {
            run_id: "r".into(),
            steps: vec![
                step("extract", StepStatus::Ran, Some(details)),
                step("custom:a\"b", StepStatus::Failed, None),
            ],
            success: false,
            interrupted: false,
        }
    }

    /// A strict reading of the exposition format: every sample's family is declared by HELP
    /// and TYPE before it, names and labels are well formed, values are numbers.
    fn parse(text: &str) -> Vec<(String, String, f64)> {
        let mut declared = std::collections::BTreeSet::new();
        let mut samples = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                declared.insert(rest.split(' ').next().unwrap().to_string());
                continue;
            }
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap();
                assert!(declared.contains(name) && kind == "gauge", "{line}");
                continue;
            }
            let (series, value) = line.rsplit_once(' ').unwrap();
            let (name, labels) = series.split_once('{').unwrap_or((series, "}"));
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{line}"
            );
            assert!(declared.contains(name), "{name} is not declared before use");
            assert!(labels.ends_with('}'), "{line}");
            samples.push((name.to_string(), labels.to_string(), value.parse().unwrap()));
        }
        samples
    }

    #[test]
    fn the_exposition_is_well_formed_and_outcomes_are_one_hot() {
        let text = render("reproduce", &report(), 1.5, 1_700_000_000.0);
        let samples = parse(&text);
        for step in ["extract", "custom:a\\\"b"] {
            let hot: f64 = samples
                .iter()
                .filter(|(n, l, _)| n == "mlrepro_step_outcome" && l.contains(step))
                .map(|s| s.2)
                .sum();
            assert_eq!(hot, 1.0, "{step}: {text}");
        }
        assert!(
            text.contains("mlrepro_step_outcome{step=\"custom:a\\\"b\",outcome=\"failed\"} 1\n")
        );
        assert!(text.contains("mlrepro_extraction_runs{status=\"failed\"} 1\n"));
        assert!(text.contains("mlrepro_extraction_bytes_read 123456\n"));
        assert!(text.contains("mlrepro_run_success{command=\"reproduce\"} 0\n"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
