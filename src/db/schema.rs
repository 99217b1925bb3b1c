//! The canonical DuckDB schema of the public checkpoint (`schema_version` 1), defined once.
//!
//! The DDL, the column checks of `mlrepro verify` and the data dictionary
//! (`data/public/SCHEMA.md`) are all generated from [`tables`], so they cannot drift apart.
//! The metric columns of `essential_metrics` and `supplementary_metrics`, and their
//! descriptions, come from the metric catalog ([`crate::metrics::catalog`]).
//! Every floating column is `DOUBLE`; no data row holds a timestamp.

use std::fmt::Write as _;
use std::sync::LazyLock;

use crate::metrics::catalog::{self, Estimand, Table as MetricTable, TestInterval};

/// Version of the schema written to `metadata.schema_version`; bumped on any change.
pub const SCHEMA_VERSION: u32 = 1;

/// A column's SQL type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlType {
    /// 32-bit integer.
    Integer,
    /// 64-bit float.
    Double,
    /// Text.
    Varchar,
}

impl SqlType {
    /// The type as DuckDB spells it.
    pub fn sql(self) -> &'static str {
        match self {
            SqlType::Integer => "INTEGER",
            SqlType::Double => "DOUBLE",
            SqlType::Varchar => "VARCHAR",
        }
    }
}

/// One column of a public table.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// SQL type.
    pub ty: SqlType,
    /// Whether NULL is allowed.
    pub nullable: bool,
    /// An SQL CHECK expression on the column, if any.
    pub check: Option<&'static str>,
    /// Meaning, estimand, units, and why it may be NULL.
    pub doc: String,
}

/// One public table.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Table name.
    pub name: &'static str,
    /// What one row is.
    pub doc: &'static str,
    /// Columns in order.
    pub columns: Vec<Column>,
    /// Primary-key columns.
    pub primary_key: &'static [&'static str],
}

fn col(name: &str, ty: SqlType, doc: &str) -> Column {
    Column {
        name: name.into(),
        ty,
        nullable: false,
        check: None,
        doc: doc.into(),
    }
}

fn opt(name: &str, ty: SqlType, doc: &str) -> Column {
    Column {
        nullable: true,
        ..col(name, ty, doc)
    }
}

fn checked(mut c: Column, check: &'static str) -> Column {
    c.check = Some(check);
    c
}

const NULL_SEE_NOTES: &str = "NULL when it cannot be estimated; the reason is in `metric_notes`.";

/// A metric with its 95 % percentile CI: three nullable DOUBLE columns.
fn with_ci(name: &str, doc: &str, ci_over: &str) -> [Column; 3] {
    let [lower, upper] = catalog::model_ci_columns(name);
    [
        opt(name, SqlType::Double, &format!("{doc} {NULL_SEE_NOTES}")),
        opt(
            &lower,
            SqlType::Double,
            &format!("Model-variability interval of `{name}`: 2.5th percentile over {ci_over} (linear interpolation, NaN ignored). It is the spread of the B models retrained on bootstrap resamples of the training data and scored on one fixed test set; it leaves out test-set sampling. NULL when fewer than 2 usable values or zero spread."),
        ),
        opt(&upper, SqlType::Double, &format!("97.5th percentile of `{name}` over {ci_over} (model-variability interval).")),
    ]
}

const TEST_BOOTSTRAP: &str = "the seeded subject-level (test-set) bootstrap: the test subjects resampled with replacement (`metadata.test_bootstrap_resamples` resamples from seed `metadata.test_bootstrap_seed`), the metric of p̄ recomputed on each, resamples where it is undefined (one class, separation) left out and counted in `metric_notes`";

/// The columns of the metrics of `table` that have a model-variability CI, in catalog order:
/// each value with its CI.
fn model_ci_columns(table: MetricTable) -> Vec<Column> {
    catalog::with_model_ci(table)
        .flat_map(|m| {
            let over = match m.estimand {
                Estimand::PerIteration { .. } => OVER_ITERATIONS,
                _ => OVER_COLUMNS,
            };
            with_ci(m.name, m.doc, over)
        })
        .collect()
}

