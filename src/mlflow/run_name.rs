//! The run-name grammar: how a run name encodes the factors of the experiment.
//!
//! A pattern such as `{classifier}_eval-{metric}__{featurization}__{imputation}__{outlier}` is
//! a sequence of placeholders separated by literal text. Each placeholder takes the text up to
//! the next occurrence of the literal that follows it; the last one takes the rest. Names that
//! do not fit are classified (synthetic, legacy, malformed), never guessed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The config's `run_name` section: the grammar of run names, as written (the config
/// re-exports it for its schema).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RunNameConfig {
    /// The pattern with `{classifier}`, `{featurization}`, `{imputation}`, `{outlier}` and
    /// optionally `{metric}` placeholders, separated by literal text.
    pub pattern: String,
    /// Older patterns that are recognised (and excluded as legacy) rather than called malformed.
    pub legacy_patterns: Vec<String>,
    /// Runs whose name starts with this prefix are synthetic and excluded.
    pub synthetic_prefix: String,
    /// Canonical spellings of classifier names as they appear in run names.
    pub classifier_aliases: BTreeMap<String, String>,
}

impl Default for RunNameConfig {
    fn default() -> Self {
        Self {
            pattern: "{classifier}_eval-{metric}__{featurization}__{imputation}__{outlier}".into(),
            legacy_patterns: vec!["{classifier}__{imputation}".into()],
            synthetic_prefix: "__SYNTHETIC_".into(),
            classifier_aliases: BTreeMap::from([
                ("CATBOOST".into(), "CatBoost".into()),
                ("XGBOOST".into(), "XGBoost".into()),
            ]),
        }
    }
}

/// The four factors every configuration is identified by.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Factors {
    /// Classifier, canonicalized (e.g. `CatBoost`).
    pub classifier: String,
    /// Featurization (e.g. `simple1.0`).
    pub featurization: String,
    /// Imputation method.
    pub imputation: String,
    /// Outlier-detection method.
    pub outlier: String,
}

/// What a run name is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameClass {
    /// A name that fits the grammar.
    Factors(Factors),
    /// A synthetic run (name starts with the synthetic prefix).
    Synthetic,
    /// A name that fits a legacy pattern, which lacks some factors.
    Legacy {
        /// The legacy pattern it fits.
        pattern: String,
    },
    /// A name that fits no pattern.
    Malformed {
        /// Why it does not fit the main pattern.
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Field(Field),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Classifier,
    Metric,
    Featurization,
    Imputation,
    Outlier,
}

impl Field {
    fn parse(name: &str) -> Option<Field> {
        Some(match name {
            "classifier" => Field::Classifier,
            "metric" => Field::Metric,
            "featurization" => Field::Featurization,
            "imputation" => Field::Imputation,
            "outlier" => Field::Outlier,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Field::Classifier => "classifier",
            Field::Metric => "metric",
            Field::Featurization => "featurization",
            Field::Imputation => "imputation",
            Field::Outlier => "outlier",
        }
    }
}

/// A parsed run-name pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunNamePattern {
    text: String,
    pieces: Vec<Piece>,
}

impl RunNamePattern {
    /// Parses a pattern that must contain all four factors.
    pub fn parse(text: &str) -> Result<Self, String> {
        let pattern = Self::parse_partial(text)?;
        for required in [
            Field::Classifier,
            Field::Featurization,
            Field::Imputation,
            Field::Outlier,
        ] {
            if !pattern.pieces.contains(&Piece::Field(required)) {
                return Err(format!(
                    "the pattern `{text}` has no `{{{}}}` placeholder",
                    required.name()
                ));
            }
        }
        Ok(pattern)
    }

