//! The metric catalog: every headline metric of a run, declared once.
//!
//! An entry names the metric (its column), says where its value and intervals come from
//! ([`Estimand`]), how it is computed ([`Computation`]), its range, what it estimates (the
//! text of its column in `SCHEMA.md`), its header in the LaTeX tables if they print it, and the
//! source files of its code. The checkpoint's metric columns, their descriptions, the columns
//! extraction computes, the LaTeX headers and the extractor's identity (which decides when
//! cached runs are recomputed) are all derived from [`CATALOG`]. [`super::Evaluator`]
//! computes the declared [`Computation`]s.

use super::{auroc, brier, observed_expected_ratio, scaled_brier, MetricError};

/// The public table a metric's columns belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// `essential_metrics`.
    Essential,
    /// `supplementary_metrics`.
    Supplementary,
}

/// A metric of labels and probabilities.
pub type MetricFn = fn(&[i64], &[f64]) -> Result<f64, MetricError>;

/// How a metric is computed from labels and probabilities.
#[derive(Debug, Clone, Copy)]
pub enum Computation {
    /// A function of the labels and the probabilities.
    Of(MetricFn),
    /// The slope of the joint logistic recalibration fit (one fit serves slope and intercept).
    CalibrationSlope,
    /// The intercept of the same joint fit.
    CalibrationIntercept,
    /// The intercept of the logistic fit with logit(p) as offset.
    CalibrationInTheLarge,
    /// The net benefit at this risk threshold.
    NetBenefit(f64),
}

/// The test-set interval of a metric of the mean prediction p̄.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestInterval {
    /// DeLong's 95 % interval (the AUROC of p̄).
    DeLong,
    /// The percentile interval of the seeded subject-level bootstrap.
    Bootstrap,
}

/// Where a metric's value and its intervals come from; this decides its columns.
#[derive(Debug, Clone, Copy)]
pub enum Estimand {
    /// The mean over the B models of a value the pickle stores per iteration under `key`, with
    /// a model-variability CI over the iterations (`<name>_ci_lower`, `<name>_ci_upper`).
    /// `check`, when given, recomputes the value from each bootstrap column; a mean that
    /// differs adds a note.
    PerIteration {
        /// The key under the pickle's per-iteration test scalars.
        key: &'static str,
        /// The recomputation that cross-checks the stored values.
        check: Option<MetricFn>,
    },
    /// A metric of p̄ with a model-variability CI over the B bootstrap columns
    /// (`<name>_ci_*`) and a bootstrap test-set interval (`<name>_test_ci_*`).
    OfPbar(Computation),
    /// A metric of p̄ with a test-set interval only (`<name>_test_ci_*`), for a different
    /// estimand from a per-iteration metric of the same name.
    Pbar(Computation, TestInterval),
}

/// A metric's header in the LaTeX tables.
#[derive(Debug, Clone, Copy)]
pub struct Latex {
    /// The column header (LaTeX).
    pub header: &'static str,
    /// The header's meaning for the caption's abbreviations, where the header abbreviates.
    pub term: Option<&'static str>,
}

/// One metric: its name and everything derived from it.
#[derive(Debug, Clone, Copy)]
pub struct Metric {
    /// The metric's column; its intervals' columns append `_ci_*` or `_test_ci_*`.
    pub name: &'static str,
    /// The table of its columns.
    pub table: Table,
    /// Where its value and intervals come from.
    pub estimand: Estimand,
    /// The range of its values (unit-free), `(min, max)`; infinite where unbounded.
    pub bounds: (f64, f64),
    /// What it estimates, for `SCHEMA.md`.
    pub doc: &'static str,
    /// Its header in the LaTeX tables that print it (the STRATOS measures), in catalog order.
    pub latex: Option<Latex>,
    /// The source of its code beyond the shared metric code, part of the extractor's identity.
    pub code: &'static [&'static str],
}

const UNIT: (f64, f64) = (0.0, 1.0);
const UNBOUNDED: (f64, f64) = (f64::NEG_INFINITY, f64::INFINITY);
const AT_MOST_ONE: (f64, f64) = (f64::NEG_INFINITY, 1.0);
const CALIBRATION: &[&str] = &[include_str!("calibration.rs"), include_str!("subjects.rs")];
const IN_THE_LARGE: &[&str] = &[
    include_str!("calibration_in_the_large.rs"),
    include_str!("calibration.rs"),
    include_str!("subjects.rs"),
];
const NET_BENEFIT: &[&str] = &[include_str!("net_benefit.rs")];

/// A supplementary metric: the mean over iterations of a pickled per-iteration value.
const fn supplementary(name: &'static str, key: &'static str, doc: &'static str) -> Metric {
    Metric {
        name,
        table: Table::Supplementary,
        estimand: Estimand::PerIteration { key, check: None },
        bounds: UNIT,
        doc,
        latex: None,
        code: &[],
    }
}

