//! Block 1 as a pipeline step: what makes extraction rerun (its key) and the run itself.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, Context, Result};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::base::hashing::hex;
use crate::config::{SelectionConfig, Settings};
use crate::db::writer::CheckpointPaths;
use crate::extract::{
    self, identity, inputs, private, scope::Scope, select::select, ExtractEnv, Listing,
};
use crate::mlflow::entry::{self, Entry};
use crate::mlflow::RunNameRules;
use crate::runner::fingerprint::StepKey;
use crate::runner::record;
use crate::runner::stat_cache::StatCache;
use crate::runner::step::{Step, StepContext, StepOutput};

/// Block 1: store → checkpoint + private lookup.
///
/// Its key holds, per run, a digest of the run's metadata and of its pickle's *input digest*
/// ([`crate::extract::inputs`]), not of every pickle byte. The input digest of a pickle whose
/// stamp is unchanged comes from the stat cache; a changed one is decoded (selectively, as
/// extraction does) to learn it, so a touch or an edit that no metric reads leaves the step
/// fresh. When the step will run anyway (no record, or its code, config or secret changed),
/// changed pickles are not decoded twice: the key holds them as `unread`, the extraction
/// reads them, and the key is settled with what it read before it is recorded
/// ([`Step::settled_key`]).
#[derive(Default)]
pub struct ExtractStep {
    /// The experiment and runs that the last key was computed from, for the run to extract
    /// exactly those without listing the store again.
    listed: Mutex<Option<Listing>>,
    /// The secret and subjects settings that the last key was computed with; they decide
    /// whether the private traces file is an output.
    scope: Mutex<Option<Scope>>,
    /// Runs whose pickle the last key left unread: key input → (run id, metadata digest
    /// text).
    unread: Mutex<BTreeMap<String, (String, String)>>,
    /// Run id → the pickle's key value, as the last extraction read it.
    read: Mutex<BTreeMap<String, String>>,
    /// What the last key noticed that changes nothing (e.g. a pickle changed on disk whose
    /// inputs did not).
    notes: Mutex<Vec<String>>,
}

/// A run's pickle as the key sees it.
enum PickleValue {
    /// Its value: an input digest, a refusal, or no pickle.
    Known(String),
    /// Changed since it was last read, left for the extraction to read.
    Unread,
}

/// The key input of one run: its metadata and its pickle's value.
fn run_input(describe: &str, pickle: &str) -> String {
    let mut h = Sha256::new();
    h.update(describe);
    h.update(format!("pickle {pickle}\n"));
    hex(&h.finalize())
}

/// Revision of the step key's format; the extractor's code is keyed by its digest
/// ([`identity::version`]).
const KEY_REVISION: u32 = 5;

/// Input names of per-run entries start with this.
const RUN_INPUT: &str = "run ";

