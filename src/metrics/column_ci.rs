//! [`per_column`]: a metric over every bootstrap column of a probability matrix, with the
//! degenerate columns left out and counted, ready for [`percentile_ci`].

use super::bootstrap::{nanmean, percentile_ci};
use super::input::count_classes;
use super::MetricError;

/// Values of one metric over the columns of a bootstrap matrix (or over test-set resamples,
/// [`super::subject_bootstrap`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnMetric {
    /// The metric of every column it is defined for, in column order.
    pub values: Vec<f64>,
    /// Columns left out, by reason (a degenerate [`MetricError`]), in order of first occurrence.
    pub left_out: Vec<(MetricError, usize)>,
}

impl ColumnMetric {
    /// Number of columns left out, over all reasons.
    pub fn left_out_count(&self) -> usize {
        self.left_out.iter().map(|(_, count)| count).sum()
    }

    /// Percentile 95 % interval over the kept columns; `None` for fewer than two values or
    /// zero spread (see [`percentile_ci`]).
    pub fn ci(&self) -> Option<(f64, f64)> {
        percentile_ci(&self.values)
    }

    /// Mean over the kept columns (`numpy.nanmean`); `None` when no column was kept.
    pub fn mean(&self) -> Option<f64> {
        nanmean(&self.values)
    }
}

/// Applies `metric` to every column of the row-major `rows × columns` matrix `matrix` (row i =
/// subject i, column b = bootstrap model b) against the labels `y`.
///
/// A column whose metric fails with a degenerate reason ([`MetricError::is_degenerate`]: single
/// class, separation, no variance, no convergence) is left out and counted; any other error is
/// broken input and is returned as [`MetricError::InColumn`]. One column buffer is reused.
pub fn per_column<F>(
    y: &[i64],
    matrix: &[f64],
    columns: usize,
    mut metric: F,
) -> Result<ColumnMetric, MetricError>
where
    F: FnMut(&[i64], &[f64]) -> Result<f64, MetricError>,
{
    let mut per_metric = per_column_each(y, matrix, columns, 1, |y, p| vec![metric(y, p)])?;
    per_metric.remove(0)
}

/// [`per_column`] for `metrics` metrics computed together on each column (so that they can
/// share work, such as a fit's coefficients): `metric` returns one result per metric, in
/// order. Each metric gets its own [`ColumnMetric`], or its own [`MetricError::InColumn`] at
/// the first column where it fails with broken input; a matrix of the wrong shape fails them
/// all.
pub fn per_column_each<F>(
    y: &[i64],
    matrix: &[f64],
    columns: usize,
    metrics: usize,
    mut metric: F,
) -> Result<Vec<Result<ColumnMetric, MetricError>>, MetricError>
where
    F: FnMut(&[i64], &[f64]) -> Vec<Result<f64, MetricError>>,
{
    let rows = count_classes(y)?.n();
    if rows.checked_mul(columns) != Some(matrix.len()) {
        return Err(MetricError::MatrixShape {
            len: matrix.len(),
            rows,
            columns,
        });
    }
    let mut column_values = vec![0.0; rows];
    let mut collected: Vec<Result<Collected, MetricError>> =
        (0..metrics).map(|_| Ok(Collected::new(columns))).collect();
    for column in 0..columns {
        for (row, value) in column_values.iter_mut().enumerate() {
            *value = matrix[row * columns + column];
        }
        for (slot, result) in collected.iter_mut().zip(metric(y, &column_values)) {
            if let Ok(c) = slot {
                if let Err(reason) = c.add(result) {
                    *slot = Err(MetricError::InColumn {
                        column,
                        reason: Box::new(reason),
                    });
                }
            }
        }
    }
    Ok(collected
        .into_iter()
        .map(|c| c.map(Collected::finish))
        .collect())
}

/// The values of one metric computed on many samples (bootstrap columns or resamples), with
/// the samples left out for a degenerate reason counted.
pub(crate) struct Collected {
    values: Vec<f64>,
    left_out: Vec<(MetricError, usize)>,
}

impl Collected {
    /// Room for `samples` values.
    pub(crate) fn new(samples: usize) -> Self {
        Self {
            values: Vec::with_capacity(samples),
            left_out: Vec::new(),
        }
    }

