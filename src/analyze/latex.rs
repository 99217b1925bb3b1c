//! LaTeX tables (booktabs, siunitx for decimal alignment): per-factor comparisons, the top
//! pipelines, the STRATOS table of the top configurations and the ANOVA. The top pipelines and
//! STRATOS tables show metrics of the mean prediction p̄ with their test-set intervals
//! ([`super::pbar`]). Each fits the text width of an A4 article; its caption defines its
//! abbreviations and gives the test-set and bootstrap sizes. Method names are escaped; every
//! table names the tool version, the checkpoint's logical digest and the packages it needs.

use polars::prelude::DataFrame;

use super::anova::Term;
use super::captions::{abbreviations, Sizes};
use super::methods::{self, uses_oracle};
use super::pbar::{self, Ranked};
use super::sidecar::Provenance;
use super::stats::{Basis, Comparison, FACTORS};
use super::tabular::{caption, table, Col};
use crate::config::Config as Settings;
use crate::metrics::catalog::{self, Metric};

/// Escapes `s` for LaTeX text, in a table cell or a macro's body. Besides the special
/// characters, brackets are braced (a cell starting with `[` would be read as the optional
/// argument of the `\\` before it) and every control or invisible formatting character, a
/// newline included, is written as its visible Rust escape (`\n`, `\u{1b}`): a blank line
/// would end a `tabular` row, and such characters have no glyph.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '[' | ']' | '*' => {
                out.push('{');
                out.push(c);
                out.push('}');
            }
            '…' => out.push_str("\\ldots{}"),
            c if c.is_control() || crate::ui::sanitize::is_invisible_format(c) => {
                out.push_str(&escape(&c.escape_default().to_string()));
            }
            _ => out.push(c),
        }
    }
    out
}

/// `x` with `digits` decimals and a true minus sign, or `--` when absent or not finite.
pub fn fmt(x: Option<f64>, digits: usize) -> String {
    match x {
        Some(v) if v.is_finite() => {
            let text = format!("{v:.digits$}");
            match text.strip_prefix('-') {
                Some(magnitude) => format!("$-${magnitude}"),
                None => text,
            }
        }
        _ => "--".into(),
    }
}

/// `x` rounded to `figures` significant figures (at least 3 decimals for |x| ≥ 1).
pub fn significant(x: f64, figures: i32) -> String {
    if x == 0.0 || !x.is_finite() {
        return fmt(Some(x), 3);
    }
    let decimals = (figures - 1 - x.abs().log10().floor() as i32).max(0) as usize;
    fmt(Some(x), decimals)
}

/// A p-value with three decimals, `<0.001` below that.
pub fn p_value(p: Option<f64>) -> String {
    match p {
        Some(p) if p < 0.001 => "$<$0.001".into(),
        other => fmt(other, 3),
    }
}

/// The abbreviation AUROC and its meaning.
pub const AUROC: (&str, &str) = (
    "AUROC",
    "area under the receiver operating characteristic curve",
);
/// The abbreviation CI and its meaning.
pub const CI: (&str, &str) = ("CI", "confidence interval");

/// What every AUROC of the tables is: the estimator, named once for the captions.
pub const AUROC_OF_PBAR: &str =
    "AUROC of the mean prediction $\\bar p$ of the B models of a configuration";

/// The (factor, method) pairs of the first `factors` factors of every configuration's `levels`.
pub fn methods_of<'a>(
    levels: impl IntoIterator<Item = &'a [String; 4]>,
    factors: usize,
) -> Vec<(&'static str, String)> {
    levels
        .into_iter()
        .flat_map(|l| FACTORS.iter().zip(l).take(factors))
        .map(|((f, _), l)| (*f, l.clone()))
        .collect()
}

/// The abbreviations sentence for `terms` and the methods of `used`.
pub fn defined(settings: &Settings, terms: &[(&str, &str)], used: &[(&str, String)]) -> String {
    let used: Vec<(&str, &str)> = used.iter().map(|(f, l)| (*f, l.as_str())).collect();
    abbreviations(settings, terms, &used)
}

