//! The typed YAML configuration, its defaults and validation, and the resolution of CLI
//! flags against it.
//!
//! [`Config`] mirrors the YAML file (`configs/default.yaml`); unknown keys and wrong types are
//! rejected with an error that names the key and the file. [`Settings`] is what commands use:
//! the config with the CLI flags and the environment applied once, in the documented
//! precedence (flag > config file > `MLFLOW_TRACKING_URI`).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

mod layout;

/// The whole configuration file.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the MLflow runs are and how to find their pickles.
    pub store: StoreConfig,
    /// How run names encode the factors of the experiment.
    pub run_name: RunNameConfig,
    /// Which runs are included.
    pub selection: SelectionConfig,
    /// How subject codes are replaced by anonymous codes.
    pub anonymization: AnonymizationConfig,
    /// The optional private subjects database for the demo-traces figure.
    pub subjects: SubjectsConfig,
    /// Settings that belong to the bundled demo store and apply to it alone.
    pub demo: DemoConfig,
    /// Where outputs go.
    pub outputs: OutputsConfig,
    /// The subject-level bootstrap of the test-set intervals, computed at extraction.
    pub test_bootstrap: TestBootstrapConfig,
    /// What Block 2 draws and tabulates.
    pub analysis: AnalysisConfig,
    /// Display names, abbreviations and categories of methods, per factor.
    pub methods: MethodsConfig,
    /// Retries, timeouts, the lock and custom steps.
    pub runner: RunnerConfig,
}

/// The `store` section.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// A directory, `file://PATH` or `sqlite:///PATH`; `None` falls back to `MLFLOW_TRACKING_URI`.
    pub tracking_uri: Option<String>,
    /// Experiment name or id; `None` picks the only non-default experiment.
    pub experiment: Option<String>,
    /// Fallback artifact directory for SQLite stores whose `artifact_uri` moved.
    pub artifact_root: Option<PathBuf>,
    /// Path of the metrics pickle inside a run's artifacts; `{run_name}` is substituted.
    pub metrics_pickle: String,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            tracking_uri: None,
            experiment: None,
            artifact_root: None,
            metrics_pickle: "metrics/metrics_{run_name}.pickle".into(),
        }
    }
}

/// The `run_name` section: the grammar of run names.
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

/// The `selection` section.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SelectionConfig {
    /// When set, only methods listed here are included; others are excluded with the reason.
    pub registry: Option<Registry>,
    /// When set, only these featurizations are included.
    pub featurizations: Option<Vec<String>>,
    /// Most failed runs tolerated before extraction fails.
    pub max_failed_runs: usize,
}

/// Allowed method names per factor.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Registry {
    /// Allowed outlier-detection methods.
    pub outlier: Vec<String>,
    /// Allowed imputation methods.
    pub imputation: Vec<String>,
    /// Allowed classifiers (canonical spelling).
    pub classifier: Vec<String>,
}

/// The `anonymization` section.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AnonymizationConfig {
    /// File holding the secret key; `None` uses `<private_dir>/anonymization_secret`,
    /// created with a random key on first use.
    pub secret_file: Option<PathBuf>,
    /// Prefix of anonymous codes per label (0 → `H`, 1 → `G`).
    pub label_prefixes: BTreeMap<i64, String>,
}

impl Default for AnonymizationConfig {
    fn default() -> Self {
        Self {
            secret_file: None,
            label_prefixes: BTreeMap::from([(0, "H".into()), (1, "G".into())]),
        }
    }
}

/// The `subjects` section.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SubjectsConfig {
    /// Private DuckDB of per-subject traces (tables `train` and `test`); `None` disables traces.
    pub database: Option<PathBuf>,
    /// Anonymous codes of the subjects whose traces are exported privately and drawn.
    pub demo_subjects: Vec<String>,
}

/// The `demo` section: the public secret and the subjects of the bundled demo store.
///
/// These settings apply only to the store the public secret was made for (the experiment id
/// and run ids it names, see [`crate::extract::secret`]); on any other store they are set
/// aside with one line of explanation, and the store gets a private random secret.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DemoConfig {
    /// The demo's public secret, committed so its checkpoint can be re-derived on any clone.
    pub secret_file: Option<PathBuf>,
    /// The demo's private subjects database (tables `train` and `test`).
    pub subjects_database: Option<PathBuf>,
    /// Anonymous codes of the demo subjects whose traces are exported privately and drawn.
    pub subjects: Vec<String>,
}

