//! LaTeX tables (booktabs, siunitx for decimal alignment): per-factor comparisons, the top
//! pipelines, the STRATOS table of the top configurations and the ANOVA. Each fits the text
//! width of an A4 article; its caption defines its abbreviations and gives the test-set and
//! bootstrap sizes. Method names are escaped; every table names the tool version, the
//! checkpoint's logical digest and the packages it needs.

use polars::prelude::DataFrame;

use super::anova::Term;
use super::captions::{abbreviations, Sizes};
use super::frames::{floats, ints};
use super::sidecar::Provenance;
use super::stats::{Config, Summary, FACTORS};
use super::style;
use crate::config::Config as Settings;

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

/// `est [lo, hi]` with three decimals.
pub fn with_ci(est: f64, lo: Option<f64>, hi: Option<f64>) -> String {
    format!("{} [{}, {}]", fmt(Some(est), 3), fmt(lo, 3), fmt(hi, 3))
}

/// A p-value with three decimals, `<0.001` below that.
pub fn p_value(p: Option<f64>) -> String {
    match p {
        Some(p) if p < 0.001 => "$<$0.001".into(),
        other => fmt(other, 3),
    }
}

/// One column of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    /// Left-aligned text.
    Left,
    /// Right-aligned text.
    Right,
    /// Centred text.
    Centre,
    /// Numbers aligned on the decimal point (siunitx `S` with this `table-format`).
    Num(&'static str),
    /// Text that takes the width left over and wraps, ragged right (tabularx `X`); the table
    /// is then as wide as the text.
    Wrap,
}

impl Col {
    fn spec(self) -> String {
        match self {
            Col::Left => "l".into(),
            Col::Right => "r".into(),
            Col::Centre => "c".into(),
            Col::Num(format) => format!("S[table-format={format}]"),
            Col::Wrap => ">{\\raggedright\\arraybackslash}X".into(),
        }
    }
}

/// A cell of a siunitx `S` column: a number as siunitx reads it (a plain minus, a leading
/// comparator), anything else braced so that it is set as text.
fn si_cell(cell: &str) -> String {
    let plain = cell.replace("$-$", "-").replace("$<$", "<");
    if plain.trim_start_matches('<').parse::<f64>().is_ok() {
        plain
    } else if cell.is_empty() {
        String::new()
    } else {
        format!("{{{cell}}}")
    }
}

/// A cell of a wrapping column with a break allowed after every hyphen, slash and
/// underscore and inside camel case, so that a long method name without spaces wraps too.
fn breakable(cell: &str) -> String {
    let mut out = String::with_capacity(cell.len());
    let mut prev = ' ';
    for c in cell.chars() {
        if prev.is_ascii_lowercase() && c.is_ascii_uppercase() {
            out.push_str("\\allowbreak{}");
        }
        out.push(c);
        if matches!(c, '-' | '/' | '_') {
            out.push_str("\\allowbreak{}");
        }
        prev = c;
    }
    out
}

/// A header cell of several lines (plain LaTeX, no package).
pub fn stack(lines: &[&str]) -> String {
    format!(
        "\\begin{{tabular}}[b]{{@{{}}c@{{}}}}{}\\end{{tabular}}",
        lines.join("\\\\")
    )
}

/// The caption of a table: `text`, then the sizes and the abbreviations, when given.
fn caption(text: &str, sizes: &Sizes, abbreviations: &str) -> String {
    [
        text.to_string(),
        sizes.sentence(),
        abbreviations.to_string(),
    ]
    .iter()
    .filter(|p| !p.is_empty())
    .cloned()
    .collect::<Vec<_>>()
    .join(" ")
}

/// Tables with more columns than this are set in `\\footnotesize` with columns closer
/// together (3.5 pt either side, not 6 pt); others in `\\small`.
const MANY_COLUMNS: usize = 5;

