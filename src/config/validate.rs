//! Validation of a parsed configuration: every value outside its allowed range is refused
//! with [`ConfigError::BadValue`], naming the file and the dotted key.

use std::collections::BTreeSet;
use std::path::Path;

use super::{Config, ConfigError};

impl Config {
    /// Checks the values serde cannot: patterns, prefixes, ranges and custom steps. The first
    /// problem found is the error.
    pub(super) fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let bad = |key: &str, message: String| ConfigError::BadValue {
            path: path.to_path_buf(),
            key: key.to_string(),
            message,
        };
        crate::mlflow::RunNamePattern::parse(&self.run_name.pattern)
            .map_err(|m| bad("run_name.pattern", m))?;
        for (i, p) in self.run_name.legacy_patterns.iter().enumerate() {
            crate::mlflow::RunNamePattern::parse_partial(p)
                .map_err(|m| bad(&format!("run_name.legacy_patterns[{i}]"), m))?;
        }
        if !self.store.metrics_pickle.contains("{run_name}")
            && self.store.metrics_pickle.contains('{')
        {
            return Err(bad(
                "store.metrics_pickle",
                "the only placeholder allowed is `{run_name}`".into(),
            ));
        }
        if let Err(why) = crate::mlflow::check_artifact_path(&self.store.metrics_pickle) {
            return Err(bad(
                "store.metrics_pickle",
                format!("must be a path inside a run's artifact directory: it {why}"),
            ));
        }
        for (label, prefix) in &self.anonymization.label_prefixes {
            if prefix.is_empty() || !prefix.chars().all(|c| c.is_ascii_alphabetic()) {
                return Err(bad(
                    &format!("anonymization.label_prefixes.{label}"),
                    format!("`{prefix}` must be one or more ASCII letters"),
                ));
            }
        }
        let prefixes: BTreeSet<_> = self.anonymization.label_prefixes.values().collect();
        if prefixes.len() != self.anonymization.label_prefixes.len() {
            return Err(bad(
                "anonymization.label_prefixes",
                "two labels share a prefix".into(),
            ));
        }
        if !(100..=100_000).contains(&self.test_bootstrap.resamples) {
            return Err(bad(
                "test_bootstrap.resamples",
                format!("{} is outside 100..=100000", self.test_bootstrap.resamples),
            ));
        }
        if self.analysis.top_k == 0 {
            return Err(bad("analysis.top_k", "must be at least 1".into()));
        }
        if !(72..=1200).contains(&self.analysis.png_dpi) {
            return Err(bad(
                "analysis.png_dpi",
                format!("{} is outside 72..=1200", self.analysis.png_dpi),
            ));
        }
        for (key, mm) in [
            ("analysis.figure_width_mm", self.analysis.figure_width_mm),
            (
                "analysis.single_column_width_mm",
                self.analysis.single_column_width_mm,
            ),
        ] {
            if !(40.0..=500.0).contains(&mm) {
                return Err(bad(key, format!("{mm} mm is outside 40..=500")));
            }
        }
        if self.runner.attempts == 0 {
            return Err(bad(
                "runner.attempts",
                "must be at least 1 (1 means no retry)".into(),
            ));
        }
        if self.runner.step_timeout_s == 0 {
            return Err(bad(
                "runner.step_timeout_s",
                "must be at least 1 second".into(),
            ));
        }
        let mut names = BTreeSet::new();
        for (i, step) in self.runner.custom_steps.iter().enumerate() {
            let key = format!("runner.custom_steps[{i}]");
            if step.name.is_empty()
                || !step
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(bad(
                    &format!("{key}.name"),
                    format!(
                        "`{}` is not a step name (letters, digits, `-` and `_`)",
                        step.name
                    ),
                ));
            }
            if !names.insert(step.name.as_str()) {
                return Err(bad(
                    &format!("{key}.name"),
                    format!("`{}` names two custom steps", step.name),
                ));
            }
            if step.command.is_empty() {
                return Err(bad(
                    &format!("{key}.command"),
                    "is empty: give the program and its arguments, e.g. [Rscript, fig.R]".into(),
                ));
            }
            if step.outputs.is_empty() {
                return Err(bad(
                    &format!("{key}.outputs"),
                    "is empty: a step must declare the files it writes".into(),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{Config, ConfigError};

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("test.yaml"))
    }

    #[test]
    fn bad_value_names_the_key() {
        let msg = parse("analysis:\n  top_k: 0\n").unwrap_err().to_string();
        assert_eq!(
            msg,
            "invalid config file `test.yaml`: key `analysis.top_k`: must be at least 1"
        );
    }

    #[test]
    fn pattern_needs_all_factors() {
        let msg = parse("run_name:\n  pattern: \"{classifier}__{outlier}\"\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("run_name.pattern"), "{msg}");
    }

    #[test]
    fn a_metrics_pickle_pattern_that_leaves_the_artifacts_is_refused() {
        for pattern in [
            "../{run_name}.pickle",
            "/tmp/{run_name}",
            "a/../../{run_name}",
        ] {
            let msg = parse(&format!("store:\n  metrics_pickle: '{pattern}'\n"))
                .unwrap_err()
                .to_string();
            assert!(
                msg.contains("store.metrics_pickle") && msg.contains("inside a run's artifact"),
                "{msg}"
            );
        }
    }

    #[test]
    fn custom_steps_are_checked() {
        let ok = "runner:\n  custom_steps:\n    - {name: r-fig, command: [Rscript, f.R], outputs: [f.png]}\n";
        assert_eq!(parse(ok).unwrap().runner.custom_steps[0].name, "r-fig");
        for (bad_step, key) in [
            (
                "{name: 'a b', command: [x], outputs: [f]}",
                "runner.custom_steps[0].name",
            ),
            (
                "{name: a, command: [], outputs: [f]}",
                "runner.custom_steps[0].command",
            ),
            ("{name: a, command: [x]}", "runner.custom_steps[0].outputs"),
        ] {
            let msg = parse(&format!("runner:\n  custom_steps:\n    - {bad_step}\n"))
                .unwrap_err()
                .to_string();
            assert!(msg.contains(key), "{msg}");
        }
        let twice = "runner:\n  custom_steps:\n    - {name: a, command: [x], outputs: [f]}\n    - {name: a, command: [y], outputs: [g]}\n";
        assert!(parse(twice)
            .unwrap_err()
            .to_string()
            .contains("names two custom steps"));
    }
}