    /// Adds one sample's result: its value, or a degenerate reason counted; any other error
    /// (broken input) is returned.
    pub(crate) fn add(&mut self, result: Result<f64, MetricError>) -> Result<(), MetricError> {
        match result {
            Ok(value) => {
                self.values.push(value);
                Ok(())
            }
            Err(reason) if reason.is_degenerate() => {
                match self.left_out.iter_mut().find(|(seen, _)| *seen == reason) {
                    Some((_, count)) => *count += 1,
                    None => self.left_out.push((reason, 1)),
                }
                Ok(())
            }
            Err(reason) => Err(reason),
        }
    }

    /// The metric's values and the samples left out.
    pub(crate) fn finish(self) -> ColumnMetric {
        ColumnMetric {
            values: self.values,
            left_out: self.left_out,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{auroc, brier, calibration_slope_intercept};

    /// Row-major 4 × 3 matrix: column 0 ranks perfectly, column 1 is constant, column 2 is
    /// reversed.
    const Y: [i64; 4] = [0, 0, 1, 1];
    const MATRIX: [f64; 12] = [
        0.1, 0.5, 0.9, //
        0.2, 0.5, 0.8, //
        0.7, 0.5, 0.3, //
        0.8, 0.5, 0.2, //
    ];

    #[test]
    fn reads_columns_of_a_row_major_matrix() {
        let aurocs = per_column(&Y, &MATRIX, 3, auroc).unwrap();
        assert_eq!(aurocs.values, [1.0, 0.5, 0.0]);
        assert_eq!(aurocs.left_out_count(), 0);
        // np.nanpercentile([1.0, 0.5, 0.0], [2.5, 97.5]) == [0.025, 0.975]
        assert_eq!(aurocs.ci(), Some((0.025, 0.975)));
        assert_eq!(aurocs.mean(), Some(0.5));
        let briers = per_column(&Y, &MATRIX, 3, brier).unwrap();
        assert_eq!(briers.values[1], 0.25);
    }

    #[test]
    fn degenerate_columns_are_counted_by_reason() {
        let slopes = per_column(&Y, &MATRIX, 3, |y, p| {
            calibration_slope_intercept(y, p).map(|fit| fit.slope)
        })
        .unwrap();
        assert!(slopes.values.is_empty());
        assert_eq!(
            slopes.left_out,
            [
                (MetricError::PerfectlySeparated, 2),
                (MetricError::NoVariance, 1)
            ]
        );
        assert_eq!(slopes.left_out_count(), 3);
        assert_eq!(slopes.ci(), None);
        assert_eq!(slopes.mean(), None);

        // Labels of one class leave out every column of a metric that needs both.
        let single = per_column(&[1, 1], &[0.2, 0.3, 0.4, 0.5], 2, auroc).unwrap();
        assert_eq!(single.left_out, [(MetricError::SingleClass, 2)]);
    }

    #[test]
    fn several_metrics_per_column_are_collected_each_on_its_own() {
        let each =
            per_column_each(&Y, &MATRIX, 3, 2, |y, p| vec![auroc(y, p), brier(y, p)]).unwrap();
        assert_eq!(each[0], per_column(&Y, &MATRIX, 3, auroc));
        assert_eq!(each[1], per_column(&Y, &MATRIX, 3, brier));
        let mut matrix = MATRIX;
        matrix[2 * 3 + 2] = f64::NAN;
        let each = per_column_each(&Y, &matrix, 3, 2, |y, p| {
            vec![Ok(p.len() as f64), brier(y, p)]
        })
        .unwrap();
        assert_eq!(each[0].as_ref().unwrap().values, [4.0, 4.0, 4.0]);
        assert!(matches!(
            each[1],
            Err(MetricError::InColumn { column: 2, .. })
        ));
    }

    #[test]
    fn broken_input_names_the_column() {
        let mut matrix = MATRIX;
        matrix[2 * 3 + 2] = f64::NAN;
        let err = per_column(&Y, &matrix, 3, brier).unwrap_err();
        assert_eq!(
            err.to_string(),
            "bootstrap column 2: probability is not finite at index 2"
        );
        assert_eq!(
            per_column(&Y, &MATRIX, 4, brier),
            Err(MetricError::MatrixShape {
                len: 12,
                rows: 4,
                columns: 4
            })
        );
    }
}