    /// Parses a pattern that may lack some factors (legacy names).
    pub fn parse_partial(text: &str) -> Result<Self, String> {
        let mut pieces = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('{') {
                let end = after
                    .find('}')
                    .ok_or_else(|| format!("unclosed `{{` in the pattern `{text}`"))?;
                let name = &after[..end];
                let field = Field::parse(name).ok_or_else(|| {
                    format!(
                        "unknown placeholder `{{{name}}}` in `{text}` \
                         (known: classifier, metric, featurization, imputation, outlier)"
                    )
                })?;
                if pieces.contains(&Piece::Field(field)) {
                    return Err(format!("`{{{name}}}` appears twice in `{text}`"));
                }
                if matches!(pieces.last(), Some(Piece::Field(_))) {
                    return Err(format!(
                        "two placeholders touch in `{text}`: put a separator between them"
                    ));
                }
                pieces.push(Piece::Field(field));
                rest = &after[end + 1..];
            } else {
                let end = rest.find('{').unwrap_or(rest.len());
                pieces.push(Piece::Literal(rest[..end].to_string()));
                rest = &rest[end..];
            }
        }
        if !pieces.iter().any(|p| matches!(p, Piece::Field(_))) {
            return Err(format!("the pattern `{text}` has no placeholder"));
        }
        Ok(Self {
            text: text.to_string(),
            pieces,
        })
    }

    /// Matches a name, giving each placeholder's value, or why the name does not fit.
    fn capture(&self, name: &str) -> Result<Vec<(Field, String)>, String> {
        let mut rest = name;
        let mut values = Vec::new();
        for (i, piece) in self.pieces.iter().enumerate() {
            match piece {
                Piece::Literal(lit) => {
                    rest = rest.strip_prefix(lit.as_str()).ok_or_else(|| {
                        format!("expected `{lit}` after {}", describe_position(&values))
                    })?;
                }
                Piece::Field(field) => {
                    let value = match self.pieces.get(i + 1) {
                        Some(Piece::Literal(next)) => {
                            let end = rest.find(next.as_str()).ok_or_else(|| {
                                format!("no `{next}` after the {} part", field.name())
                            })?;
                            &rest[..end]
                        }
                        _ => rest,
                    };
                    if value.is_empty() {
                        return Err(format!("the {} part is empty", field.name()));
                    }
                    rest = &rest[value.len()..];
                    values.push((*field, value.to_string()));
                }
            }
        }
        if !rest.is_empty() {
            return Err(format!("unexpected trailing text `{rest}`"));
        }
        // The last placeholder took the rest of the name: it must not hold another separator,
        // or the name has more parts than the pattern.
        let separators: Vec<&str> = self
            .pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Literal(l) if !l.is_empty() => Some(l.as_str()),
                _ => None,
            })
            .collect();
        if let Some((field, value)) = values.last() {
            if let Some(sep) = separators.iter().find(|s| value.contains(**s)) {
                return Err(format!(
                    "the {} part `{value}` contains the separator `{sep}`: too many parts",
                    field.name()
                ));
            }
        }
        Ok(values)
    }

    /// The pattern as written in the config.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

fn describe_position(values: &[(Field, String)]) -> String {
    match values.last() {
        Some((field, _)) => format!("the {} part", field.name()),
        None => "the start".to_string(),
    }
}

/// The configured grammar: the main pattern, legacy patterns, the synthetic prefix and
/// classifier aliases.
#[derive(Debug, Clone)]
pub struct RunNameRules {
    pattern: RunNamePattern,
    legacy: Vec<RunNamePattern>,
    synthetic_prefix: String,
    aliases: BTreeMap<String, String>,
}

impl RunNameRules {
    /// Builds the rules from the (already validated) config section.
    pub fn from_config(config: &RunNameConfig) -> Result<Self, String> {
        Ok(Self {
            pattern: RunNamePattern::parse(&config.pattern)?,
            legacy: config
                .legacy_patterns
                .iter()
                .map(|p| RunNamePattern::parse_partial(p))
                .collect::<Result<_, _>>()?,
            synthetic_prefix: config.synthetic_prefix.clone(),
            aliases: config.classifier_aliases.clone(),
        })
    }

