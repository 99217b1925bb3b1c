//! How methods are shown: display names, short labels, categories and category colours, and
//! which methods are oracles.
//!
//! The `methods` section of the config ([`FactorStyle`] per factor) holds the settings; this
//! module applies them. Figures, tables, captions and macros all name a method through it, so
//! a method reads the same and has the same colour everywhere.

use plotters::style::RGBColor;

use super::stats::FACTORS;
use super::style::PALETTE;
use crate::config::{CategoryRule, Config, FactorStyle, MethodsConfig};

/// Labels longer than this are shortened when the config gives no abbreviation.
const DEFAULT_MAX_LABEL: usize = 22;

/// The category of methods that no explicit category or rule places.
const OTHER: &str = "Other";

/// The style of a factor's methods in the config.
pub fn factor_style<'a>(config: &'a Config, factor: &str) -> &'a FactorStyle {
    let m = &config.methods;
    match factor {
        "outlier_method" => &m.outlier,
        "imputation_method" => &m.imputation,
        "classifier" => &m.classifier,
        _ => &m.featurization,
    }
}

/// Whether `name` satisfies every condition of `rule` (a rule with none matches all).
fn matches(rule: &CategoryRule, name: &str) -> bool {
    rule.equals.as_deref().is_none_or(|e| e == name)
        && rule
            .starts_with
            .as_deref()
            .is_none_or(|p| name.starts_with(p))
        && (rule.contains_any.is_empty()
            || rule.contains_any.iter().any(|s| name.contains(s.as_str())))
}

/// The category of a method: its explicit category, else the first matching rule, else
/// `Other`.
pub fn category(style: &FactorStyle, name: &str) -> String {
    style
        .names
        .get(name)
        .and_then(|m| m.category.clone())
        .or_else(|| {
            style
                .categories
                .iter()
                .find(|r| matches(r, name))
                .map(|r| r.category.clone())
        })
        .unwrap_or_else(|| OTHER.into())
}

/// The full display name of a method (the name itself when none is configured).
pub fn display(style: &FactorStyle, name: &str) -> String {
    style
        .names
        .get(name)
        .and_then(|m| m.display.clone())
        .unwrap_or_else(|| name.to_string())
}

/// The short label of a method for axes: its configured abbreviation or display name,
/// shortened with an ellipsis past the factor's `max_label_len`. A method name comes from run
/// names, so control and invisible characters are written as visible escapes (`\u{1b}`): a
/// label is one line of drawn text, and SVG cannot hold most control characters.
pub fn label(style: &FactorStyle, name: &str) -> String {
    let configured = style
        .names
        .get(name)
        .and_then(|m| m.abbreviation.clone())
        .unwrap_or_else(|| display(style, name));
    let label = crate::ui::sanitize::one_line(&configured).into_owned();
    let max = style.max_label_len.unwrap_or(DEFAULT_MAX_LABEL).max(4);
    if label.chars().count() > max {
        format!("{}…", label.chars().take(max - 1).collect::<String>())
    } else {
        label
    }
}

/// Every method category the config names, in order of first appearance over the four
/// factors, then `Other`.
pub fn categories(methods: &MethodsConfig) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for f in [
        &methods.outlier,
        &methods.imputation,
        &methods.classifier,
        &methods.featurization,
    ] {
        let explicit = f.names.values().filter_map(|m| m.category.clone());
        for c in f
            .categories
            .iter()
            .map(|r| r.category.clone())
            .chain(explicit)
        {
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    if !out.iter().any(|c| c == OTHER) {
        out.push(OTHER.into());
    }
    out
}

/// The colour of a method category: the same category has the same colour in every figure.
pub fn category_colour(methods: &MethodsConfig, category: &str) -> RGBColor {
    let i = categories(methods)
        .iter()
        .position(|c| c == category)
        .unwrap_or(0);
    PALETTE[i % PALETTE.len()]
}

/// Whether `level` of `factor` is an oracle: its category is one of
/// `analysis.oracle_categories`.
pub fn is_oracle(config: &Config, factor: &str, level: &str) -> bool {
    let c = category(factor_style(config, factor), level);
    config.analysis.oracle_categories.contains(&c)
}

/// Whether a configuration with `levels` (one per factor, in [`FACTORS`] order) uses an
/// oracle method.
pub fn uses_oracle(config: &Config, levels: &[String; 4]) -> bool {
    FACTORS
        .iter()
        .zip(levels)
        .any(|((f, _), l)| is_oracle(config, f, l))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_rules_first_match_wins() {
        let style = FactorStyle {
            categories: vec![
                CategoryRule {
                    equals: Some("pupil-gt".into()),
                    category: "Ground Truth".into(),
                    ..Default::default()
                },
                CategoryRule {
                    starts_with: Some("ensemble".into()),
                    category: "Ensemble".into(),
                    ..Default::default()
                },
                CategoryRule {
                    contains_any: vec!["MOMENT".into()],
                    category: "Foundation Model".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        assert_eq!(category(&style, "pupil-gt"), "Ground Truth");
        assert_eq!(category(&style, "ensemble-LOF-MOMENT"), "Ensemble");
        assert_eq!(category(&style, "MOMENT-gt-finetune"), "Foundation Model");
        assert_eq!(category(&style, "LOF"), "Other");
    }
}
