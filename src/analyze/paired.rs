//! Paired comparisons against a reference configuration: for every other configuration, the
//! paired DeLong test of its AUROC of the mean prediction p̄ against the reference's, on the
//! test subjects both were scored on (rows of `predictions` matched by `subject_code`), with
//! Holm's adjustment over all comparisons. Written as `paired_comparisons.tex` and `.json`,
//! and summarized in `numbers.tex`.
//!
//! The reference is `analysis.reference_config` (a `source_name`), else the configuration
//! with the best `auroc_pbar` that uses no oracle method (`analysis.oracle_categories`).

use std::collections::HashMap;

use anyhow::{anyhow, bail, Result};
use serde::Serialize;
use serde_json::{json, Value};

use super::captions::Sizes;
use super::frames::{floats, ints, strings, Checkpoint};
use super::latex::{defined, escape, fmt, methods_of, p_value, pipeline_label, AUROC, CI};
use super::methods;
use super::pbar::{self, Ranked};
use super::sidecar::Provenance;
use super::stats::FACTORS;
use super::tabular::{caption, table, Col};
use crate::config::Config as Settings;
use crate::error::Error;
use crate::metrics;

/// The family-wise error rate at which Holm-adjusted p-values are called significant.
pub const ALPHA: f64 = 0.05;

/// The reference configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reference {
    /// `config_id`.
    pub config_id: i32,
    /// The run name.
    pub source_name: String,
    /// Short pipeline label (outlier + imputation, classifier, featurization).
    pub pipeline: String,
    /// Its method of each factor, in [`FACTORS`] order.
    #[serde(skip)]
    pub levels: [String; 4],
    /// `auroc_pbar` on all its test subjects.
    pub auroc_pbar: Option<f64>,
    /// Its DeLong 95 % interval, lower bound.
    pub ci_lower: Option<f64>,
    /// Its DeLong 95 % interval, upper bound.
    pub ci_upper: Option<f64>,
    /// How it was chosen: the config key, or the rule.
    pub chosen_by: &'static str,
}

/// One configuration compared with the reference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// `config_id`.
    pub config_id: i32,
    /// The run name.
    pub source_name: String,
    /// Short pipeline label.
    pub pipeline: String,
    /// Its method of each factor, in [`FACTORS`] order.
    #[serde(skip)]
    pub levels: [String; 4],
    /// Subjects both configurations were scored on.
    pub n_paired: usize,
    /// Of them, subjects with label 1.
    pub n_paired_events: usize,
    /// AUROC of p̄ of this configuration on the paired subjects.
    pub auroc: Option<f64>,
    /// AUROC of p̄ of the reference on the paired subjects.
    pub reference_auroc: Option<f64>,
    /// DeLong's z of `auroc − reference_auroc`.
    pub z: Option<f64>,
    /// Two-sided p-value; `None` when the test is undefined (see `note`).
    pub p_value: Option<f64>,
    /// Holm-adjusted p-value over the comparisons with a p-value.
    pub p_holm: Option<f64>,
    /// Why there is no test (fewer than 2 paired subjects of a class).
    pub note: Option<String>,
}

/// The reference and every comparison with it, best `auroc_pbar` first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Paired {
    /// The reference configuration.
    pub reference: Reference,
    /// The other configurations.
    pub comparisons: Vec<Comparison>,
}

impl Paired {
    /// Comparisons with a Holm-adjusted p-value below [`ALPHA`].
    pub fn n_significant(&self) -> usize {
        self.comparisons
            .iter()
            .filter(|c| c.p_holm.is_some_and(|p| p < ALPHA))
            .count()
    }

    /// Comparisons with a test.
    pub fn n_tested(&self) -> usize {
        self.comparisons
            .iter()
            .filter(|c| c.p_value.is_some())
            .count()
    }
}

/// The index in `ranked` of the reference configuration and how it was chosen. An
/// `analysis.reference_config` that names no configuration is a configuration error.
pub fn reference(ranked: &[Ranked], settings: &Settings) -> Result<(usize, &'static str)> {
    if let Some(name) = &settings.analysis.reference_config {
        return match ranked.iter().position(|r| r.source_name == *name) {
            Some(i) => Ok((i, "analysis.reference_config")),
            None => Err(Error::usage(anyhow!(
                "`analysis.reference_config` names no configuration with an AUROC of the mean prediction in the checkpoint"
            ))
            .with_hint("set it to a `source_name` of `essential_metrics`, or to null for the best configuration without an oracle method")
            .into()),
        };
    }
    ranked
        .iter()
        .position(|r| {
            !FACTORS
                .iter()
                .zip(&r.levels)
                .any(|((f, _), l)| methods::is_oracle(settings, f, l))
        })
        .map(|i| (i, "best auroc_pbar without an oracle method"))
        .ok_or_else(|| {
            Error::usage(anyhow!(
                "every configuration uses an oracle method (`analysis.oracle_categories`), so none can be the reference of the paired comparisons"
            ))
            .with_hint("name one in `analysis.reference_config`")
            .into()
        })
}