/// The comparison table of one factor: per method its rank, configurations, estimate with
/// 95 % CI (on the comparison's basis), and the mean and SD over its configurations. Oracle
/// methods follow the ranked ones, unranked.
pub fn factor_table(
    prov: &Provenance,
    settings: &Settings,
    sizes: &Sizes,
    factor: &str,
    title: &str,
    cmp: &Comparison,
) -> String {
    let st = methods::factor_style(settings, factor);
    let contenders = cmp
        .contenders()
        .enumerate()
        .map(|(i, r)| ((i + 1).to_string(), r));
    let oracles = cmp.oracles().map(|r| ("--".to_string(), r));
    let body: Vec<Vec<String>> = contenders
        .chain(oracles)
        .map(|(rank, r)| {
            let mut name = escape(&methods::display(st, &r.level));
            if r.oracle {
                name.push_str(" (oracle)");
            }
            if r.fewer {
                name.push_str("$^\\dagger$");
            }
            vec![
                rank,
                name,
                r.n.to_string(),
                fmt(Some(r.estimate), 3),
                range(r.ci_lower, r.ci_upper),
                fmt(Some(r.mean), 3),
                fmt(r.sd, 3),
            ]
        })
        .collect();
    let basis = match cmp.basis {
        Basis::MarginalMeans => "Estimate: estimated marginal mean of the main-effects linear model of the AUROC on all four factors (equal weights over the other factors' levels), with its 95\\% CI",
        Basis::ConfigurationMeans => "Estimate: mean over the method's configurations with the 95\\% $t$-CI of the mean (the main-effects model is not estimable on this design)",
    };
    let terms = [
        AUROC,
        CI,
        ("N", "number of configurations"),
        ("SD", "standard deviation"),
    ];
    table(
        prov,
        &caption(
            &format!(
                "{title}: {AUROC_OF_PBAR}, by method. {basis}. Mean, SD: over the method's configurations. \\dag{{}}: fewer configurations than the best-covered method. Oracle methods are a reference and are not ranked."
            ),
            sizes,
            &abbreviations(settings, &terms, &[]),
        ),
        &format!("tab:{}", factor.replace('_', "-")),
        &[
            Col::Right,
            Col::Wrap,
            Col::Num("3.0"),
            Col::Num("1.3"),
            Col::Centre,
            Col::Num("1.3"),
            Col::Num("1.3"),
        ],
        &["Rank", "Method", "N", "Estimate", "95\\% CI", "Mean", "SD"],
        &body,
    )
}

/// The oracle categories (`analysis.oracle_categories`), escaped, for a caption.
fn oracles(settings: &Settings) -> String {
    escape(&settings.analysis.oracle_categories.join(", "))
}

/// The short labels (unescaped) of a configuration's `levels` of [`FACTORS`].
pub fn level_labels(settings: &Settings, levels: &[String; 4]) -> Vec<String> {
    FACTORS
        .iter()
        .zip(levels)
        .map(|((f, _), l)| methods::label(methods::factor_style(settings, f), l))
        .collect()
}

/// A pipeline as one short line (unescaped): `outlier + imputation, classifier, featurization`.
pub fn pipeline_label(settings: &Settings, levels: &[String; 4]) -> String {
    let l = level_labels(settings, levels);
    format!("{} + {}, {}, {}", l[0], l[1], l[2], l[3])
}

/// `lo--hi` with three decimals, or `--` when either bound is missing.
pub fn range(lo: Option<f64>, hi: Option<f64>) -> String {
    match (lo, hi) {
        (Some(l), Some(h)) if l.is_finite() && h.is_finite() => {
            format!("{}--{}", fmt(Some(l), 3), fmt(Some(h), 3))
        }
        _ => "--".into(),
    }
}