/// The test-set uncertainty of the metrics of p̄, appended after the older columns: each
/// metric of p̄ that is a column only with its test-set interval (`auroc_pbar`, `brier_pbar`),
/// then a test-set interval for each metric of p̄ that has a model-variability CI.
fn test_set_columns() -> Vec<Column> {
    use SqlType::Double;
    let mut out = Vec::new();
    for (m, _, interval) in catalog::pbar_only() {
        let name = m.name;
        let [lower, upper] = catalog::test_ci_columns(name);
        out.push(opt(name, Double, &format!("{} {NULL_SEE_NOTES}", m.doc)));
        match interval {
            TestInterval::DeLong => {
                out.push(opt(&lower, Double, &format!("Test-set interval of `{name}`: lower bound of DeLong's 95 % interval `{name}` − 1.96·SE (as R pROC `ci.auc(method = \"delong\")`, clipped to [0, 1]). It estimates how the AUROC of p̄ varies between test sets of this size; the B models are held fixed. NULL with fewer than 2 subjects of a class.")));
                out.push(opt(
                    &upper,
                    Double,
                    "Upper bound of the same DeLong interval.",
                ));
            }
            TestInterval::Bootstrap => {
                out.push(opt(&lower, Double, &format!("Test-set interval of `{name}`: 2.5th percentile over {TEST_BOOTSTRAP}. NULL with fewer than 2 usable resamples or zero spread.")));
                out.push(opt(
                    &upper,
                    Double,
                    "97.5th percentile of the same test-set bootstrap.",
                ));
            }
        }
    }
    for m in catalog::with_both_intervals() {
        let name = m.name;
        let [lower, upper] = catalog::test_ci_columns(name);
        out.push(opt(&lower, Double, &format!("Test-set interval of `{name}`: 2.5th percentile over {TEST_BOOTSTRAP}. Unlike `{}` (the spread of the B retrained models scored on one fixed test set), it estimates test-set sampling. NULL with fewer than 2 usable resamples or zero spread.", catalog::model_ci_columns(name)[0])));
        out.push(opt(
            &upper,
            Double,
            &format!("97.5th percentile of `{name}` over the same test-set bootstrap."),
        ));
    }
    out
}

const OVER_ITERATIONS: &str = "the B stored per-iteration test values";
const OVER_COLUMNS: &str = "the B bootstrap columns of the test probability matrix (single-class or perfectly separated columns left out, counted in `metric_notes`)";

fn config_id() -> Column {
    col(
        "config_id",
        SqlType::Integer,
        "Configuration, see `essential_metrics.config_id`.",
    )
}

/// Every table of the public checkpoint, in creation order (built once).
pub fn tables() -> &'static [Table] {
    static TABLES: LazyLock<Vec<Table>> = LazyLock::new(build_tables);
    &TABLES
}

/// The table called `name`, if the schema has one.
pub fn table(name: &str) -> Option<&'static Table> {
    tables().iter().find(|t| t.name == name)
}