/// The paired comparisons of the checkpoint.
pub fn compare(ckpt: &Checkpoint, settings: &Settings) -> Result<Paired> {
    let ranked = pbar::ranked(&ckpt.essential)?;
    let (index, chosen_by) = reference(&ranked, settings)?;
    let by_config = subjects(&ckpt.predictions)?;
    let r = &ranked[index];
    let empty = Vec::new();
    let reference_rows: HashMap<&str, (i64, f64)> = by_config
        .get(&r.id)
        .unwrap_or(&empty)
        .iter()
        .map(|(code, y, p)| (code.as_str(), (*y, *p)))
        .collect();
    let mut comparisons = Vec::new();
    for c in ranked.iter().filter(|c| c.id != r.id) {
        let (mut y, mut p_ref, mut p) = (Vec::new(), Vec::new(), Vec::new());
        for (code, label, prob) in by_config.get(&c.id).unwrap_or(&empty) {
            if let Some(&(ref_label, ref_prob)) = reference_rows.get(code.as_str()) {
                if ref_label != *label {
                    bail!(
                        "configurations {} and {} give a shared subject code different labels",
                        c.id,
                        r.id
                    );
                }
                y.push(*label);
                p.push(*prob);
                p_ref.push(ref_prob);
            }
        }
        if y.is_empty() {
            bail!(
                "configuration {} (`{}`) shares no test subject with the reference configuration {}, so they cannot be compared paired",
                c.id,
                c.source_name,
                r.id
            );
        }
        let test = metrics::delong_paired(&y, &p, &p_ref);
        let note = test.as_ref().err().map(ToString::to_string);
        let test = test.ok();
        comparisons.push(Comparison {
            config_id: c.id,
            source_name: c.source_name.clone(),
            pipeline: pipeline_label(settings, &c.levels),
            levels: c.levels.clone(),
            n_paired: y.len(),
            n_paired_events: y.iter().filter(|&&l| l == 1).count(),
            auroc: test.map(|t| t.auc_1),
            reference_auroc: test.map(|t| t.auc_2),
            z: test.map(|t| t.z),
            p_value: test.map(|t| t.p_value),
            p_holm: None,
            note,
        });
    }
    let tested: Vec<usize> = (0..comparisons.len())
        .filter(|&i| comparisons[i].p_value.is_some())
        .collect();
    let p: Vec<f64> = tested
        .iter()
        .filter_map(|&i| comparisons[i].p_value)
        .collect();
    for (&i, adjusted) in tested.iter().zip(holm(&p)) {
        comparisons[i].p_holm = Some(adjusted);
    }
    Ok(Paired {
        reference: Reference {
            config_id: r.id,
            source_name: r.source_name.clone(),
            pipeline: pipeline_label(settings, &r.levels),
            levels: r.levels.clone(),
            auroc_pbar: r.auroc.value,
            ci_lower: r.auroc.lower,
            ci_upper: r.auroc.upper,
            chosen_by,
        },
        comparisons,
    })
}

/// A configuration's test subjects: (anonymous code, label, p̄), in prediction order.
type Subjects = Vec<(String, i64, f64)>;

/// Each configuration's test subjects.
fn subjects(predictions: &polars::prelude::DataFrame) -> Result<HashMap<i32, Subjects>> {
    let ids = ints(predictions, "config_id")?;
    let codes = strings(predictions, "subject_code")?;
    let labels = ints(predictions, "y_true")?;
    let probs = floats(predictions, "y_prob")?;
    let mut out: HashMap<i32, Subjects> = HashMap::new();
    for (i, code) in codes.into_iter().enumerate() {
        let (Some(id), Some(label), Some(prob)) = (ids[i], labels[i], probs[i]) else {
            bail!("`predictions` has a NULL `config_id`, `y_true` or `y_prob`");
        };
        out.entry(id)
            .or_default()
            .push((code, i64::from(label), prob));
    }
    Ok(out)
}