/// The `outputs` section.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct OutputsConfig {
    /// The public DuckDB checkpoint.
    pub db: PathBuf,
    /// Private directory (lookup, traces, secret); never published.
    pub private_dir: PathBuf,
    /// Figures directory.
    pub figures_dir: PathBuf,
    /// LaTeX tables, `numbers.tex` and reports.
    pub outputs_dir: PathBuf,
    /// Cache, ledger and logs.
    pub cache_dir: PathBuf,
}

impl Default for OutputsConfig {
    fn default() -> Self {
        Self {
            db: "data/public/results.duckdb".into(),
            private_dir: "data/private".into(),
            figures_dir: "figures".into(),
            outputs_dir: "outputs".into(),
            cache_dir: ".mlrepro".into(),
        }
    }
}

/// The `test_bootstrap` section: the seeded subject-level (test-set) bootstrap that gives the
/// metrics of the mean prediction their `<metric>_test_ci_*` intervals.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct TestBootstrapConfig {
    /// Seed of the resampling generator: the same seed gives the same intervals.
    pub seed: u64,
    /// Number of resamples of the test subjects.
    pub resamples: usize,
}

impl Default for TestBootstrapConfig {
    fn default() -> Self {
        Self {
            seed: 20_240_601,
            resamples: 2000,
        }
    }
}

/// The `analysis` section.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AnalysisConfig {
    /// Classifier of the outlier × imputation heatmap; `None` takes the one with most configs.
    pub heatmap_classifier: Option<String>,
    /// How many top configurations the calibration, DCA and STRATOS outputs show.
    pub top_k: usize,
    /// A reference AUROC drawn as a vertical line on forest plots.
    pub reference_auroc: Option<f64>,
    /// Figure formats to write.
    pub formats: Vec<FigureFormat>,
    /// Resolution of PNG figures.
    pub png_dpi: u32,
    /// Printed width in millimetres of a double-column figure (the PDF's page width).
    pub figure_width_mm: f64,
    /// Printed width in millimetres of a single-column figure (the PDF's page width).
    pub single_column_width_mm: f64,
    /// Method categories that are oracles (such as ground-truth annotations): drawn as a
    /// reference, never ranked as a winner nor taken as the reference configuration.
    pub oracle_categories: Vec<String>,
    /// Run name (`source_name`) of the configuration that paired comparisons are made
    /// against; `None` takes the best configuration that uses no oracle method.
    pub reference_config: Option<String>,
    /// Retention curves stop where fewer subjects than this are retained.
    pub retention_min_subjects: usize,
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        Self {
            heatmap_classifier: None,
            top_k: 5,
            reference_auroc: None,
            formats: vec![FigureFormat::Png, FigureFormat::Svg, FigureFormat::Pdf],
            png_dpi: 300,
            figure_width_mm: 183.0,
            single_column_width_mm: 89.0,
            oracle_categories: vec!["Ground Truth".into()],
            reference_config: None,
            retention_min_subjects: 30,
        }
    }
}

/// A figure file format.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FigureFormat {
    /// Raster image at `png_dpi`.
    Png,
    /// Scalable vector graphics.
    Svg,
    /// Vector PDF for LaTeX.
    Pdf,
}

/// The `methods` section: presentation of method names, per factor.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MethodsConfig {
    /// Outlier-detection methods.
    pub outlier: FactorStyle,
    /// Imputation methods.
    pub imputation: FactorStyle,
    /// Classifiers.
    pub classifier: FactorStyle,
    /// Featurizations.
    pub featurization: FactorStyle,
}

/// Display names, abbreviations and category rules for one factor.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct FactorStyle {
    /// Per method name: how to show it.
    pub names: BTreeMap<String, MethodStyle>,
    /// Ordered rules giving a method's category; the first match wins.
    pub categories: Vec<CategoryRule>,
    /// Names longer than this are abbreviated when no abbreviation is configured.
    pub max_label_len: Option<usize>,
}