/// The top ten configurations by the AUROC of the mean prediction p̄, with DeLong's test-set
/// interval and, in a column of its own, the model-variability interval.
pub fn top_table(
    prov: &Provenance,
    settings: &Settings,
    sizes: &Sizes,
    ranked: &[Ranked],
) -> String {
    let top: Vec<&Ranked> = ranked.iter().take(10).collect();
    let mut rank = 0;
    let body: Vec<Vec<String>> = top
        .iter()
        .map(|c| {
            let place = if uses_oracle(settings, &c.levels) {
                "ref.".to_string()
            } else {
                rank += 1;
                rank.to_string()
            };
            vec![
                place,
                escape(&pipeline_label(settings, &c.levels)),
                fmt(c.auroc.value, 3),
                range(c.auroc.lower, c.auroc.upper),
                range(c.auroc_models.0, c.auroc_models.1),
            ]
        })
        .collect();
    table(
        prov,
        &caption(
            &format!("Top pipelines (outlier + imputation, classifier, featurization) by the {AUROC_OF_PBAR}. Test-set CI: DeLong's 95\\% interval of that AUROC (another test set of this size). Model var.: model variability, the 2.5--97.5 percentiles of the B models' AUROC on this one test set (retraining only; it leaves out test-set sampling). ref.: the pipeline uses an oracle method ({}), a reference that is not ranked.", oracles(settings)),
            sizes,
            &defined(settings, &[AUROC, CI], &methods_of(top.iter().map(|c| &c.levels), 4)),
        ),
        "tab:top-pipelines",
        &[Col::Right, Col::Wrap, Col::Num("1.3"), Col::Centre, Col::Centre],
        &["Rank", "Pipeline", "AUROC", "Test-set CI", "Model var."],
        &body,
    )
}

/// The STRATOS measures of the top-k configurations, every one a metric of the mean
/// prediction p̄ with its 95 % test-set interval below it: discrimination, overall accuracy,
/// calibration and clinical utility.
pub fn stratos_table(
    prov: &Provenance,
    settings: &Settings,
    sizes: &Sizes,
    ranked: &[Ranked],
    essential: &DataFrame,
) -> anyhow::Result<String> {
    let measures: Vec<(&Metric, &catalog::Latex)> = catalog::latex().collect();
    let values: Vec<Vec<pbar::Interval>> = measures
        .iter()
        .map(|(m, _)| pbar::intervals(essential, m.name))
        .collect::<anyhow::Result<_>>()?;
    let top: Vec<&Ranked> = ranked
        .iter()
        .filter(|c| !uses_oracle(settings, &c.levels))
        .take(settings.analysis.top_k.max(1))
        .collect();
    let columns = measures.len();
    let mut body = Vec::new();
    for (i, c) in top.iter().enumerate() {
        let row = pbar::row_of(essential, c.id)?;
        body.push(vec![format!(
            "\\multicolumn{{{columns}}}{{@{{}}l}}{{{}. {}}}",
            i + 1,
            escape(&pipeline_label(settings, &c.levels))
        )]);
        body.push(values.iter().map(|v| fmt(v[row].value, 3)).collect());
        body.push(
            values
                .iter()
                .map(|v| format!("{{\\scriptsize {}}}", range(v[row].lower, v[row].upper)))
                .collect(),
        );
    }
    let mut terms = vec![AUROC, CI];
    terms.extend(
        measures
            .iter()
            .filter_map(|(_, l)| l.term.map(|t| (l.header, t))),
    );
    let cols: Vec<Col> = measures
        .iter()
        .map(|(m, _)| Col::Num(if m.bounds.0 < 0.0 { "-1.3" } else { "1.3" }))
        .collect();
    let headers: Vec<&str> = measures.iter().map(|(_, l)| l.header).collect();
    Ok(table(
        prov,
        &caption(
            "STRATOS measures of the top configurations that use no oracle method, by the AUROC of the mean prediction $\\bar p$ (rank, pipeline: outlier + imputation, classifier, featurization), every one computed on $\\bar p$ of the B models, with its 95\\% test-set interval below it: DeLong's for the AUROC, a subject-level bootstrap for the others. The model-variability interval of the AUROC is in the top-pipelines table.",
            sizes,
            &defined(settings, &terms, &methods_of(top.iter().map(|c| &c.levels), 4)),
        ),
        "tab:stratos",
        &cols,
        &headers,
        &body,
    ))
}