/// Holm's step-down adjustment of `p`, in the order given (R's `p.adjust(p, "holm")`):
/// the k-th smallest becomes `max over j ≤ k of min(1, (m − j + 1) p_(j))`.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut adjusted = vec![0.0; m];
    let mut running = 0.0f64;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

/// `paired_comparisons.tex`.
pub fn tex(prov: &Provenance, settings: &Settings, sizes: &Sizes, paired: &Paired) -> String {
    let r = &paired.reference;
    let body: Vec<Vec<String>> = paired
        .comparisons
        .iter()
        .map(|c| {
            let difference = c.auroc.zip(c.reference_auroc).map(|(a, b)| a - b);
            vec![
                escape(&c.pipeline),
                c.n_paired.to_string(),
                fmt(c.auroc, 3),
                fmt(difference, 3),
                p_value(c.p_value),
                p_value(c.p_holm),
            ]
        })
        .collect();
    let text = format!(
        "Paired DeLong tests of the AUROC of the mean prediction $\\bar p$ of each configuration against the reference {} (AUROC of $\\bar p$ {} [DeLong 95\\% CI {}, {}]; chosen by {}), on the $n$ test subjects both were scored on. $\\Delta$: AUROC minus the reference's on those subjects; $p$: two-sided (DeLong's $z$ is in the JSON); $p_\\mathrm{{Holm}}$: Holm-adjusted over the {} tests. {} of {} differ at $p_\\mathrm{{Holm}} < 0.05$.",
        escape(&r.pipeline),
        fmt(r.auroc_pbar, 3),
        fmt(r.ci_lower, 3),
        fmt(r.ci_upper, 3),
        escape(r.chosen_by),
        paired.n_tested(),
        paired.n_significant(),
        paired.n_tested(),
    );
    let levels = std::iter::once(&r.levels).chain(paired.comparisons.iter().map(|c| &c.levels));
    table(
        prov,
        &caption(
            &text,
            sizes,
            &defined(settings, &[AUROC, CI], &methods_of(levels, 4)),
        ),
        "tab:paired-comparisons",
        &[
            Col::Wrap,
            Col::Num("3.0"),
            Col::Num("1.3"),
            Col::Num("-1.3"),
            Col::Num("<1.3"),
            Col::Num("<1.3"),
        ],
        &[
            "Pipeline",
            "$n$",
            "AUROC",
            "$\\Delta$",
            "$p$",
            "$p_\\mathrm{Holm}$",
        ],
        &body,
    )
}

/// `paired_comparisons.json`.
pub fn json(prov: &Provenance, paired: &Paired) -> Value {
    json!({
        "tool_version": prov.tool_version,
        "logical_digest": prov.logical_digest,
        "method": "paired DeLong test of the AUROC of the mean prediction (as R pROC roc.test(method = \"delong\", paired = TRUE)) on the subjects both configurations share; Holm adjustment over the tests",
        "alpha": ALPHA,
        "n_tested": paired.n_tested(),
        "n_significant": paired.n_significant(),
        "reference": paired.reference,
        "comparisons": paired.comparisons,
    })
}

/// The `numbers.tex` macros of the comparisons (names start with `paired`).
pub fn macros(paired: &Paired) -> Vec<(String, String)> {
    let r = &paired.reference;
    vec![
        ("pairedReferencePipeline".into(), escape(&r.pipeline)),
        ("pairedReferenceAUROC".into(), fmt(r.auroc_pbar, 3)),
        ("pairedReferenceAUROCLower".into(), fmt(r.ci_lower, 3)),
        ("pairedReferenceAUROCUpper".into(), fmt(r.ci_upper, 3)),
        ("pairedTests".into(), paired.n_tested().to_string()),
        (
            "pairedSignificant".into(),
            paired.n_significant().to_string(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holm_by_hand() {
        // m = 4: sorted 0.01, 0.02, 0.03, 0.5 → 0.04, 0.06, 0.06 (monotone), 0.5.
        let adjusted = holm(&[0.03, 0.5, 0.01, 0.02]);
        let expected = [0.06, 0.5, 0.04, 0.06];
        for (a, e) in adjusted.iter().zip(expected) {
            assert!((a - e).abs() < 1e-15, "{adjusted:?}");
        }
        assert_eq!(holm(&[0.9, 0.8]), [1.0, 1.0]);
        assert!(holm(&[]).is_empty());
    }
}