/// How one method is shown.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MethodStyle {
    /// Full display name.
    pub display: Option<String>,
    /// Short label for axes and tables.
    pub abbreviation: Option<String>,
    /// Category (overrides the rules).
    pub category: Option<String>,
}

/// One category rule: a method matches when every condition given holds.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CategoryRule {
    /// The method name equals this.
    pub equals: Option<String>,
    /// The method name starts with this.
    pub starts_with: Option<String>,
    /// The method name contains one of these.
    pub contains_any: Vec<String>,
    /// The category given to matching methods.
    pub category: String,
}

impl CategoryRule {
    /// Whether `name` satisfies every condition of the rule (a rule with none matches all).
    pub fn matches(&self, name: &str) -> bool {
        self.equals.as_deref().is_none_or(|e| e == name)
            && self
                .starts_with
                .as_deref()
                .is_none_or(|p| name.starts_with(p))
            && (self.contains_any.is_empty()
                || self.contains_any.iter().any(|s| name.contains(s.as_str())))
    }
}

impl FactorStyle {
    /// The category of a method: its explicit category, else the first matching rule, else
    /// `Other`.
    pub fn category(&self, name: &str) -> String {
        self.names
            .get(name)
            .and_then(|m| m.category.clone())
            .or_else(|| {
                self.categories
                    .iter()
                    .find(|r| r.matches(name))
                    .map(|r| r.category.clone())
            })
            .unwrap_or_else(|| "Other".into())
    }

    /// The full display name of a method (the name itself when none is configured).
    pub fn display(&self, name: &str) -> String {
        self.names
            .get(name)
            .and_then(|m| m.display.clone())
            .unwrap_or_else(|| name.to_string())
    }

    /// The short label of a method: its abbreviation, else its display name.
    pub fn label(&self, name: &str) -> String {
        self.names
            .get(name)
            .and_then(|m| m.abbreviation.clone())
            .unwrap_or_else(|| self.display(name))
    }
}

/// The `runner` section.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RunnerConfig {
    /// Attempts per step for transient errors (1 = no retry).
    pub attempts: u32,
    /// First retry delay in milliseconds; doubles each attempt, with full jitter.
    pub backoff_initial_ms: u64,
    /// Cap of the retry delay in milliseconds.
    pub backoff_max_ms: u64,
    /// A step running longer than this many seconds is stopped and recorded as timed out.
    pub step_timeout_s: u64,
    /// Warn when a step makes no progress for this many seconds.
    pub stall_warning_s: u64,
    /// Seconds to wait for the project lock held by another mlrepro.
    pub lock_timeout_s: u64,
    /// User-declared steps (e.g. R or Python figure scripts); must be empty in this version,
    /// which refuses them rather than silently skipping them.
    pub custom_steps: Vec<CustomStep>,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            attempts: 3,
            backoff_initial_ms: 200,
            backoff_max_ms: 5_000,
            step_timeout_s: 3_600,
            stall_warning_s: 120,
            lock_timeout_s: 0,
            custom_steps: Vec::new(),
        }
    }
}

/// A user-declared step: a command with declared inputs and outputs.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CustomStep {
    /// Step name, unique among steps.
    pub name: String,
    /// Program and arguments, run in the project directory.
    pub command: Vec<String>,
    /// Files whose content decides whether the step is stale.
    pub inputs: Vec<PathBuf>,
    /// Files the step must produce.
    pub outputs: Vec<PathBuf>,
}

/// A configuration file that cannot be used, naming the file and the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file does not exist or cannot be read.
    #[error("cannot read the config file `{path}`: {reason}")]
    Unreadable {
        /// The config file.
        path: PathBuf,
        /// Why it cannot be read.
        reason: String,
    },
    /// The YAML does not parse or does not fit the schema (unknown key, wrong type).
    #[error("invalid config file `{path}`: {message}")]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// The parser's message, which names the key and its line.
        message: String,
    },
    /// A key has a value outside its allowed range.
    #[error("invalid config file `{path}`: key `{key}`: {message}")]
    BadValue {
        /// The config file.
        path: PathBuf,
        /// The dotted key.
        key: String,
        /// What is wrong with the value.
        message: String,
    },
    /// A flag or environment variable has a value that cannot be used.
    #[error("{0}")]
    Flag(String),
    /// A generated-output directory that leaves the project or would overwrite or delete
    /// something mlrepro must keep (see [`Settings::check_layout`]); names both keys.
    #[error("unsafe output directory: {0}")]
    UnsafeOutput(String),
}