/// Whether `old` and `new` agree on everything but the runs: then only the pickles decide.
fn same_but_runs(old: &StepKey, new: &StepKey) -> bool {
    let others = |k: &StepKey| {
        k.inputs
            .iter()
            .filter(|(name, _)| !name.starts_with(RUN_INPUT))
            .map(|(a, b)| (a.clone(), b.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    old.code_version == new.code_version && old.config == new.config && others(old) == others(new)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
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
        let mut key = StepKey::new("extract", KEY_REVISION);
        // The extractor's code by its digest: editing a metric reruns extraction.
        key.input("extractor code", identity::version());
        // Only the settings that change a row of the checkpoint or a private file. The store
        // and the experiment are keyed by what they lead to (below), not by how they are
        // named; `max_failed_runs` decides whether extraction succeeds, not what it writes.
        let SelectionConfig {
            registry,
            featurizations,
            max_failed_runs: _,
        } = &c.selection;
        key.config("store.metrics_pickle", &c.store.metrics_pickle);
        key.config("run_name", &c.run_name);
        key.config("selection.registry", registry);
        key.config("selection.featurizations", featurizations);
        key.config("test_bootstrap", &c.test_bootstrap);
        key.config(
            "anonymization.label_prefixes",
            &c.anonymization.label_prefixes,
        );
        let (store, experiment) = extract::open_experiment(settings)?;
        let scope = Scope::decide(c, &settings.config_path, &experiment.id)?;
        key.config("subjects.demo_subjects", &scope.demo_subjects);
        // The secret's fingerprint, not the secret: a new secret renumbers every subject.
        key.input("anonymization secret (fingerprint)", scope.fingerprint());
        // Its content, not its path: the same database elsewhere gives the same traces.
        if let Some(db) = &scope.subjects_database {
            key.input("subjects database", stat.digest(db)?);
        }
        // The checkpoint's metadata names the experiment by id and name.
        key.input("experiment", experiment.id.clone());
        key.input("experiment name", experiment.name.clone());
        let runs = store.runs(&experiment)?;
        // Only the runs selection keeps are read; the others are keyed on their metadata.
        let names = RunNameRules::from_config(&c.run_name).map_err(|m| anyhow!(m))?;
        let selection = select(runs.clone(), &names, &c.selection);
        let exact = record::load(&c.outputs.cache_dir, self.name())
            .is_some_and(|rec| same_but_runs(&rec.key, &key));
        let secret = scope.ready_secret();
        let context = secret.map(|s| inputs::context(&s.fingerprint()));
        let values = selection
            .candidates
            .par_iter()
            .map(|candidate| {
                let run = &candidate.run;
                let pickle = (run.artifact_dir.as_ref())
                    .zip(run.pickle_relative(&c.store.metrics_pickle).ok())
                    .map(|(d, relative)| d.join(relative));
                // Only a regular file is opened: a FIFO would block the read for ever.
                let found = match &pickle {
                    Some(p) => entry::resolve(p)
                        .with_context(|| format!("cannot read `{}`", p.display()))?,
                    None => Entry::Missing,
                };
                let (value, note) = match (found, pickle, secret, &context) {
                    (Entry::File(_), Some(p), Some(secret), Some(context)) => {
                        let probe = stat.probe(&p, context)?;
                        match probe.fresh.clone() {
                            Some(v) => (PickleValue::Known(v), None),
                            None if exact => {
                                let v = extract::decode_inputs(stat, &probe, &p, secret).key_value;
                                let note = (probe.previous.as_ref() == Some(&v)).then(|| {
                                    format!(
                                        "run `{}`: pickle changed on disk (content or times), inputs unchanged: nothing to rerun",
                                        run.run_id
                                    )
                                });
                                (PickleValue::Known(v), note)
                            }
                            None => (PickleValue::Unread, None),
                        }
                    }
                    // No secret yet: the step runs anyway (the fingerprint changed).
                    (Entry::File(_), ..) => (PickleValue::Unread, None),
                    (Entry::Refused(why), ..) => {
                        (PickleValue::Known(format!("refused: {why}")), None)
                    }
                    (Entry::Dir(..) | Entry::Missing, ..) => {
                        (PickleValue::Known("none".into()), None)
                    }
                };
                Ok((value, note))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut unread = BTreeMap::new();
        let mut notes = Vec::new();
        for (candidate, (value, note)) in selection.candidates.iter().zip(values) {
            let run = &candidate.run;
            let describe = run.describe_for_digest();
            let name = format!("{RUN_INPUT}{}", run.run_id);
            let pickle = match value {
                PickleValue::Known(v) => v,
                PickleValue::Unread => {
                    unread.insert(name.clone(), (run.run_id.clone(), describe.clone()));
                    "unread".into()
                }
            };
            key.input(name, run_input(&describe, &pickle));
            notes.extend(note);
        }
        for excluded in &selection.excluded {
            let describe = excluded.run.describe_for_digest();
            key.input(
                format!("{RUN_INPUT}{}", excluded.run.run_id),
                run_input(&describe, "not read (excluded)"),
            );
        }
        *lock(&self.unread) = unread;
        *lock(&self.notes) = notes;
        *lock(&self.listed) = Some(Listing { experiment, runs });
        *lock(&self.scope) = Some(scope);
        Ok(key)
    }

    fn settled_key(&self, mut key: StepKey) -> StepKey {
        let read = lock(&self.read);
        for (name, (run_id, describe)) in lock(&self.unread).iter() {
            // A run the extraction did not read keeps `unread`, and so reruns next time.
            if let Some(value) = read.get(run_id) {
                key.input(name.clone(), run_input(describe, value));
            }
        }
        key
    }

    fn notes(&self) -> Vec<String> {
        lock(&self.notes).clone()
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
        let traces = match &*lock(&self.scope) {
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
        let listed = lock(&self.listed).take();
        let env = ExtractEnv {
            stat: &ctx.stat,
            signals: &ctx.signals,
            listed,
        };
        let s = extract::extract(&ctx.settings, &ctx.out, env)?;
        lock(&self.read).clone_from(&s.key_values);
        for f in &s.failures {
            ctx.out.warn(format!(
                "run {} ({}) failed: {}",
                f.run_id, f.run_name, f.cause
            ));
        }
        let unchanged = match s.runs_inputs_unchanged {
            0 => String::new(),
            n => format!(" ({n} with content changed, inputs unchanged)"),
        };
        let summary = format!(
            "{} included, {} excluded, {} failed; {} computed, {} from cache{unchanged}; checkpoint {} (digest {})",
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

/// The steps of Block 1.
pub fn steps() -> Vec<Arc<dyn Step>> {
    vec![Arc::new(ExtractStep::default())]
}
