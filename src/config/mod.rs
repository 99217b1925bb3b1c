//! The typed YAML configuration, its defaults and validation, and the resolution of CLI
//! flags against it.
//!
//! [`Config`] mirrors the YAML file (`configs/default.yaml`); unknown keys and wrong types are
//! rejected with an error that names the key and the file. [`Settings`] is what commands use:
//! the config with the CLI flags and the environment applied once, in the documented
//! precedence (flag > config file > `MLFLOW_TRACKING_URI`).
//!
//! - `schema.rs`: the sections of the file, their types and defaults (the `run_name` section
//!   is [`RunNameConfig`], which `mlflow` defines beside the grammar it describes);
//! - `validate.rs`: the checks serde cannot make, each naming its key;
//! - `resolve.rs`: [`Settings`], [`Overrides`] and where the tracking store came from;
//! - `layout.rs`: where generated outputs may go ([`Settings::check_layout`]).

use std::path::{Path, PathBuf};

mod layout;
mod resolve;
mod schema;
mod validate;

pub use crate::mlflow::{Origin, RunNameConfig, TrackingUri};
pub use resolve::{Overrides, Settings};
pub use schema::{
    AnalysisConfig, AnonymizationConfig, CategoryRule, Config, CustomStep, DemoConfig, FactorStyle,
    FigureFormat, MethodStyle, MethodsConfig, OutputsConfig, Registry, RunnerConfig,
    SelectionConfig, StoreConfig, SubjectsConfig, TestBootstrapConfig,
};

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
    /// The project directory (the current directory) cannot be read, so the output
    /// directories cannot be checked against it.
    #[error("cannot tell the project directory (the current directory): {reason}")]
    NoProjectDir {
        /// Why it cannot be read.
        reason: String,
    },
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

/// A config error is a usage error (exit 2) that keeps its hint.
impl From<ConfigError> for crate::error::Error {
    fn from(e: ConfigError) -> Self {
        let hint = e.hint();
        let err = crate::error::Error::usage(e);
        match hint {
            Some(h) => err.with_hint(h),
            None => err,
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
    fn shipped_configs_are_valid() {
        for name in ["configs/default.yaml", "configs/reference.yaml"] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
            Config::load(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
