//! [`Subjects`]: what a logistic fit of [`super::calibration`] or
//! [`super::calibration_in_the_large`] sums over, so that one solver serves both all the
//! subjects in order and a test-set resample.
//!
//! A fit sums one term per subject, in order, from the subject's label, its regressor (logit
//! or odds) and values that depend on the subject alone (an exponential, a reciprocal). Those
//! values live in a table read through [`Subjects::entry`]: for a resample, one entry per test
//! subject, so a subject drawn twice costs one exponential, not two. The terms and their order
//! do not change, so neither does any sum, to the last bit.

use super::subject_bootstrap::Resample;

/// The subjects of one fit (see the module documentation).
pub(super) trait Subjects {
    /// The labels, in summation order.
    fn labels(&self) -> &[i64];
    /// The regressors, in summation order.
    fn values(&self) -> &[f64];
    /// The length of a table of per-subject values.
    fn table_len(&self) -> usize;
    /// The table entry of the `i`-th term.
    fn entry(&self, i: usize) -> usize;
    /// Sets each used entry of `table` to `f` of its subject's regressor.
    fn fill(&self, table: &mut [f64], f: impl Fn(f64) -> f64);
    /// Sets each used entry of `out` to `f` of the same entry of `table`.
    fn map(&self, table: &[f64], out: &mut [f64], f: impl Fn(f64) -> f64);
}

/// Every subject once, in order: entry `i` is the `i`-th subject.
pub(super) struct InOrder<'a> {
    /// The labels.
    pub y: &'a [i64],
    /// The regressors.
    pub values: &'a [f64],
}

impl Subjects for InOrder<'_> {
    fn labels(&self) -> &[i64] {
        self.y
    }

    fn values(&self) -> &[f64] {
        self.values
    }

    fn table_len(&self) -> usize {
        self.values.len()
    }

    fn entry(&self, i: usize) -> usize {
        i
    }

    fn fill(&self, table: &mut [f64], f: impl Fn(f64) -> f64) {
        for (t, &v) in table.iter_mut().zip(self.values) {
            *t = f(v);
        }
    }

    fn map(&self, table: &[f64], out: &mut [f64], f: impl Fn(f64) -> f64) {
        for (o, &t) in out.iter_mut().zip(table) {
            *o = f(t);
        }
    }
}

/// A test-set resample: one table entry per test subject, used only for the subjects drawn.
pub(super) struct Drawn<'a> {
    resample: &'a Resample<'a>,
    /// The regressor of each drawn subject, in draw order.
    values: &'a [f64],
    /// The regressor of every test subject.
    subject_values: &'a [f64],
}

impl<'a> Drawn<'a> {
    /// The resample with the logits as regressor.
    pub(super) fn logits(resample: &'a Resample<'a>) -> Self {
        Self {
            resample,
            values: resample.logits,
            subject_values: resample.subject_logits,
        }
    }

    /// The resample with the odds as regressor.
    pub(super) fn odds(resample: &'a Resample<'a>) -> Self {
        Self {
            resample,
            values: resample.odds,
            subject_values: resample.subject_odds,
        }
    }
}

impl Subjects for Drawn<'_> {
    fn labels(&self) -> &[i64] {
        self.resample.y
    }

    fn values(&self) -> &[f64] {
        self.values
    }

    fn table_len(&self) -> usize {
        self.subject_values.len()
    }

    fn entry(&self, i: usize) -> usize {
        self.resample.drawn[i]
    }

    fn fill(&self, table: &mut [f64], f: impl Fn(f64) -> f64) {
        for &j in self.resample.distinct {
            table[j] = f(self.subject_values[j]);
        }
    }

    fn map(&self, table: &[f64], out: &mut [f64], f: impl Fn(f64) -> f64) {
        for &j in self.resample.distinct {
            out[j] = f(table[j]);
        }
    }
}
