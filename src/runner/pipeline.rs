//! The built-in steps: `extract` (Block 1), `verify` (the checkpoint check before Block 2) and
//! one step per figure plus `tables` (Block 2, [`crate::analyze::step`]).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, Context, Result};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::command::custom_steps;
use super::fingerprint::StepKey;
use super::stat_cache::StatCache;
use super::step::{Step, StepContext, StepOutput};
use crate::analyze::step::analysis_steps;
use crate::config::Settings;
use crate::db::digest::hex;
use crate::db::verify::verify;
use crate::db::writer::CheckpointPaths;
use crate::extract::{
    self, private, run_cache::EXTRACTOR_VERSION, scope::Scope, ExtractEnv, Listing,
};
use crate::mlflow::entry::{self, Entry};

/// Block 1: store → checkpoint + private lookup.
#[derive(Default)]
pub struct ExtractStep {
    /// The experiment and runs that the last key was computed from, for the run to extract
    /// exactly those without listing the store again.
    listed: Mutex<Option<Listing>>,
    /// The secret and subjects settings that the last key was computed with; they decide
    /// whether the private traces file is an output.
    scope: Mutex<Option<Scope>>,
}

impl Step for ExtractStep {
    fn name(&self) -> &str {
        "extract"
    }

    fn prepare(&self, settings: &Settings) -> Result<()> {
        let (_, experiment) = extract::open_experiment(settings)?;
        Scope::decide(&settings.config, &settings.config_path, &experiment.id)
            .and_then(|mut scope| scope.prepare())
            .map_err(anyhow::Error::from)
    }

    fn key(&self, settings: &Settings, stat: &StatCache) -> Result<StepKey> {
        let c = &settings.config;
        let mut key = StepKey::new("extract", EXTRACTOR_VERSION);
        key.config("store.experiment", &c.store.experiment);
        key.config("store.metrics_pickle", &c.store.metrics_pickle);
        key.config("run_name", &c.run_name);
        key.config("selection", &c.selection);
        key.config(
            "anonymization.label_prefixes",
            &c.anonymization.label_prefixes,
        );
        let (store, experiment) = extract::open_experiment(settings)?;
        let scope = Scope::decide(c, &settings.config_path, &experiment.id)?;
        key.config("subjects.demo_subjects", &scope.demo_subjects);
        key.config(
            "store.tracking_uri",
            &settings.tracking_uri.as_ref().map(|u| &u.raw),
        );
        // The secret's fingerprint, not the secret: a new secret renumbers every subject.
        key.input("anonymization secret (fingerprint)", scope.fingerprint());
        if let Some(db) = &scope.subjects_database {
            key.input(
                format!("subjects database `{}`", db.display()),
                stat.digest(db)?,
            );
        }
        key.input("experiment", experiment.id.clone());
        let runs = store.runs(&experiment)?;
        // The pickles are most of the bytes: hash them in parallel (`-j` threads).
        let digests = runs
            .par_iter()
            .map(|run| {
                let mut h = Sha256::new();
                h.update(run.describe_for_digest());
                let pickle = (run.artifact_dir.as_ref())
                    .zip(run.pickle_relative(&c.store.metrics_pickle).ok())
                    .map(|(d, relative)| d.join(relative));
                // Only a regular file is opened: a FIFO would block the hash for ever.
                let found = match &pickle {
                    Some(p) => entry::resolve(p)
                        .with_context(|| format!("cannot read `{}`", p.display()))?,
                    None => Entry::Missing,
                };
                match found {
                    Entry::File(p) => h.update(format!("pickle {}\n", stat.digest(&p)?)),
                    Entry::Refused(why) => h.update(format!("pickle refused: {why}\n")),
                    Entry::Dir(..) | Entry::Missing => h.update("no pickle\n"),
                }
                Ok(hex(&h.finalize()))
            })
            .collect::<Result<Vec<_>>>()?;
        for (run, digest) in runs.iter().zip(digests) {
            key.input(format!("run {}", run.run_id), digest);
        }
        *self.listed.lock().unwrap_or_else(|e| e.into_inner()) = Some(Listing { experiment, runs });
        *self.scope.lock().unwrap_or_else(|e| e.into_inner()) = Some(scope);
        Ok(key)
    }