/// A net benefit of p̄ at `threshold`.
const fn net_benefit_at(name: &'static str, threshold: f64, doc: &'static str) -> Metric {
    Metric {
        name,
        table: Table::Essential,
        estimand: Estimand::OfPbar(Computation::NetBenefit(threshold)),
        bounds: AT_MOST_ONE,
        doc,
        latex: None,
        code: NET_BENEFIT,
    }
}

/// Every metric, in column order within each table and section.
pub const CATALOG: &[Metric] = &[
    Metric {
        name: "auroc",
        table: Table::Essential,
        estimand: Estimand::PerIteration { key: "AUROC", check: Some(auroc) },
        bounds: UNIT,
        doc: "Mean over the B retrained models of the test AUROC (stored per-iteration values).",
        latex: None,
        code: &[include_str!("auroc.rs")],
    },
    Metric {
        name: "brier",
        table: Table::Essential,
        estimand: Estimand::PerIteration { key: "Brier", check: Some(brier) },
        bounds: UNIT,
        doc: "Mean over the B retrained models of the test Brier score (mean squared error of probabilities).",
        latex: None,
        code: &[include_str!("brier.rs")],
    },
    Metric {
        name: "auroc_pbar",
        table: Table::Essential,
        estimand: Estimand::Pbar(Computation::Of(auroc), TestInterval::DeLong),
        bounds: UNIT,
        doc: "AUROC of the mean prediction p̄ (scikit-learn's `roc_auc_score`; equals `distribution_stats.auroc`). A different estimand from `auroc`, the mean of the B models' AUROCs.",
        latex: Some(Latex { header: "AUROC", term: None }),
        code: &[include_str!("auroc.rs"), include_str!("delong.rs")],
    },
    Metric {
        name: "brier_pbar",
        table: Table::Essential,
        estimand: Estimand::Pbar(Computation::Of(brier), TestInterval::Bootstrap),
        bounds: UNIT,
        doc: "Brier score of the mean prediction p̄, mean((p̄ − y)²). A different estimand from `brier`, the mean of the B models' Brier scores.",
        latex: Some(Latex { header: "Brier", term: None }),
        code: &[include_str!("brier.rs")],
    },
    Metric {
        name: "scaled_brier",
        table: Table::Essential,
        estimand: Estimand::OfPbar(Computation::Of(scaled_brier)),
        bounds: AT_MOST_ONE,
        doc: "Index of prediction accuracy 1 − Brier(p̄)/(π(1−π)) of the mean prediction p̄.",
        latex: Some(Latex { header: "sBrier", term: Some("scaled Brier score, 1 $-$ Brier/($\\pi(1-\\pi)$)") }),
        code: &[include_str!("brier.rs")],
    },
    Metric {
        name: "calibration_slope",
        table: Table::Essential,
        estimand: Estimand::OfPbar(Computation::CalibrationSlope),
        bounds: UNBOUNDED,
        doc: "Slope β of the unpenalized logistic fit logit P(y=1) = α + β·logit(p̄) (p̄ clipped to [1e-10, 1−1e-10]); 1 is ideal.",
        latex: Some(Latex { header: "Slope", term: Some("calibration slope") }),
        code: CALIBRATION,
    },
    Metric {
        name: "calibration_intercept",
        table: Table::Essential,
        estimand: Estimand::OfPbar(Computation::CalibrationIntercept),
        bounds: UNBOUNDED,
        doc: "Intercept α of the same joint fit (not calibration-in-the-large).",
        latex: None,
        code: CALIBRATION,
    },
    Metric {
        name: "calibration_in_the_large",
        table: Table::Essential,
        estimand: Estimand::OfPbar(Computation::CalibrationInTheLarge),
        bounds: UNBOUNDED,
        doc: "Intercept of the logistic fit with logit(p̄) as offset (slope fixed at 1); 0 is ideal.",
        latex: Some(Latex { header: "CITL", term: Some("calibration-in-the-large (0 is ideal)") }),
        code: IN_THE_LARGE,
    },
    Metric {
        name: "o_e_ratio",
        table: Table::Essential,
        estimand: Estimand::OfPbar(Computation::Of(observed_expected_ratio)),
        bounds: (0.0, f64::INFINITY),
        doc: "Observed/expected events: mean(y) / mean(p̄); 1 is ideal.",
        latex: Some(Latex { header: "O:E", term: Some("observed:expected ratio") }),
        code: IN_THE_LARGE,
    },
    net_benefit_at("net_benefit_5pct", 0.05, "Net benefit TP/n − FP/n · t/(1−t) at threshold t = 0.05 (positive: p̄ ≥ t)."),
    net_benefit_at("net_benefit_10pct", 0.10, "Net benefit at threshold t = 0.10."),
    Metric {
        latex: Some(Latex { header: "NB$_{15}$", term: Some("net benefit at a 15\\% risk threshold") }),
        ..net_benefit_at("net_benefit_15pct", 0.15, "Net benefit at threshold t = 0.15.")
    },
    net_benefit_at("net_benefit_20pct", 0.20, "Net benefit at threshold t = 0.20."),
    supplementary("f1_score", "F1", "Mean over iterations of the test F1 score (pickle key `F1`)."),
    supplementary("aupr", "AUPR", "Mean over iterations of the test area under the precision-recall curve (pickle key `AUPR`)."),
    supplementary("sensitivity", "sensitivity", "Mean over iterations of the test sensitivity (pickle key `sensitivity`)."),
    supplementary("specificity", "specificity", "Mean over iterations of the test specificity (pickle key `specificity`)."),
    supplementary("ppv", "PPV", "Mean over iterations of the test positive predictive value (pickle key `PPV`)."),
    supplementary("npv", "NPV", "Mean over iterations of the test negative predictive value (pickle key `NPV`)."),
    supplementary("accuracy", "accuracy", "Mean over iterations of the test accuracy (pickle key `accuracy`)."),
];