/// A complete `table` float with `cols`; cells must already be escaped.
fn table(
    prov: &Provenance,
    caption: &str,
    label: &str,
    cols: &[Col],
    header: &[&str],
    rows: &[Vec<String>],
) -> String {
    let wraps = cols.contains(&Col::Wrap);
    let size = if cols.len() > MANY_COLUMNS {
        "\\footnotesize\n\\setlength{\\tabcolsep}{3.5pt}"
    } else {
        "\\small"
    };
    let mut packages = vec!["booktabs"];
    if cols.iter().any(|c| matches!(c, Col::Num(_))) {
        packages.push("siunitx");
    }
    if wraps {
        packages.push("tabularx");
    }
    let spec: String = cols.iter().map(|c| c.spec()).collect();
    let (begin, end) = if wraps {
        (
            format!("\\begin{{tabularx}}{{\\linewidth}}{{{spec}}}"),
            "\\end{tabularx}",
        )
    } else {
        (format!("\\begin{{tabular}}{{{spec}}}"), "\\end{tabular}")
    };
    let line = |cells: Vec<String>| -> String {
        let cells: Vec<String> = cells
            .into_iter()
            .zip(cols)
            .map(|(cell, col)| match col {
                Col::Num(_) => si_cell(&cell),
                Col::Wrap => breakable(&cell),
                _ => cell,
            })
            .collect();
        format!("{} \\\\\n", cells.join(" & "))
    };
    let head: Vec<String> = header
        .iter()
        .zip(cols)
        .map(|(h, col)| match col {
            Col::Num(_) => format!("{{{h}}}"),
            _ => h.to_string(),
        })
        .collect();
    let mut out = format!(
        "% Generated by mlrepro {} from the checkpoint with logical digest {}.\n\
         % Needs \\usepackage{{{}}}; fits the text width of an A4 article.\n\
         \\begin{{table}}[htbp]\n\\centering\n{size}\n\\caption{{{caption}}}\n\\label{{{label}}}\n\
         {begin}\n\\toprule\n{}\\midrule\n",
        prov.tool_version,
        prov.logical_digest,
        packages.join(","),
        head.join(" & ") + " \\\\\n",
    );
    for r in rows {
        out.push_str(&line(r.clone()));
    }
    out.push_str(&format!("\\bottomrule\n{end}\n\\end{{table}}\n"));
    out
}

/// The abbreviation AUROC and its meaning.
const AUROC: (&str, &str) = (
    "AUROC",
    "area under the receiver operating characteristic curve",
);
/// The abbreviation CI and its meaning.
const CI: (&str, &str) = ("CI", "confidence interval");

/// The (factor, method) pairs of the first `factors` factors of `configs`.
fn methods_of(configs: &[&Config], factors: usize) -> Vec<(&'static str, String)> {
    configs
        .iter()
        .flat_map(|c| FACTORS.iter().zip(&c.levels).take(factors))
        .map(|((f, _), l)| (*f, l.clone()))
        .collect()
}

/// The abbreviations sentence for `terms` and the methods of `used`.
fn defined(settings: &Settings, terms: &[(&str, &str)], used: &[(&str, String)]) -> String {
    let used: Vec<(&str, &str)> = used.iter().map(|(f, l)| (*f, l.as_str())).collect();
    abbreviations(settings, terms, &used)
}

/// The comparison table of one factor: N, mean, SD, min and max AUROC per method.
pub fn factor_table(
    prov: &Provenance,
    settings: &Settings,
    sizes: &Sizes,
    factor: &str,
    title: &str,
    rows: &[Summary],
) -> String {
    let st = super::figures::factor_style(settings, factor);
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                escape(&st.display(&r.level)),
                r.n.to_string(),
                fmt(Some(r.mean), 3),
                fmt(r.sd, 3),
                fmt(Some(r.min), 3),
                fmt(Some(r.max), 3),
            ]
        })
        .collect();
    let terms = [
        AUROC,
        ("N", "number of configurations"),
        ("SD", "standard deviation"),
    ];
    table(
        prov,
        &caption(
            &format!("{title}: AUROC across configurations, by method (best mean first)."),
            sizes,
            &abbreviations(settings, &terms, &[]),
        ),
        &format!("tab:{}", factor.replace('_', "-")),
        &[
            Col::Wrap,
            Col::Num("3.0"),
            Col::Num("1.3"),
            Col::Num("1.3"),
            Col::Num("1.3"),
            Col::Num("1.3"),
        ],
        &["Method", "N", "Mean AUROC", "SD", "Min", "Max"],
        &body,
    )
}

fn pipeline_cells(settings: &Settings, c: &Config) -> Vec<String> {
    FACTORS
        .iter()
        .zip(&c.levels)
        .map(|((f, _), l)| escape(&style::label(super::figures::factor_style(settings, f), l)))
        .collect()
}