    fn outputs(&self, settings: &Settings) -> Vec<PathBuf> {
        let paths = CheckpointPaths::new(&settings.config.outputs.db);
        let mut out = vec![
            paths.db,
            paths.sha256,
            paths.dictionary,
            settings
                .config
                .outputs
                .private_dir
                .join(private::LOOKUP_FILE),
        ];
        let traces = match &*self.scope.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(scope) => scope.subjects_database.is_some(),
            None => settings.config.subjects.database.is_some(),
        };
        if traces {
            out.push(
                settings
                    .config
                    .outputs
                    .private_dir
                    .join(private::TRACES_FILE),
            );
        }
        out
    }

    fn run(&self, ctx: &StepContext) -> Result<StepOutput> {
        // A retry lists the store anew.
        let listed = self.listed.lock().unwrap_or_else(|e| e.into_inner()).take();
        let env = ExtractEnv {
            stat: &ctx.stat,
            signals: &ctx.signals,
            listed,
        };
        let s = extract::extract(&ctx.settings, &ctx.out, env)?;
        for f in &s.failures {
            ctx.out.warn(format!(
                "run {} ({}) failed: {}",
                f.run_id, f.run_name, f.cause
            ));
        }
        let summary = format!(
            "{} included, {} excluded, {} failed; {} decoded, {} from cache; checkpoint {} (digest {})",
            s.included,
            s.excluded,
            s.failed,
            s.runs_parsed,
            s.runs_from_cache,
            if s.checkpoint_written { "written" } else { "unchanged" },
            &s.logical_digest[..12]
        );
        Ok(StepOutput {
            summary,
            details: serde_json::to_value(&s).ok(),
        })
    }
}

/// Checks the checkpoint (checksum, schema, row counts, logical digest) before Block 2.
pub struct VerifyStep;

impl Step for VerifyStep {
    fn name(&self) -> &str {
        "verify"
    }

    fn key(&self, settings: &Settings, stat: &StatCache) -> Result<StepKey> {
        let paths = CheckpointPaths::new(&settings.config.outputs.db);
        let mut key = StepKey::new("verify", 1);
        for p in [&paths.db, &paths.sha256] {
            let digest = if p.exists() {
                stat.digest(p)?
            } else {
                "missing".into()
            };
            key.input(p.display().to_string(), digest);
        }
        Ok(key)
    }

    fn outputs(&self, _settings: &Settings) -> Vec<PathBuf> {
        Vec::new()
    }

    fn run(&self, ctx: &StepContext) -> Result<StepOutput> {
        let db = &ctx.settings.config.outputs.db;
        let v = verify(db)?;
        if !v.ok() {
            return Err(anyhow!(
                "the checkpoint `{}` is refused:\n{}\nregenerate it with `mlrepro extract` (needs the MLflow store), or restore the published checkpoint and its `.sha256`",
                db.display(),
                v.failures()
            ));
        }
        let digest = v.logical_digest.clone().unwrap_or_default();
        Ok(StepOutput {
            summary: format!(
                "checkpoint ok, logical digest {}",
                &digest[..digest.len().min(12)]
            ),
            details: serde_json::to_value(&v).ok(),
        })
    }
}

/// The steps of Block 1.
pub fn extract_steps() -> Vec<Arc<dyn Step>> {
    vec![Arc::new(ExtractStep::default())]
}

/// The steps of Block 2: verify, the figures and tables, then the user's custom steps.
pub fn analyze_steps(settings: &Settings) -> Vec<Arc<dyn Step>> {
    let mut steps: Vec<Arc<dyn Step>> = vec![Arc::new(VerifyStep)];
    steps.extend(analysis_steps());
    steps.extend(custom_steps(settings));
    steps
}