impl ConfigError {
    /// A one-line suggestion for the user, where there is a real action.
    pub fn hint(&self) -> Option<String> {
        match self {
            ConfigError::Unreadable { .. } => Some(
                "pass another file with `-c FILE`; `configs/default.yaml` runs the bundled demo"
                    .into(),
            ),
            ConfigError::Invalid { message, .. } if message.contains("unknown field") => {
                Some("check the spelling of the key against `configs/default.yaml`".into())
            }
            ConfigError::UnsafeOutput(_) => Some(
                "give `outputs.figures_dir`, `outputs.outputs_dir` and `outputs.cache_dir` \
                 directories of their own inside the project (by default `figures`, `outputs` \
                 and `.mlrepro`)"
                    .into(),
            ),
            _ => None,
        }
    }
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Unreadable {
            path: path.to_path_buf(),
            reason: e.to_string().to_lowercase(),
        })?;
        Config::parse(&text, path)
    }

    /// Parses and validates YAML text; `path` is used in messages only.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let config: Config = if text.trim().is_empty() {
            Config::default()
        } else {
            serde_yaml_ng::from_str(text).map_err(|e| ConfigError::Invalid {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?
        };
        config.validate(path)?;
        Ok(config)
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
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
        let prefixes: std::collections::BTreeSet<_> =
            self.anonymization.label_prefixes.values().collect();
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
        let mut names = std::collections::BTreeSet::new();
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

/// The tracking store as given by a flag, the config or the environment, before it is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingUri {
    /// The text as the user gave it.
    pub raw: String,
    /// Where it came from, for messages.
    pub origin: Origin,
}

impl TrackingUri {
    /// The store's path on disk (a directory, or an SQLite file), when the URI names a local
    /// one: a plain path, `file://PATH`, `file:PATH` or `sqlite:///PATH`.
    pub fn local_path(&self) -> Option<PathBuf> {
        let raw = self.raw.trim();
        let path = ["sqlite:///", "file://", "file:"]
            .iter()
            .find_map(|scheme| raw.strip_prefix(scheme))
            .or((!raw.contains("://")).then_some(raw))?;
        Some(PathBuf::from(path))
    }
}

/// Where a setting came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A command-line flag.
    Flag,
    /// The config file.
    Config,
    /// An environment variable.
    Env,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Flag => "--tracking-uri",
            Origin::Config => "store.tracking_uri in the config",
            Origin::Env => "$MLFLOW_TRACKING_URI",
        })
    }
}

/// The configuration with command-line flags and the environment applied: what commands use.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The config file it came from.
    pub config_path: PathBuf,
    /// The config after overrides.
    pub config: Config,
    /// The tracking store, if any source names one.
    pub tracking_uri: Option<TrackingUri>,
    /// Parallel jobs.
    pub jobs: usize,
}

/// Flag values that override the config; every field is optional.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--tracking-uri`.
    pub tracking_uri: Option<String>,
    /// `--experiment`.
    pub experiment: Option<String>,
    /// `--artifact-root`.
    pub artifact_root: Option<PathBuf>,
    /// `--max-failed-runs`.
    pub max_failed_runs: Option<usize>,
    /// `--db`.
    pub db: Option<PathBuf>,
    /// `--private-dir`.
    pub private_dir: Option<PathBuf>,
    /// `--figures-dir`.
    pub figures_dir: Option<PathBuf>,
    /// `--outputs-dir`.
    pub outputs_dir: Option<PathBuf>,
    /// `--lock-timeout`.
    pub lock_timeout_s: Option<u64>,
    /// `-j/--jobs`.
    pub jobs: Option<u16>,
}