    /// Classifies a run name.
    pub fn classify(&self, name: &str) -> NameClass {
        if !self.synthetic_prefix.is_empty() && name.starts_with(&self.synthetic_prefix) {
            return NameClass::Synthetic;
        }
        match self.pattern.capture(name) {
            Ok(values) => NameClass::Factors(self.factors(values)),
            Err(reason) => match self.legacy.iter().find(|p| p.capture(name).is_ok()) {
                Some(p) => NameClass::Legacy {
                    pattern: p.as_str().to_string(),
                },
                None => NameClass::Malformed {
                    reason: format!("does not fit `{}`: {reason}", self.pattern.as_str()),
                },
            },
        }
    }

    fn factors(&self, values: Vec<(Field, String)>) -> Factors {
        let mut f = Factors {
            classifier: String::new(),
            featurization: String::new(),
            imputation: String::new(),
            outlier: String::new(),
        };
        for (field, value) in values {
            match field {
                Field::Classifier => {
                    f.classifier = self.aliases.get(&value).cloned().unwrap_or(value)
                }
                Field::Featurization => f.featurization = value,
                Field::Imputation => f.imputation = value,
                Field::Outlier => f.outlier = value,
                Field::Metric => {}
            }
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> RunNameRules {
        RunNameRules::from_config(&RunNameConfig::default()).unwrap()
    }

    fn factors(c: &str, f: &str, i: &str, o: &str) -> NameClass {
        NameClass::Factors(Factors {
            classifier: c.into(),
            featurization: f.into(),
            imputation: i.into(),
            outlier: o.into(),
        })
    }

    #[test]
    fn reference_names_parse_with_imputation_before_outlier() {
        let r = rules();
        assert_eq!(
            r.classify("CATBOOST_eval-auc__simple1.0__SAITS__MOMENT-gt-finetune"),
            factors("CatBoost", "simple1.0", "SAITS", "MOMENT-gt-finetune")
        );
        assert_eq!(
            r.classify("LogisticRegression_eval-roc_auc__simple1.0__MOMENT-zeroshot__OneClassSVM"),
            factors(
                "LogisticRegression",
                "simple1.0",
                "MOMENT-zeroshot",
                "OneClassSVM"
            )
        );
        assert_eq!(
            r.classify("XGBOOST_eval-auc__simple1.0__CSDI__ensemble-LOF-MOMENT-OneClassSVM-PROPHET-SubPCA-TimesNet-UniTS-gt-finetune"),
            factors("XGBoost", "simple1.0", "CSDI", "ensemble-LOF-MOMENT-OneClassSVM-PROPHET-SubPCA-TimesNet-UniTS-gt-finetune")
        );
    }

    #[test]
    fn synthetic_legacy_and_malformed_are_classified() {
        let r = rules();
        assert_eq!(
            r.classify("__SYNTHETIC_CATBOOST_eval-auc__simple1.0__SAITS__LOF"),
            NameClass::Synthetic
        );
        assert_eq!(
            r.classify("CATBOOST__SAITS"),
            NameClass::Legacy {
                pattern: "{classifier}__{imputation}".into()
            }
        );
        let NameClass::Malformed { reason } =
            r.classify("CATBOOST_eval-auc__simple1.0__SAITS__LOF__extra")
        else {
            panic!("five parts must not parse");
        };
        assert!(reason.contains("too many parts"), "{reason}");
        assert!(matches!(
            r.classify("CATBOOST_eval-auc__simple1.0____LOF"),
            NameClass::Malformed { .. }
        ));
        assert!(matches!(
            r.classify("just-a-name"),
            NameClass::Malformed { .. }
        ));
    }

    #[test]
    fn bad_patterns_are_rejected() {
        assert!(RunNamePattern::parse("{classifier}{outlier}").is_err());
        assert!(RunNamePattern::parse("{classifier}__{imputation}").is_err());
        assert!(RunNamePattern::parse("{classifier}__{bogus}").is_err());
        assert!(RunNamePattern::parse_partial("{classifier}__{imputation}").is_ok());
    }
}
