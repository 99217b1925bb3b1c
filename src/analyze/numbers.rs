//! `numbers.tex`: the manuscript's in-text numbers as `\providecommand` macros, so a
//! document can load it beside its own definitions without a clash.
//!
//! `\best<Factor>` names the non-oracle level with the best estimated marginal mean only when
//! the factor's type II ANOVA test is significant at 0.05, and otherwise says that no method
//! stood out; `\bestPipeline<Factor>` is that factor's level in the best configuration that
//! uses no oracle method. The study's size (subjects, events, prevalence, bootstrap models,
//! possible and present configurations) and the ANOVA's terms (`\anovaF<Factor>`,
//! `\anovaDf<Factor>`, `\anovaP<Factor>`, `\anovaDfResidual`) follow.

use std::collections::BTreeSet;

use anyhow::Result;
use polars::prelude::DataFrame;

use super::anova::Term;
use super::captions::Sizes;
use super::frames::strings;
use super::latex::{escape, fmt, p_value, pipeline_label};
use super::methods;
use super::sidecar::Provenance;
use super::stats::{Comparison, Config, FACTORS};
use crate::config::Config as Settings;

/// The study's design and sizes: what `numbers.tex` says about the data behind the numbers.
pub struct Study {
    /// Test-set and bootstrap sizes.
    pub sizes: Sizes,
    /// Configurations of every combination of the factors' levels.
    pub possible: usize,
    /// Distinct configurations in the checkpoint.
    pub present: usize,
    /// The type II ANOVA of AUROC, when it can be fitted (`anova.tex` says why not).
    pub anova: Option<Vec<Term>>,
}

impl Study {
    /// The study of the configurations in `essential_metrics`, of test-set and bootstrap
    /// `sizes`, with its ANOVA when it could be fitted.
    pub fn new(essential: &DataFrame, sizes: Sizes, anova: Option<Vec<Term>>) -> Result<Self> {
        let columns: Vec<Vec<String>> = FACTORS
            .iter()
            .map(|(f, _)| strings(essential, f))
            .collect::<Result<_>>()?;
        let possible = columns
            .iter()
            .map(|c| c.iter().collect::<BTreeSet<_>>().len())
            .product();
        let present = (0..essential.height())
            .map(|i| columns.iter().map(|c| &c[i]).collect::<Vec<_>>())
            .collect::<BTreeSet<_>>()
            .len();
        Ok(Self {
            sizes,
            possible,
            present,
            anova,
        })
    }

    /// The macros of the study.
    fn macros(&self) -> Vec<(String, String)> {
        let s = &self.sizes;
        let mut out = vec![
            ("nSubjects".into(), s.subjects.to_string()),
            ("nEvents".into(), s.events.to_string()),
            ("nBootstrap".into(), s.models.to_string()),
            ("nPossibleConfigs".into(), self.possible.to_string()),
            ("nPresentConfigs".into(), self.present.to_string()),
        ];
        if s.subjects.0 == s.subjects.1 && s.events.0 == s.events.1 && s.subjects.0 > 0 {
            let share = s.events.0 as f64 / s.subjects.0 as f64;
            out.push(("prevalence".into(), fmt(Some(share), 3)));
            out.push((
                "prevalencePercent".into(),
                format!("{}\\%", fmt(Some(100.0 * share), 1)),
            ));
        }
        for t in self.anova.iter().flatten() {
            let name = camel(&t.term);
            out.push((format!("anovaDf{name}"), format!("{:.0}", t.df)));
            if t.f.is_some() {
                out.push((format!("anovaF{name}"), fmt(t.f, 2)));
                out.push((format!("anovaP{name}"), p_value(t.p)));
            }
        }
        out
    }
}

/// The level of significance of a factor's test for `\best<Factor>` to name a method.
const SIGNIFICANCE: f64 = 0.05;

/// `\best<Factor>` when the factor's test is not significant.
const NONE_STOOD_OUT: &str = "no method stood out";