/// The top ten configurations by AUROC, with the bootstrap 95 % CI.
pub fn top_table(
    prov: &Provenance,
    settings: &Settings,
    sizes: &Sizes,
    ranked: &[Config],
) -> String {
    let shown: Vec<&Config> = ranked.iter().take(10).collect();
    let body: Vec<Vec<String>> = shown
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut row = vec![(i + 1).to_string()];
            row.extend(pipeline_cells(settings, c));
            row.push(with_ci(c.auroc, c.ci_lower, c.ci_upper));
            row
        })
        .collect();
    table(
        prov,
        &caption(
            "Top pipelines by AUROC (mean over bootstrap models, 95\\% bootstrap CI).",
            sizes,
            &defined(settings, &[AUROC, CI], &methods_of(&shown, 4)),
        ),
        "tab:top-pipelines",
        &[
            Col::Right,
            Col::Wrap,
            Col::Wrap,
            Col::Wrap,
            Col::Wrap,
            Col::Centre,
        ],
        &[
            "Rank",
            "Outlier",
            "Imputation",
            "Classifier",
            "Featurization",
            "AUROC [95\\% CI]",
        ],
        &body,
    )
}

/// The STRATOS table of the top-k configurations: discrimination, overall accuracy,
/// calibration and clinical utility.
pub fn stratos_table(
    prov: &Provenance,
    settings: &Settings,
    sizes: &Sizes,
    ranked: &[Config],
    essential: &DataFrame,
) -> anyhow::Result<String> {
    let ids = ints(essential, "config_id")?;
    let cols = [
        "brier",
        "scaled_brier",
        "calibration_slope",
        "calibration_intercept",
        "o_e_ratio",
        "net_benefit_15pct",
    ];
    let values: Vec<Vec<Option<f64>>> = cols
        .iter()
        .map(|c| floats(essential, c))
        .collect::<anyhow::Result<_>>()?;
    let mut body = Vec::new();
    let shown: Vec<&Config> = ranked.iter().take(settings.analysis.top_k.max(1)).collect();
    for (i, c) in shown.iter().enumerate() {
        let Some(row) = ids.iter().position(|id| *id == Some(c.id)) else {
            continue;
        };
        let cells = pipeline_cells(settings, c);
        let mut r = vec![
            (i + 1).to_string(),
            format!("{} + {}, {}", cells[0], cells[1], cells[2]),
            fmt(Some(c.auroc), 3),
            format!("{}--{}", fmt(c.ci_lower, 3), fmt(c.ci_upper, 3)),
        ];
        r.extend(values.iter().map(|v| fmt(v[row], 3)));
        body.push(r);
    }
    let terms = [
        AUROC,
        CI,
        ("Cal.", "calibration"),
        ("IPA", "index of prediction accuracy"),
        ("NB", "net benefit"),
        ("O:E", "observed:expected ratio"),
    ];
    let num = Col::Num("1.3");
    Ok(table(
        prov,
        &caption(
            "STRATOS measures of the top configurations (outlier + imputation method, classifier): AUROC with its 95\\% bootstrap CI, Brier score, scaled Brier score (IPA), calibration slope and intercept, O:E and NB at a 15\\% risk threshold.",
            sizes,
            &defined(settings, &terms, &methods_of(&shown, 3)),
        ),
        "tab:stratos",
        &[Col::Right, Col::Wrap, num, Col::Centre, num, num, num, Col::Num("-1.3"), num, num],
        &[
            "\\#",
            "Pipeline",
            "AUROC",
            "95\\% CI",
            "Brier",
            &stack(&["Scaled", "Brier"]),
            &stack(&["Cal.", "slope"]),
            &stack(&["Cal.", "intercept"]),
            "O:E",
            &stack(&["NB", "(15\\%)"]),
        ],
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
            "Type II ANOVA of AUROC on the main effects of the pipeline factors.",
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
    fn wrapping_cells_may_break_in_long_names() {
        assert_eq!(
            breakable("LogisticRegression + pupil-gt\\_x"),
            "Logistic\\allowbreak{}Regression + pupil-\\allowbreak{}gt\\_\\allowbreak{}x"
        );
        assert_eq!(si_cell("$-$0.379"), "-0.379");
        assert_eq!(si_cell("$<$0.001"), "<0.001");
        assert_eq!(si_cell("--"), "{--}");
    }

    #[test]
    fn missing_values_print_as_dashes() {
        assert_eq!(fmt(None, 3), "--");
        assert_eq!(fmt(Some(f64::NAN), 3), "--");
        assert_eq!(with_ci(0.9, Some(0.85), None), "0.900 [0.850, --]");
        assert_eq!(p_value(Some(0.0001)), "$<$0.001");
        assert_eq!(fmt(Some(-0.3791), 3), "$-$0.379");
        assert_eq!(significant(0.0123456, 3), "0.0123");
        assert_eq!(significant(0.123456, 3), "0.123");
    }
}
