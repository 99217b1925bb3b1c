//! Which secret anonymizes a store, and which subjects settings go with it.
//!
//! In order: an explicit `anonymization.secret_file`; else the `demo` section, when the store
//! is the one its public secret names; else the private random secret of the private
//! directory (created on first use). The demo's settings never apply to another store: there
//! they are set aside with one line saying so, and a public secret named explicitly for
//! another store is a usage error (exit 2).

use std::path::{Path, PathBuf};

use anyhow::anyhow;

use super::secret::{OutOfScope, Secret};
use crate::config::Config;
use crate::error::{Error, Result};

/// The secret and subjects settings that apply to one experiment of one store.
#[derive(Debug, Clone)]
pub struct Scope {
    secret: SecretChoice,
    /// The private subjects database to export traces from, if any.
    pub subjects_database: Option<PathBuf>,
    /// Anonymous codes of the subjects whose traces are exported.
    pub demo_subjects: Vec<String>,
    /// The config keys the subjects settings came from, for messages.
    pub subjects_keys: (&'static str, &'static str),
    /// One line for the user when the demo's settings were set aside for this store.
    pub note: Option<String>,
    experiment_id: String,
}

#[derive(Debug, Clone)]
enum SecretChoice {
    /// A secret read from its file.
    Ready(Secret),
    /// The private secret, still to be created in this directory.
    ToCreate(PathBuf),
}

impl Scope {
    /// Decides the secret and subjects settings for the experiment `experiment_id`.
    pub fn decide(config: &Config, config_path: &Path, experiment_id: &str) -> Result<Scope> {
        let private_dir = &config.outputs.private_dir;
        let mut scope = Scope {
            secret: SecretChoice::ToCreate(private_dir.clone()),
            subjects_database: config.subjects.database.clone(),
            demo_subjects: config.subjects.demo_subjects.clone(),
            subjects_keys: ("subjects.database", "subjects.demo_subjects"),
            note: None,
            experiment_id: experiment_id.to_string(),
        };
        if let Some(file) = &config.anonymization.secret_file {
            let secret = Secret::read(file).map_err(Error::usage)?;
            if let Err(OutOfScope::OtherExperiment) = secret.check_scope(experiment_id, []) {
                return Err(public_elsewhere(&secret, "anonymization.secret_file"));
            }
            scope.secret = SecretChoice::Ready(secret);
            return Ok(scope);
        }
        if let Some(file) = &config.demo.secret_file {
            let secret = Secret::read(file).map_err(Error::usage)?;
            let Some(public) = &secret.public_scope else {
                return Err(Error::usage(anyhow!(
                    "`demo.secret_file` (`{}`) is not a public demo secret: it names no store with `# public-for-experiment:`",
                    file.display()
                ))
                .with_hint("put a private secret under `anonymization.secret_file`, or leave both unset for a random one"));
            };
            if public.experiment_id == experiment_id {
                scope.subjects_database = config.demo.subjects_database.clone();
                scope.demo_subjects = config.demo.subjects.clone();
                scope.subjects_keys = ("demo.subjects_database", "demo.subjects");
                scope.secret = SecretChoice::Ready(secret);
                return Ok(scope);
            }
            scope.note = Some(format!(
                "the `demo` settings of `{}` belong to the bundled demo store, not to this one: it gets a private random secret in `{}` and no demo subjects",
                config_path.display(),
                private_dir.display()
            ));
        }
        if let Some(secret) = Secret::load_private(private_dir).map_err(Error::usage)? {
            scope.secret = SecretChoice::Ready(secret);
        }
        Ok(scope)
    }

