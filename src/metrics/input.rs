//! Input validation shared by the metrics: labels are 0/1, probabilities finite and in [0, 1].

use super::MetricError;

/// Subject counts by outcome, produced by [`validate`] for inputs that passed validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassCounts {
    /// Number of subjects with label 1 (cases).
    pub cases: usize,
    /// Number of subjects with label 0 (controls).
    pub controls: usize,
}

impl ClassCounts {
    /// Total number of subjects.
    pub fn n(self) -> usize {
        self.cases + self.controls
    }

    /// Prevalence `cases / n`, bit-identical to numpy's mean of the 0/1 labels.
    pub fn prevalence(self) -> f64 {
        self.cases as f64 / self.n() as f64
    }

    /// Returns the counts when both classes are present, else [`MetricError::SingleClass`].
    pub(crate) fn require_both(self) -> Result<Self, MetricError> {
        if self.cases == 0 || self.controls == 0 {
            Err(MetricError::SingleClass)
        } else {
            Ok(self)
        }
    }
}

/// Checks that `y` and `p` pair up, are non-empty, that every label is 0 or 1 and every
/// probability finite and in [0, 1]; returns the class counts.
pub fn validate(y: &[i64], p: &[f64]) -> Result<ClassCounts, MetricError> {
    if y.len() != p.len() {
        return Err(MetricError::LengthMismatch {
            labels: y.len(),
            values: p.len(),
        });
    }
    check_probabilities(p)?;
    count_classes(y)
}

/// Checks that every label is 0 or 1 and that there is at least one; returns the class counts.
pub(crate) fn count_classes(y: &[i64]) -> Result<ClassCounts, MetricError> {
    if y.is_empty() {
        return Err(MetricError::Empty);
    }
    let mut cases = 0;
    for (index, &value) in y.iter().enumerate() {
        match value {
            0 => {}
            1 => cases += 1,
            _ => return Err(MetricError::LabelNotBinary { index, value }),
        }
    }
    Ok(ClassCounts {
        cases,
        controls: y.len() - cases,
    })
}

/// Checks that every probability is finite and in [0, 1].
fn check_probabilities(p: &[f64]) -> Result<(), MetricError> {
    for (index, &value) in p.iter().enumerate() {
        if !value.is_finite() {
            return Err(MetricError::ProbabilityNotFinite { index });
        }
        if !(0.0..=1.0).contains(&value) {
            return Err(MetricError::ProbabilityOutOfRange { index, value });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_classes_and_prevalence() {
        let counts = validate(&[0, 1, 1, 0, 1], &[0.0, 1.0, 0.5, 0.2, 0.9]).unwrap();
        assert_eq!(
            counts,
            ClassCounts {
                cases: 3,
                controls: 2
            }
        );
        assert_eq!(counts.n(), 5);
        assert_eq!(counts.prevalence(), 0.6);
    }

    #[test]
    fn rejects_broken_inputs_with_the_position() {
        assert_eq!(validate(&[], &[]), Err(MetricError::Empty));
        assert_eq!(
            validate(&[0, 1], &[0.5]),
            Err(MetricError::LengthMismatch {
                labels: 2,
                values: 1
            })
        );
        assert_eq!(
            validate(&[0, 2], &[0.5, 0.5]),
            Err(MetricError::LabelNotBinary { index: 1, value: 2 })
        );
        assert_eq!(
            validate(&[0, 1], &[0.5, f64::NAN]),
            Err(MetricError::ProbabilityNotFinite { index: 1 })
        );
        let err = validate(
            &[0, 1, 1, 0, 1, 0, 1, 0],
            &[0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1.5],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "probability out of [0, 1] at index 7 (1.5)"
        );
    }

    #[test]
    fn single_class_is_degenerate_not_broken() {
        let counts = validate(&[1, 1], &[0.2, 0.3]).unwrap();
        let err = counts.require_both().unwrap_err();
        assert_eq!(err, MetricError::SingleClass);
        assert!(err.is_degenerate());
        assert_eq!(err.to_string(), "single class in test labels");
        assert!(!MetricError::Empty.is_degenerate());
    }
}