fn build_tables() -> Vec<Table> {
    use SqlType::{Double, Integer, Varchar};
    let mut essential = vec![
        col("config_id", Integer, "Configuration id: 1..N in order of (`source_name`, `run_id`), stable for the same set of included runs."),
        col("run_id", Varchar, "MLflow run id of the included run."),
        col("source_name", Varchar, "Full MLflow run name."),
        col("classifier", Varchar, "Classifier, canonical spelling (run-name part)."),
        col("featurization", Varchar, "Featurization (run-name part)."),
        col("imputation_method", Varchar, "Imputation method (run-name part)."),
        col("outlier_method", Varchar, "Outlier-detection method (run-name part)."),
        col("n_test", Integer, "Test subjects."),
        col("n_events", Integer, "Test subjects with label 1."),
        col("n_bootstrap", Integer, "Bootstrap iterations B (retrained models)."),
    ];
    essential.extend(model_ci_columns(MetricTable::Essential));
    essential.extend(test_set_columns());

    let mut supplementary = vec![config_id()];
    supplementary.extend(model_ci_columns(MetricTable::Supplementary));

    vec![
        Table {
            name: "metadata",
            doc: "Key/value facts about the checkpoint: `schema_version`, `tool_version`, `logical_digest`, counts, and the test-set bootstrap's `test_bootstrap_seed` and `test_bootstrap_resamples`.",
            columns: vec![col("key", Varchar, "Key."), col("value", Varchar, "Value, as text.")],
            primary_key: &["key"],
        },
        Table {
            name: "essential_metrics",
            doc: "One row per included run (a configuration of outlier × imputation × featurization × classifier).",
            columns: essential,
            primary_key: &["config_id"],
        },
        Table {
            name: "predictions",
            doc: "One row per test subject per configuration.",
            columns: vec![
                col("prediction_id", Integer, "Row id, in order of (`config_id`, subject order in the run)."),
                config_id(),
                col("subject_code", Varchar, "Anonymous subject code (label prefix + number, e.g. `H001`); never an original code."),
                checked(col("y_true", Integer, "True label: 0 or 1."), "y_true IN (0, 1)"),
                col("y_prob", Double, "Mean predicted probability of label 1 over the B retrained models (p̄)."),
                opt("y_prob_std", Double, "Standard deviation (ddof 0) of the predicted probability over the B models."),
            ],
            primary_key: &["prediction_id"],
        },
        Table {
            name: "calibration_curves",
            doc: "Ten equal-width bins of p̄ per configuration: mean prediction vs observed proportion.",
            columns: vec![
                col("curve_id", Integer, "Row id, in order of (`config_id`, `bin_index`)."),
                config_id(),
                col("bin_index", Integer, "Bin 0..9."),
                col("bin_lower", Double, "Lower edge (inclusive)."),
                col("bin_upper", Double, "Upper edge (exclusive; the last bin includes 1)."),
                col("bin_midpoint", Double, "Middle of the bin."),
                opt("predicted_mean", Double, "Mean p̄ of the subjects in the bin; NULL for an empty bin."),
                opt("observed_proportion", Double, "Proportion with label 1 in the bin; NULL for an empty bin."),
                col("n_samples", Integer, "Subjects in the bin."),
            ],
            primary_key: &["curve_id"],
        },
        Table {
            name: "dca_curves",
            doc: "Decision curve per configuration at thresholds 0.01..0.50 (step 0.01).",
            columns: vec![
                col("dca_id", Integer, "Row id, in order of (`config_id`, `threshold`)."),
                config_id(),
                col("threshold", Double, "Risk threshold t."),
                col("net_benefit_model", Double, "Net benefit of treating p̄ ≥ t."),
                col("net_benefit_all", Double, "Net benefit of treating everyone: π − (1−π)·t/(1−t), not capped at 0."),
                col("net_benefit_none", Double, "Net benefit of treating no one (0)."),
                opt("sensitivity", Double, "Sensitivity of p̄ ≥ t; NULL when the test set has no label-1 subject."),
                opt("specificity", Double, "Specificity of p̄ ≥ t; NULL when the test set has no label-0 subject."),
            ],
            primary_key: &["dca_id"],
        },
        Table {
            name: "probability_distributions",
            doc: "Histogram of p̄ by true outcome: ten equal-width bins over [0, 1].",
            columns: vec![
                col("dist_id", Integer, "Row id, in order of (`config_id`, `outcome`, `bin_index`)."),
                config_id(),
                checked(col("outcome", Integer, "True label of the counted subjects."), "outcome IN (0, 1)"),
                col("bin_index", Integer, "Bin 0..9."),
                col("bin_start", Double, "Lower edge (inclusive)."),
                col("bin_end", Double, "Upper edge (exclusive; the last bin includes 1)."),
                col("count", Integer, "Subjects in the bin."),
            ],
            primary_key: &["dist_id"],
        },
        Table {
            name: "retention_metrics",
            doc: "Selective classification: metrics on the subjects with the lowest uncertainty (std of the prediction over the B models), at retention rates 0.05..1.00.",
            columns: vec![
                col("retention_id", Integer, "Row id, in order of (`config_id`, `retention_rate`, `metric_name`)."),
                config_id(),
                col("retention_rate", Double, "Fraction k/20 of subjects retained."),
                col("n_retained", Integer, "Subjects retained: min(n, max(10, ⌊n·k/20⌋))."),
                col("metric_name", Varchar, "`auroc`, `brier` (natural sign), `scaled_brier` or `net_benefit` (t = 0.15)."),
                opt("metric_value", Double, "The metric on the retained subjects; NULL when they are all of one class."),
            ],
            primary_key: &["retention_id"],
        },
        Table {
            name: "distribution_stats",
            doc: "Summary of p̄ by outcome per configuration.",
            columns: vec![
                config_id(),
                opt("auroc", Double, "AUROC of the mean prediction p̄ (differs from `essential_metrics.auroc`, the mean of per-model AUROCs). NULL with one class."),
                opt("median_cases", Double, "Median p̄ among label-1 subjects; NULL if none."),
                opt("median_controls", Double, "Median p̄ among label-0 subjects; NULL if none."),
                opt("mean_cases", Double, "Mean p̄ among label-1 subjects; NULL if none."),
                opt("mean_controls", Double, "Mean p̄ among label-0 subjects; NULL if none."),
                col("n_cases", Integer, "Label-1 subjects."),
                col("n_controls", Integer, "Label-0 subjects."),
            ],
            primary_key: &["config_id"],
        },
        Table {
            name: "supplementary_metrics",
            doc: "Threshold metrics of the hard predictions, averaged over the B iterations (appendix material).",
            columns: supplementary,
            primary_key: &["config_id"],
        },
        Table {
            name: "metric_notes",
            doc: "Why a metric is NULL, or what was left out of its CI, per configuration.",
            columns: vec![
                config_id(),
                col("metric", Varchar, "Column or metric the note is about."),
                col("reason", Varchar, "Plain-language reason."),
            ],
            primary_key: &["config_id", "metric"],
        },
        Table {
            name: "extraction_runs",
            doc: "Every run of the experiment that extraction saw, with its fate.",
            columns: vec![
                col("run_id", Varchar, "MLflow run id."),
                col("source_name", Varchar, "Full MLflow run name."),
                checked(col("status", Varchar, "`included`, `excluded` or `failed`."), "status IN ('included', 'excluded', 'failed')"),
                col("reason", Varchar, "Why excluded or failed; `included` for included runs."),
                opt("config_id", Integer, "The configuration row of an included run; NULL otherwise."),
                col("mlflow_status", Varchar, "MLflow's run status (FINISHED, FAILED, …)."),
                col("lifecycle_stage", Varchar, "MLflow's lifecycle stage (active, deleted)."),
            ],
            primary_key: &["run_id"],
        },
    ]
}