    /// Refuses a public secret for an experiment that holds runs it was not published with.
    pub fn check_runs<'r>(&self, run_ids: impl IntoIterator<Item = &'r str>) -> Result<()> {
        let SecretChoice::Ready(secret) = &self.secret else {
            return Ok(());
        };
        match secret.check_scope(&self.experiment_id, run_ids) {
            Ok(()) => Ok(()),
            Err(OutOfScope::OtherExperiment) => Err(public_elsewhere(secret, "the secret")),
            Err(OutOfScope::ForeignRuns(n)) => Err(Error::usage(anyhow!(
                "the public secret `{}` was published with the runs of experiment {}; this store's experiment also holds {n} run(s) it does not name, and a public secret never anonymizes those",
                secret.source.display(),
                self.experiment_id
            ))
            .with_hint("extract them into another experiment, or run them with a config whose secret is private (leave `anonymization.secret_file` and `demo.secret_file` unset)")),
        }
    }

    /// The secret's fingerprint for cache keys, or `to be created`.
    pub fn fingerprint(&self) -> String {
        match &self.secret {
            SecretChoice::Ready(secret) => secret.fingerprint(),
            SecretChoice::ToCreate(_) => "to be created".into(),
        }
    }

    /// The secret, if it exists already (never creates it).
    pub fn ready_secret(&self) -> Option<&Secret> {
        match &self.secret {
            SecretChoice::Ready(secret) => Some(secret),
            SecretChoice::ToCreate(_) => None,
        }
    }

    /// Creates the private secret if it is still to be created.
    pub fn prepare(&mut self) -> Result<()> {
        if let SecretChoice::ToCreate(dir) = &self.secret {
            let secret = Secret::load_or_create_private(dir).map_err(Error::usage)?;
            self.secret = SecretChoice::Ready(secret);
        }
        Ok(())
    }

    /// The secret, created first if needed.
    pub fn secret(&mut self) -> Result<&Secret> {
        self.prepare()?;
        match &self.secret {
            SecretChoice::Ready(secret) => Ok(secret),
            SecretChoice::ToCreate(_) => Err(Error::pipeline(anyhow!(
                "the anonymization secret was not created"
            ))),
        }
    }
}

fn public_elsewhere(secret: &Secret, key: &str) -> Error {
    let experiment = secret
        .public_scope
        .as_ref()
        .map(|s| s.experiment_id.as_str())
        .unwrap_or_default();
    Error::usage(anyhow!(
        "{key} `{}` is a public secret made for experiment {experiment}; a public secret never anonymizes another store, since anyone could recompute its numbering",
        secret.source.display()
    ))
    .with_hint("leave `anonymization.secret_file` unset: a private random secret is created in the private directory")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC: &str = "# public-for-experiment: 42\n# public-for-run: a\n0123456789abcdef0123\n";

    fn config(dir: &Path) -> Config {
        let mut c = Config::default();
        c.outputs.private_dir = dir.join("private");
        let demo = dir.join("demo_secret");
        std::fs::write(&demo, PUBLIC).unwrap();
        c.demo.secret_file = Some(demo);
        c.demo.subjects_database = Some(dir.join("subjects.duckdb"));
        c.demo.subjects = vec!["H001".into()];
        c
    }

    #[test]
    fn the_demo_settings_apply_to_the_demo_store() {
        let dir = tempfile::tempdir().unwrap();
        let c = config(dir.path());
        let mut scope = Scope::decide(&c, Path::new("c.yaml"), "42").unwrap();
        assert!(scope.note.is_none());
        assert_eq!(scope.demo_subjects, ["H001"]);
        scope.check_runs(["a"]).unwrap();
        assert!(scope.secret().unwrap().public_scope.is_some());
        assert!(!c.outputs.private_dir.join("anonymization_secret").exists());
    }

    #[test]
    fn the_demo_config_on_another_store_gets_a_private_secret_and_no_demo_subjects() {
        let dir = tempfile::tempdir().unwrap();
        let c = config(dir.path());
        let mut scope = Scope::decide(&c, Path::new("c.yaml"), "7").unwrap();
        assert!(scope
            .note
            .as_deref()
            .unwrap()
            .contains("private random secret"));
        assert!(scope.demo_subjects.is_empty() && scope.subjects_database.is_none());
        assert_eq!(scope.fingerprint(), "to be created");
        let secret = scope.secret().unwrap().clone();
        assert!(secret.public_scope.is_none());
        assert_eq!(
            secret.source,
            c.outputs.private_dir.join("anonymization_secret")
        );
    }

    #[test]
    fn a_public_secret_named_for_another_store_is_a_usage_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = config(dir.path());
        c.anonymization.secret_file = c.demo.secret_file.clone();
        let err = Scope::decide(&c, Path::new("c.yaml"), "7").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.render().contains("never anonymizes another store"));
    }

    #[test]
    fn the_demo_experiment_with_foreign_runs_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let c = config(dir.path());
        let scope = Scope::decide(&c, Path::new("c.yaml"), "42").unwrap();
        let err = scope.check_runs(["a", "zzz"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.render().contains("1 run(s)"), "{}", err.render());
    }
}
