//! [`MetricError`]: why a metric has no value for the given input.

use std::fmt;

/// Why a metric could not be computed; returned instead of a number so that no value is made
/// up and no NaN slips into the checkpoint.
///
/// The variants split into two groups. *Input errors* (wrong lengths, labels that are not 0/1,
/// probabilities that are not finite or outside [0, 1]) mean the data is broken. *Degenerate
/// inputs* ([`MetricError::is_degenerate`]) are valid data on which the metric is undefined,
/// such as a single class; a bootstrap column with such a reason is left out and counted.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricError {
    /// There are no subjects at all.
    Empty,
    /// The label and probability (or uncertainty) slices differ in length.
    LengthMismatch {
        /// Number of labels.
        labels: usize,
        /// Number of values paired with them.
        values: usize,
    },
    /// A label is neither 0 nor 1.
    LabelNotBinary {
        /// Position of the label.
        index: usize,
        /// The offending label.
        value: i64,
    },
    /// A probability is NaN or infinite.
    ProbabilityNotFinite {
        /// Position of the probability.
        index: usize,
    },
    /// A probability is finite but below 0 or above 1.
    ProbabilityOutOfRange {
        /// Position of the probability.
        index: usize,
        /// The offending probability.
        value: f64,
    },
    /// A per-subject uncertainty is NaN, infinite or negative.
    InvalidUncertainty {
        /// Position of the uncertainty.
        index: usize,
    },
    /// A decision threshold is not strictly between 0 and 1.
    ThresholdOutOfRange {
        /// The offending threshold.
        threshold: f64,
    },
    /// A row-major probability matrix does not have `rows × columns` elements.
    MatrixShape {
        /// Number of elements in the matrix slice.
        len: usize,
        /// Expected number of rows (subjects).
        rows: usize,
        /// Expected number of columns (bootstrap iterations).
        columns: usize,
    },
    /// Only one outcome class is present, so the metric is undefined.
    SingleClass,
    /// The outcome is perfectly separated by logit(p), so the logistic MLE does not exist.
    PerfectlySeparated,
    /// All predictions are equal, so a slope cannot be estimated.
    NoVariance,
    /// A class has fewer than two subjects, so DeLong's variance is undefined.
    TooFewPerClass,
    /// The logistic fit did not reach its tolerance within its iteration cap.
    NotConverged {
        /// Number of Newton iterations performed.
        iterations: usize,
    },
    /// An input error inside one column of a bootstrap matrix.
    InColumn {
        /// Zero-based column (bootstrap iteration).
        column: usize,
        /// What was wrong in that column.
        reason: Box<MetricError>,
    },
}

impl MetricError {
    /// Whether the input is valid but the metric is undefined on it (single class, perfect
    /// separation, no variance, too few subjects of a class, no convergence), as opposed to broken input data.
    pub fn is_degenerate(&self) -> bool {
        matches!(
            self,
            Self::SingleClass
                | Self::PerfectlySeparated
                | Self::NoVariance
                | Self::TooFewPerClass
                | Self::NotConverged { .. }
        )
    }
}

impl fmt::Display for MetricError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "no subjects"),
            Self::LengthMismatch { labels, values } => {
                write!(f, "{labels} labels but {values} values to pair them with")
            }
            Self::LabelNotBinary { index, value } => {
                write!(f, "label {value} at index {index} is not 0 or 1")
            }
            Self::ProbabilityNotFinite { index } => {
                write!(f, "probability is not finite at index {index}")
            }
            Self::ProbabilityOutOfRange { index, value } => {
                write!(f, "probability out of [0, 1] at index {index} ({value})")
            }
            Self::InvalidUncertainty { index } => {
                write!(
                    f,
                    "uncertainty is not a finite non-negative number at index {index}"
                )
            }
            Self::ThresholdOutOfRange { threshold } => {
                write!(f, "threshold {threshold} is not strictly between 0 and 1")
            }
            Self::MatrixShape { len, rows, columns } => write!(
                f,
                "probability matrix has {len} values, expected {rows} rows × {columns} columns"
            ),
            Self::SingleClass => write!(f, "single class in test labels"),
            Self::PerfectlySeparated => write!(f, "perfectly separated"),
            Self::NoVariance => write!(f, "no variance in predictions"),
            Self::TooFewPerClass => write!(f, "fewer than 2 subjects of a class"),
            Self::NotConverged { iterations } => {
                write!(
                    f,
                    "logistic fit did not converge in {iterations} iterations"
                )
            }
            Self::InColumn { column, reason } => write!(f, "bootstrap column {column}: {reason}"),
        }
    }
}

impl std::error::Error for MetricError {}