impl Settings {
    /// Applies flags over the config file, and the config over `MLFLOW_TRACKING_URI`.
    pub fn resolve(
        config_path: &Path,
        mut config: Config,
        o: Overrides,
        env_tracking_uri: Option<String>,
    ) -> Settings {
        fn set<T>(slot: &mut T, value: Option<T>) {
            if let Some(v) = value {
                *slot = v;
            }
        }
        let tracking_uri = match (
            o.tracking_uri,
            config.store.tracking_uri.clone(),
            env_tracking_uri,
        ) {
            (Some(raw), _, _) => Some(TrackingUri {
                raw,
                origin: Origin::Flag,
            }),
            (None, Some(raw), _) => Some(TrackingUri {
                raw,
                origin: Origin::Config,
            }),
            (None, None, Some(raw)) if !raw.is_empty() => Some(TrackingUri {
                raw,
                origin: Origin::Env,
            }),
            _ => None,
        };
        if o.experiment.is_some() {
            config.store.experiment = o.experiment;
        }
        if o.artifact_root.is_some() {
            config.store.artifact_root = o.artifact_root;
        }
        set(&mut config.selection.max_failed_runs, o.max_failed_runs);
        set(&mut config.outputs.db, o.db);
        set(&mut config.outputs.private_dir, o.private_dir);
        set(&mut config.outputs.figures_dir, o.figures_dir);
        set(&mut config.outputs.outputs_dir, o.outputs_dir);
        set(&mut config.runner.lock_timeout_s, o.lock_timeout_s);
        let jobs = o.jobs.map(usize::from).unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        });
        Settings {
            config_path: config_path.to_path_buf(),
            config,
            tracking_uri,
            jobs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("test.yaml"))
    }

    #[test]
    fn empty_file_gives_defaults() {
        assert_eq!(parse("").unwrap(), Config::default());
    }

    #[test]
    fn unknown_key_is_named_with_file() {
        let msg = parse("store:\n  trackin_uri: x\n").unwrap_err().to_string();
        assert!(msg.contains("`test.yaml`"), "{msg}");
        assert!(msg.contains("trackin_uri"), "{msg}");
    }

    #[test]
    fn wrong_type_is_named() {
        let msg = parse("selection:\n  max_failed_runs: many\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("max_failed_runs"), "{msg}");
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
    fn a_local_tracking_uri_names_its_path() {
        let uri = |raw: &str| TrackingUri {
            raw: raw.into(),
            origin: Origin::Flag,
        };
        for (raw, path) in [
            ("mlruns", Some("mlruns")),
            ("file:///data/mlruns", Some("/data/mlruns")),
            ("file:mlruns", Some("mlruns")),
            ("sqlite:///store/mlflow.db", Some("store/mlflow.db")),
            ("sqlite:////abs/mlflow.db", Some("/abs/mlflow.db")),
            ("https://server", None),
        ] {
            assert_eq!(uri(raw).local_path(), path.map(PathBuf::from), "{raw}");
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

    #[test]
    fn flag_beats_config_beats_env() {
        let mut c = Config::default();
        let env = Some("env-store".to_string());
        let s = Settings::resolve(
            Path::new("c.yaml"),
            c.clone(),
            Overrides::default(),
            env.clone(),
        );
        assert_eq!(
            s.tracking_uri.unwrap(),
            TrackingUri {
                raw: "env-store".into(),
                origin: Origin::Env
            }
        );
        c.store.tracking_uri = Some("config-store".into());
        let s = Settings::resolve(
            Path::new("c.yaml"),
            c.clone(),
            Overrides::default(),
            env.clone(),
        );
        assert_eq!(s.tracking_uri.unwrap().origin, Origin::Config);
        let o = Overrides {
            tracking_uri: Some("flag-store".into()),
            ..Default::default()
        };
        let s = Settings::resolve(Path::new("c.yaml"), c, o, env);
        assert_eq!(s.tracking_uri.unwrap().raw, "flag-store");
    }

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
        assert_eq!(style.category("pupil-gt"), "Ground Truth");
        assert_eq!(style.category("ensemble-LOF-MOMENT"), "Ensemble");
        assert_eq!(style.category("MOMENT-gt-finetune"), "Foundation Model");
        assert_eq!(style.category("LOF"), "Other");
    }

    #[test]
    fn shipped_configs_are_valid() {
        for name in ["configs/default.yaml", "configs/reference.yaml"] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
            Config::load(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
