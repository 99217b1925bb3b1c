//! The extractor's identity: a SHA-256 of the metric catalog and of the source of the code
//! that turns a run's decoded pickle into its cached rows.
//!
//! It is part of every run's input digest ([`super::inputs`]), of the stat cache's context for
//! those digests, and of the `extract` step's key, so editing a metric, its declaration or the
//! code that computes, decodes or caches a run recomputes every run, and nothing else does.

use std::sync::LazyLock;

use crate::base::hashing::sha256_parts;
use crate::metrics::catalog::{Computation, Estimand, Metric, CATALOG};

/// The code every run's rows depend on, beyond each metric's own code
/// ([`crate::metrics::catalog::Metric::code`]): the catalog, the shared metric code, the curves
/// and summaries, and the extraction modules that decode, compute and cache a run.
const SHARED: &[&str] = &[
    include_str!("../metrics/mod.rs"),
    include_str!("../metrics/catalog.rs"),
    include_str!("../metrics/auroc.rs"),
    include_str!("../metrics/bins.rs"),
    include_str!("../metrics/bootstrap.rs"),
    include_str!("../metrics/brier.rs"),
    include_str!("../metrics/calibration_curve.rs"),
    include_str!("../metrics/column_ci.rs"),
    include_str!("../metrics/distribution.rs"),
    include_str!("../metrics/error.rs"),
    include_str!("../metrics/evaluator.rs"),
    include_str!("../metrics/histogram.rs"),
    include_str!("../metrics/input.rs"),
    include_str!("../metrics/net_benefit.rs"),
    include_str!("../metrics/retention.rs"),
    include_str!("../metrics/rng.rs"),
    include_str!("../metrics/subject_bootstrap.rs"),
    include_str!("../metrics/summation.rs"),
    include_str!("parse/mod.rs"),
    include_str!("parse/layout.rs"),
    include_str!("parse/fields.rs"),
    include_str!("compute.rs"),
    include_str!("estimates.rs"),
    include_str!("test_set.rs"),
    include_str!("run_cache.rs"),
];

/// The extractor's identity, hex-encoded (computed once).
pub fn version() -> &'static str {
    static VERSION: LazyLock<String> = LazyLock::new(|| digest(SHARED));
    &VERSION
}

/// SHA-256 of the declarations of [`CATALOG`], `shared` and every metric's own code.
fn digest(shared: &[&'static str]) -> String {
    let declarations: Vec<String> = CATALOG.iter().map(declaration).collect();
    sha256_parts(
        declarations
            .iter()
            .map(String::as_str)
            .chain(shared.iter().copied())
            .chain(CATALOG.iter().flat_map(|m| m.code.iter().copied())),
    )
}

/// A metric's declaration as text: name, table, estimand, bounds and description.
fn declaration(m: &Metric) -> String {
    let estimand = match m.estimand {
        Estimand::PerIteration { key, check } => {
            format!("per iteration `{key}`, checked: {}", check.is_some())
        }
        Estimand::OfPbar(c) => format!("of p̄ {}", computation(c)),
        Estimand::Pbar(c, interval) => format!("p̄ only {} {interval:?}", computation(c)),
    };
    format!(
        "{} {:?} {estimand} {:?} {}",
        m.name, m.table, m.bounds, m.doc
    )
}

/// A computation as text; a function is named by the metric's code, which is hashed too.
fn computation(c: Computation) -> String {
    match c {
        Computation::Of(_) => "function".into(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editing_extraction_code_changes_the_identity() {
        assert_eq!(version(), digest(SHARED));
        assert_eq!(version().len(), 64);
        let mut edited = SHARED.to_vec();
        edited[SHARED.len() - 2] = "// an edit to test_set.rs";
        assert_ne!(digest(&edited), version());
    }
}
