//! Resolution of the settings commands use: [`Settings::resolve`] applies the CLI flags
//! ([`Overrides`]) over the config file, and the config over `MLFLOW_TRACKING_URI`, once.

use std::path::{Path, PathBuf};

use super::Config;
use crate::mlflow::{Origin, TrackingUri};

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
}