impl Metric {
    /// Whether it has a model-variability CI (`<name>_ci_lower`, `<name>_ci_upper`) beside its
    /// value.
    pub fn has_model_ci(&self) -> bool {
        matches!(
            self.estimand,
            Estimand::PerIteration { .. } | Estimand::OfPbar(_)
        )
    }

    /// How it is computed on p̄ and on the test-set resamples, for a metric of p̄.
    pub fn of_pbar(&self) -> Option<Computation> {
        match self.estimand {
            Estimand::OfPbar(c) | Estimand::Pbar(c, _) => Some(c),
            Estimand::PerIteration { .. } => None,
        }
    }

    /// Its test-set interval, for a metric of p̄.
    pub fn test_interval(&self) -> Option<TestInterval> {
        match self.estimand {
            Estimand::OfPbar(_) => Some(TestInterval::Bootstrap),
            Estimand::Pbar(_, interval) => Some(interval),
            Estimand::PerIteration { .. } => None,
        }
    }
}

/// The columns of the model-variability CI of metric `name`: `<name>_ci_lower` and
/// `<name>_ci_upper`.
pub fn model_ci_columns(name: &str) -> [String; 2] {
    [format!("{name}_ci_lower"), format!("{name}_ci_upper")]
}

/// The columns of the test-set interval of metric `name`: `<name>_test_ci_lower` and
/// `<name>_test_ci_upper`.
pub fn test_ci_columns(name: &str) -> [String; 2] {
    [
        format!("{name}_test_ci_lower"),
        format!("{name}_test_ci_upper"),
    ]
}

/// The metrics of `table` that have a model-variability CI, in catalog order.
pub fn with_model_ci(table: Table) -> impl Iterator<Item = &'static Metric> {
    CATALOG
        .iter()
        .filter(move |m| m.table == table && m.has_model_ci())
}

/// The metrics of p̄ whose value is a column of its own only with a test-set interval
/// ([`Estimand::Pbar`]), in catalog order, with their computation and interval.
pub fn pbar_only() -> impl Iterator<Item = (&'static Metric, Computation, TestInterval)> {
    CATALOG.iter().filter_map(|m| match m.estimand {
        Estimand::Pbar(c, interval) => Some((m, c, interval)),
        _ => None,
    })
}

/// The metrics of p̄ with both a model-variability CI and a test-set interval
/// ([`Estimand::OfPbar`]), in catalog order.
pub fn with_both_intervals() -> impl Iterator<Item = &'static Metric> {
    CATALOG
        .iter()
        .filter(|m| matches!(m.estimand, Estimand::OfPbar(_)))
}

/// The metrics of p̄ with a bootstrap test-set interval, in catalog order.
pub fn test_bootstrapped() -> impl Iterator<Item = &'static Metric> {
    CATALOG
        .iter()
        .filter(|m| m.test_interval() == Some(TestInterval::Bootstrap))
}

/// The metrics with a header in the LaTeX tables, in catalog order, with the header.
pub fn latex() -> impl Iterator<Item = (&'static Metric, &'static Latex)> {
    CATALOG
        .iter()
        .filter_map(|m| m.latex.as_ref().map(|l| (m, l)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_columns_do_not_collide() {
        let mut columns = std::collections::BTreeSet::new();
        for m in CATALOG {
            let mut own = vec![m.name.to_string()];
            if m.has_model_ci() {
                own.extend(model_ci_columns(m.name));
            }
            if m.test_interval().is_some() {
                own.extend(test_ci_columns(m.name));
            }
            for c in own {
                assert!(
                    columns.insert((m.table == Table::Essential, c.clone())),
                    "{c} twice"
                );
            }
        }
    }

    #[test]
    fn metrics_of_pbar_are_essential() {
        // Their test-set intervals are columns of `essential_metrics`.
        for m in CATALOG.iter().filter(|m| m.test_interval().is_some()) {
            assert_eq!(m.table, Table::Essential, "{}", m.name);
        }
    }
}