/// The text of `numbers.tex` for configurations `ranked` best first, the method comparison
/// of each factor and the study (its sizes and ANOVA).
pub fn numbers_tex(
    prov: &Provenance,
    settings: &Settings,
    ranked: &[Config],
    comparisons: &[(&str, Comparison)],
    study: &Study,
) -> String {
    let mut macros: Vec<(String, String)> = vec![
        ("mlreproVersion".into(), escape(&prov.tool_version)),
        ("checkpointDigest".into(), prov.logical_digest.clone()),
        (
            "checkpointDigestShort".into(),
            prov.logical_digest.chars().take(12).collect(),
        ),
        ("nConfigs".into(), ranked.len().to_string()),
    ];
    let aurocs: Vec<f64> = ranked.iter().map(|c| c.auroc).collect();
    if !aurocs.is_empty() {
        let mean = aurocs.iter().sum::<f64>() / aurocs.len() as f64;
        let min = aurocs.iter().copied().fold(f64::INFINITY, f64::min);
        let max = aurocs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        macros.push(("minAUROC".into(), fmt(Some(min), 3)));
        macros.push(("maxAUROC".into(), fmt(Some(max), 3)));
        macros.push(("meanAUROC".into(), fmt(Some(mean), 3)));
    }
    for (factor, cmp) in comparisons {
        let name = camel(factor);
        macros.push((format!("n{name}"), cmp.rows.len().to_string()));
        let p = study
            .anova
            .iter()
            .flatten()
            .find(|t| t.term == *factor)
            .and_then(|t| t.p);
        if let Some(p) = p {
            macros.push((format!("{}EffectP", lower_first(&name)), p_value(Some(p))));
        }
        let best = cmp.contenders().next();
        match (best, p) {
            (Some(best), Some(p)) if p < SIGNIFICANCE => {
                let st = methods::factor_style(settings, factor);
                macros.push((
                    format!("best{name}"),
                    escape(&methods::display(st, &best.level)),
                ));
                macros.push((format!("best{name}MeanAUROC"), fmt(Some(best.estimate), 3)));
                macros.push((format!("best{name}AUROCLower"), fmt(best.ci_lower, 3)));
                macros.push((format!("best{name}AUROCUpper"), fmt(best.ci_upper, 3)));
            }
            _ => macros.push((format!("best{name}"), NONE_STOOD_OUT.into())),
        }
    }
    let best = ranked
        .iter()
        .find(|c| !methods::uses_oracle(settings, &c.levels));
    if let Some(best) = best {
        for (f, (factor, _)) in FACTORS.iter().enumerate() {
            let name = escape(&methods::display(
                methods::factor_style(settings, factor),
                &best.levels[f],
            ));
            macros.push((format!("bestPipeline{}", camel(factor)), name));
        }
        macros.push((
            "bestPipeline".into(),
            escape(&pipeline_label(settings, &best.levels)),
        ));
        macros.push(("bestAUROC".into(), fmt(Some(best.auroc), 3)));
        macros.push(("bestAUROCLower".into(), fmt(best.ci_lower, 3)));
        macros.push(("bestAUROCUpper".into(), fmt(best.ci_upper, 3)));
    }
    if let Some(r) = settings.analysis.reference_auroc {
        macros.push(("referenceAUROC".into(), fmt(Some(r), 3)));
    }
    macros.extend(study.macros());
    let mut out = format!(
        "% Generated by mlrepro {} from the checkpoint with logical digest {}.\n",
        prov.tool_version, prov.logical_digest
    );
    for (name, value) in macros {
        out.push_str(&provide(&name, &value));
    }
    out
}

/// `OutlierMethod` → `outlierMethod`.
fn lower_first(name: &str) -> String {
    let mut c = name.chars();
    c.next()
        .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// One macro line: `\providecommand{\name}{value}` and a newline.
pub fn provide(name: &str, value: &str) -> String {
    format!("\\providecommand{{\\{name}}}{{{value}}}\n")
}

/// `outlier_method` → `OutlierMethod`, for macro names (letters only).
fn camel(column: &str) -> String {
    column
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macro_names_are_letters() {
        assert_eq!(camel("outlier_method"), "OutlierMethod");
        assert_eq!(camel("classifier"), "Classifier");
        assert_eq!(camel("Residual"), "Residual");
    }
}