/// The table definitions as DuckDB `CREATE TABLE` statements.
pub fn ddl() -> String {
    let mut out = String::new();
    for t in tables() {
        let _ = writeln!(out, "CREATE TABLE {} (", t.name);
        for c in &t.columns {
            let null = if c.nullable { "" } else { " NOT NULL" };
            let check = c.check.map(|e| format!(" CHECK ({e})")).unwrap_or_default();
            let _ = writeln!(out, "    {} {}{null}{check},", c.name, c.ty.sql());
        }
        let _ = writeln!(out, "    PRIMARY KEY ({})\n);", t.primary_key.join(", "));
    }
    out
}

/// The data dictionary (`SCHEMA.md`): every table and column with its meaning.
pub fn data_dictionary() -> String {
    let mut out = format!(
        "# Public checkpoint: data dictionary (schema_version {SCHEMA_VERSION})\n\n\
         Generated by mlrepro from its schema module; do not edit by hand.\n\n\
         p̄ is a test subject's predicted probability averaged over the B bootstrap-retrained models;\n\
         π is the proportion of label-1 test subjects. Subject codes are anonymous.\n\n\
         Two named uncertainties. A *model-variability interval* (`<metric>_ci_lower`,\n\
         `<metric>_ci_upper`) is the 2.5–97.5 percentile range over the B models retrained on\n\
         bootstrap resamples of the training data, all scored on one fixed test set: it shows how\n\
         much the metric moves with retraining and leaves out test-set sampling. A *test-set\n\
         interval* (`<metric>_test_ci_lower`, `<metric>_test_ci_upper`) belongs to a metric of p̄\n\
         and shows how much it would move with another test set of the same size: DeLong's interval\n\
         for `auroc_pbar`, a seeded subject-level bootstrap for the others.\n"
    );
    for t in tables() {
        let _ = write!(
            out,
            "\n## `{}`\n\n{}\n\n| column | type | null | meaning |\n|---|---|---|---|\n",
            t.name, t.doc
        );
        for c in &t.columns {
            let null = if c.nullable { "yes" } else { "no" };
            let _ = writeln!(
                out,
                "| `{}` | {} | {null} | {} |",
                c.name,
                c.ty.sql(),
                c.doc.replace('|', "\\|")
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_columns_exist() {
        let tables = tables();
        let essential = tables
            .iter()
            .find(|t| t.name == "essential_metrics")
            .unwrap();
        let names: Vec<&str> = essential.columns.iter().map(|c| c.name.as_str()).collect();
        for required in [
            "config_id",
            "run_id",
            "source_name",
            "classifier",
            "featurization",
            "imputation_method",
            "outlier_method",
            "n_test",
            "n_events",
            "n_bootstrap",
            "auroc",
            "auroc_ci_lower",
            "auroc_ci_upper",
            "brier",
            "brier_ci_lower",
            "brier_ci_upper",
            "scaled_brier",
            "calibration_slope",
            "calibration_intercept",
            "calibration_in_the_large",
            "o_e_ratio",
            "net_benefit_5pct",
            "net_benefit_10pct",
            "net_benefit_15pct",
            "net_benefit_20pct",
        ] {
            assert!(names.contains(&required), "missing {required}");
        }
        for t in [
            "predictions",
            "calibration_curves",
            "dca_curves",
            "probability_distributions",
            "retention_metrics",
            "distribution_stats",
            "supplementary_metrics",
            "extraction_runs",
            "metadata",
            "metric_notes",
        ] {
            assert!(tables.iter().any(|x| x.name == t), "missing table {t}");
        }
    }

    #[test]
    fn column_names_are_unique_and_keys_exist() {
        for t in tables() {
            let mut seen = std::collections::BTreeSet::new();
            for c in &t.columns {
                assert!(seen.insert(c.name.clone()), "{}.{} twice", t.name, c.name);
            }
            for k in t.primary_key {
                assert!(seen.contains(*k), "{}: key {k} is not a column", t.name);
            }
        }
    }

    #[test]
    fn ddl_has_no_real_columns() {
        assert!(!ddl().contains(" REAL"));
    }
}