/// The type II ANOVA table.
pub fn anova_table(
    prov: &Provenance,
    settings: &Settings,
    sizes: &Sizes,
    terms: &[Term],
) -> String {
    let body: Vec<Vec<String>> = terms
        .iter()
        .map(|t| {
            let name = FACTORS
                .iter()
                .find(|(f, _)| *f == t.term)
                .map_or(t.term.as_str(), |(_, title)| title);
            let blank_if_residual = |cell: String| if t.f.is_none() { String::new() } else { cell };
            vec![
                escape(name),
                significant(t.sum_sq, 3),
                format!("{:.0}", t.df),
                blank_if_residual(fmt(t.f, 2)),
                blank_if_residual(p_value(t.p)),
                blank_if_residual(fmt(t.partial_eta_sq, 3)),
                blank_if_residual(fmt(t.omega_sq, 3)),
            ]
        })
        .collect();
    let defined = [
        AUROC,
        ("SS", "sum of squares"),
        ("df", "degrees of freedom"),
        ("F", "F statistic"),
        ("p", "p-value"),
        ("$\\eta^2_p$", "partial eta squared"),
        ("$\\omega^2$", "omega squared"),
    ];
    table(
        prov,
        &caption(
            &format!("Type II ANOVA of the {AUROC_OF_PBAR}, on the main effects of the pipeline factors (one observation per configuration)."),
            sizes,
            &abbreviations(settings, &defined, &[]),
        ),
        "tab:anova",
        &[
            Col::Left,
            Col::Num("1.5"),
            Col::Num("3.0"),
            Col::Num("3.2"),
            Col::Num("<1.3"),
            Col::Num("1.3"),
            Col::Num("-1.3"),
        ],
        &["Factor", "SS", "df", "F", "p", "$\\eta^2_p$", "$\\omega^2$"],
        &body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specials_are_escaped() {
        assert_eq!(escape("a_b&c%d$e#f{g}h~i^j\\k"), "a\\_b\\&c\\%d\\$e\\#f\\{g\\}h\\textasciitilde{}i\\textasciicircum{}j\\textbackslash{}k");
    }

    #[test]
    fn control_characters_and_newlines_become_visible_escapes() {
        assert_eq!(
            escape("a\n\nb\r\u{1b}[31m\u{202e}"),
            "a\\textbackslash{}n\\textbackslash{}nb\\textbackslash{}r\\textbackslash{}u\\{1b\\}{[}31m\\textbackslash{}u\\{202e\\}"
        );
        let hostile = escape("x\n\n}\\end{tabular}%[2pt]*");
        assert!(
            !hostile.contains('\n') && !hostile.contains("\\end"),
            "{hostile}"
        );
        assert_eq!(
            hostile,
            "x\\textbackslash{}n\\textbackslash{}n\\}\\textbackslash{}end\\{tabular\\}\\%{[}2pt{]}{*}"
        );
    }

    #[test]
    fn missing_values_print_as_dashes() {
        assert_eq!(fmt(None, 3), "--");
        assert_eq!(fmt(Some(f64::NAN), 3), "--");
        assert_eq!(range(Some(0.85), None), "--");
        assert_eq!(range(Some(-0.1), Some(0.25)), "$-$0.100--0.250");
        assert_eq!(p_value(Some(0.0001)), "$<$0.001");
        assert_eq!(fmt(Some(-0.3791), 3), "$-$0.379");
        assert_eq!(significant(0.0123456, 3), "0.0123");
        assert_eq!(significant(0.123456, 3), "0.123");
    }
}
