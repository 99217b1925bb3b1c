//! The metrics-pickle layout: the key paths extraction decodes, and the layout's keys, the
//! only keys an error may show as text.

/// The key paths decoded from each pickle; everything else is skipped.
pub const SELECTED_PATHS: [&str; 3] = [
    "subjectwise_stats.test",
    "metrics_iter.test.metrics.scalars",
    "metrics_iter.test.preds.arrays.predictions.y_pred_proba",
];

/// Every dict key of the metrics-pickle layout (reference-pipeline.md §2.2), the only keys an
/// error may show as text.
pub const LAYOUT_KEYS: &[&str] = &[
    // Sections and splits.
    "metrics_iter",
    "metrics_stats",
    "subjectwise_stats",
    "subject_global_stats",
    "train",
    "val",
    "test",
    // `metrics_iter` and `metrics_stats`.
    "metrics",
    "scalars",
    "arrays",
    "preds",
    "predictions",
    "preds_dict",
    "y_pred_proba",
    "y_pred",
    "label",
    "n",
    "mean",
    "std",
    "ci",
    // Metric names.
    "AUROC",
    "AUPR",
    "F1",
    "sensitivity",
    "specificity",
    "PPV",
    "NPV",
    "accuracy",
    "accuracy_balanced",
    "PPV_prev",
    "NPV_prev",
    "tpAUC",
    "Brier",
    "ECE",
    // Curves.
    "fpr",
    "tpr",
    "thresholds",
    "recall",
    "precision",
    "calibration_curve",
    "prob_pred",
    "prob_true",
    // `subjectwise_stats` and `subject_global_stats` (labels 0 and 1 key the latter).
    "subject_code",
    "labels",
    "confidence",
    "entropy_of_expected",
    "expected_entropy",
    "mutual_information",
    "uq",
    "entropy",
    "MI",
    "AURC",
    "AURC_E",
    "coverage",
    "risk",
    "0",
    "1",
];

/// The test subjects' codes, one per subject.
pub(super) const CODES: &str = "subjectwise_stats.test.subject_code";
/// Their labels.
pub(super) const LABELS: &str = "subjectwise_stats.test.labels";
/// Their mean predicted probability over the B models.
pub(super) const PROB_MEAN: &str = "subjectwise_stats.test.preds.y_pred_proba.mean";
/// Its standard deviation over the B models.
pub(super) const PROB_STD: &str = "subjectwise_stats.test.preds.y_pred_proba.std";
/// The per-iteration test metrics, by name.
pub(super) const SCALARS: &str = "metrics_iter.test.metrics.scalars";
/// The n × B matrix of predicted probabilities.
pub(super) const MATRIX: &str = "metrics_iter.test.preds.arrays.predictions.y_pred_proba";
