//! The configuration file's schema: one serde struct per YAML section, with its defaults.
//!
//! Every struct denies unknown keys and fills a missing key from its `Default`, so an empty
//! file is the default configuration. The structs hold settings only: [`Config::parse`] checks
//! them and [`super::Settings::resolve`] applies the CLI flags over them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::mlflow::RunNameConfig;

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

/// Display names, abbreviations and category rules for one factor, applied by
/// [`crate::analyze::methods`].
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
    /// User-declared steps (e.g. R or Python figure scripts), run after the built-in analysis
    /// as `custom:<name>` ([`crate::runner::command`]).
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
