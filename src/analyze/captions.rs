//! The parts of table captions that come from the checkpoint and the config: the size of the
//! test set and the number of bootstrap models, and the definitions of the method
//! abbreviations a table uses.

use std::collections::BTreeSet;

use anyhow::{bail, Result};
use polars::prelude::DataFrame;

use super::frames::ints;
use super::latex::escape;
use super::methods;
use crate::config::Config as Settings;

/// The smallest and largest value of a per-configuration count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent(pub i64, pub i64);

impl std::fmt::Display for Extent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0 == self.1 {
            write!(f, "{}", self.0)
        } else {
            write!(f, "{}--{}", self.0, self.1)
        }
    }
}

/// The test set and bootstrap sizes over the configurations of the checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    /// Test-set subjects (`n_test`).
    pub subjects: Extent,
    /// Test-set subjects with the event (`n_events`).
    pub events: Extent,
    /// Bootstrap models per configuration (`n_bootstrap`).
    pub models: Extent,
}

impl Sizes {
    /// The sizes recorded in `essential_metrics`.
    pub fn from_frame(essential: &DataFrame) -> Result<Self> {
        let span = |column: &str| -> Result<Extent> {
            let values: Vec<i64> = ints(essential, column)?
                .into_iter()
                .flatten()
                .map(i64::from)
                .collect();
            match (values.iter().min(), values.iter().max()) {
                (Some(lo), Some(hi)) => Ok(Extent(*lo, *hi)),
                _ => bail!("`essential_metrics.{column}` has no value"),
            }
        };
        Ok(Self {
            subjects: span("n_test")?,
            events: span("n_events")?,
            models: span("n_bootstrap")?,
        })
    }

    /// The caption sentence giving the sizes.
    pub fn sentence(&self) -> String {
        format!(
            "Test set of {} subjects, {} with the event; $B = {}$ bootstrap models per configuration.",
            self.subjects, self.events, self.models
        )
    }
}

/// The caption sentence defining the abbreviations `terms` (pairs of abbreviation and
/// meaning, already escaped), in their order, then those of the methods `used` (pairs of
/// factor column and method name) in alphabetical order: every method whose label differs
/// from its display name, once. Empty when there is nothing to define.
pub fn abbreviations(settings: &Settings, terms: &[(&str, &str)], used: &[(&str, &str)]) -> String {
    let mut abbreviated: BTreeSet<(String, String)> = BTreeSet::new();
    for (factor, level) in used {
        let st = methods::factor_style(settings, factor);
        let (label, display) = (methods::label(st, level), methods::display(st, level));
        if label != display {
            abbreviated.insert((escape(&label), escape(&display)));
        }
    }
    let list: Vec<String> = terms
        .iter()
        .map(|(a, m)| format!("{a}, {m}"))
        .chain(abbreviated.into_iter().map(|(a, m)| format!("{a}, {m}")))
        .collect();
    if list.is_empty() {
        return String::new();
    }
    format!("Abbreviations: {}.", list.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_of_one_value_prints_once() {
        assert_eq!(Extent(63, 63).to_string(), "63");
        assert_eq!(Extent(60, 63).to_string(), "60--63");
    }

    #[test]
    fn methods_with_an_abbreviation_are_defined_once_and_escaped() {
        let settings = Settings::parse(
            "methods:\n  outlier:\n    names:\n      pupil-gt: {display: Ground truth, abbreviation: GT}\n      a_b: {display: A & B, abbreviation: A_B}\n  imputation:\n    names:\n      pupil-gt: {display: Ground truth, abbreviation: GT}\n",
            std::path::Path::new("test.yaml"),
        )
        .unwrap();
        let text = abbreviations(
            &settings,
            &[("O:E", "observed:expected ratio")],
            &[
                ("outlier_method", "pupil-gt"),
                ("imputation_method", "pupil-gt"),
                ("outlier_method", "a_b"),
                ("outlier_method", "LOF"),
            ],
        );
        assert_eq!(
            text,
            "Abbreviations: O:E, observed:expected ratio; A\\_B, A \\& B; GT, Ground truth."
        );
        assert_eq!(abbreviations(&settings, &[], &[]), "");
    }
}
