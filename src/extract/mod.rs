//! Block 1: MLflow store → anonymized public checkpoint + private lookup.
//!
//! Discover the runs, select them ([`select()`]), parse and compute each included run in
//! parallel on rayon workers (`workers`, with [`parse`] and [`compute`]), number subjects with the keyed hash
//! ([`anonymize`]), then one writer builds the checkpoint ([`crate::db::writer`]) and the
//! private files ([`private`]). Configuration ids follow (source name, run id), so the output
//! is the same whatever the number of threads.

pub mod anonymize;
pub mod compute;
pub mod estimates;
pub mod identity;
pub mod inputs;
pub mod parse;
pub mod private;
pub mod redact;
pub mod rows;
pub mod run_cache;
pub mod scope;
pub mod secret;
pub mod select;
pub mod step;
pub mod test_set;
mod workers;

pub use workers::{decode_inputs, Decoded};
use workers::{read_runs, ReadRuns};

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{anyhow, Context};
use serde::Serialize;

use crate::base::cancel::Signals;
use crate::config::Settings;
use crate::db::writer::{CheckpointPaths, NewCheckpoint, WriteOutcome};
use crate::error::{Error, Result};
use crate::mlflow::{Experiment, Run, RunNameRules, Store};
use crate::runner::StatCache;
use crate::ui::Output;
use anonymize::{CodeMap, Subject};
use compute::RunMetrics;
use redact::Redactor;
use run_cache::CachedRun;
use scope::Scope;
use secret::Secret;
use select::{select, Candidate};

/// What extraction did, for the summary and `--json`.
#[derive(Debug, Serialize)]
pub struct ExtractSummary {
    /// The experiment read.
    pub experiment: String,
    /// Runs included in the checkpoint.
    pub included: usize,
    /// Runs excluded by selection.
    pub excluded: usize,
    /// Runs whose pickle could not be used.
    pub failed: usize,
    /// Failed runs with their causes.
    pub failures: Vec<RunFailure>,
    /// Anonymized subjects.
    pub subjects: usize,
    /// The checkpoint path.
    pub db: PathBuf,
    /// Whether the checkpoint file was rewritten.
    pub checkpoint_written: bool,
    /// Its logical digest.
    pub logical_digest: String,
    /// Runs decoded and computed in this extraction.
    pub runs_parsed: usize,
    /// Runs taken from the per-run cache (with or without decoding their pickle).
    pub runs_from_cache: usize,
    /// Pickles decoded in this extraction: those computed, and those whose stamp changed but
    /// whose inputs were found in the per-run cache.
    pub runs_decoded: usize,
    /// Runs whose pickle was decoded and whose inputs were unchanged: content changed (or the
    /// file was rewritten or touched) but nothing the metrics read, so nothing was recomputed.
    pub runs_inputs_unchanged: usize,
    /// Bytes of the pickles decoded in this extraction.
    pub bytes_read: u64,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Included and failed runs parsed per second.
    pub runs_per_second: f64,
    /// Run id → the value of its pickle in the `extract` step's key, as read by this
    /// extraction ([`inputs`]).
    #[serde(skip)]
    pub key_values: BTreeMap<String, String>,
}

/// A run that could not be extracted.
#[derive(Debug, Clone, Serialize)]
pub struct RunFailure {
    /// The run id.
    pub run_id: String,
    /// The run name.
    pub run_name: String,
    /// What went wrong (names the file and key path).
    pub cause: String,
}

/// A parsed and computed run, with subject codes already replaced by keyed pseudonyms.
#[derive(Debug)]
pub struct Extracted {
    /// The selected run.
    pub candidate: Candidate,
    /// Pseudonym of each test subject, in pickle order.
    pub pseudonyms: Vec<String>,
    /// Test labels, in pickle order.
    pub labels: Vec<i64>,
    /// Mean of each subject's predicted probability over the B models (p̄).
    pub prob_mean: Vec<f64>,
    /// Std of each subject's predicted probability over the B models.
    pub prob_std: Vec<f64>,
    /// Every metric of the run.
    pub metrics: RunMetrics,
}

/// What extraction shares with the runner: the stat cache, the cancel/progress signals and
/// the store's listing when the runner has just made it.
pub struct ExtractEnv<'a> {
    /// Content digests of files.
    pub stat: &'a StatCache,
    /// Cancellation and heartbeat.
    pub signals: &'a Signals,
    /// The experiment and its runs as listed for the step's key; listed anew when absent.
    pub listed: Option<Listing>,
}

/// An experiment and every run directory of it, as read from the store.
#[derive(Debug)]
pub struct Listing {
    /// The selected experiment.
    pub experiment: Experiment,
    /// Its runs.
    pub runs: Vec<Run>,
}

/// Opens the configured store and selects the experiment; a missing or wrong store or
/// experiment is a usage error (exit 2).
pub fn open_experiment(settings: &Settings) -> Result<(Store, Experiment)> {
    let config = &settings.config;
    let uri = settings.tracking_uri.as_ref().ok_or_else(|| {
        Error::usage(anyhow!("no tracking store is configured"))
            .with_hint("pass `--tracking-uri PATH`, set `store.tracking_uri` in the config, or set $MLFLOW_TRACKING_URI")
    })?;
    let store = Store::open(uri, config.store.artifact_root.as_deref())?;
    let experiment = store.select_experiment(config.store.experiment.as_deref())?;
    Ok((store, experiment))
}

impl Extracted {
    /// A selected run with its computed (or cached) result.
    pub(super) fn from_cached(candidate: &Candidate, run: CachedRun) -> Self {
        let CachedRun {
            pseudonyms,
            labels,
            prob_mean,
            prob_std,
            metrics,
        } = run;
        Extracted {
            candidate: candidate.clone(),
            pseudonyms,
            labels,
            prob_mean,
            prob_std,
            metrics,
        }
    }
}

/// Runs Block 1 with the given settings. No original subject code known to the private
/// pseudonym table survives in an error it returns.
pub fn extract(settings: &Settings, out: &Output, env: ExtractEnv<'_>) -> Result<ExtractSummary> {
    extract_checkpoint(settings, out, env).map_err(|e| {
        let known =
            private::load_pseudonyms(&settings.config.outputs.private_dir).unwrap_or_default();
        Redactor::new(&known).redact_error(e)
    })
}

/// Block 1 itself: selection, the runs read in parallel, the checkpoint and private files.
fn extract_checkpoint(
    settings: &Settings,
    out: &Output,
    mut env: ExtractEnv<'_>,
) -> Result<ExtractSummary> {
    let started = Instant::now();
    let config = &settings.config;
    let Listing { experiment, runs } = match env.listed.take() {
        Some(listed) => listed,
        None => {
            let (store, experiment) = open_experiment(settings)?;
            let runs = store.runs(&experiment)?;
            Listing { experiment, runs }
        }
    };
    let mut scope = Scope::decide(config, &settings.config_path, &experiment.id)?;
    scope.check_runs(runs.iter().map(|r| r.run_id.as_str()))?;
    if let Some(note) = &scope.note {
        out.status(format!("extract: {note}"));
    }
    let secret = scope.secret()?.clone();
    let names =
        RunNameRules::from_config(&config.run_name).map_err(|m| Error::usage(anyhow!(m)))?;
    let mut selection = select(runs, &names, &config.selection);
    out.status(format!(
        "extract: experiment {experiment}: {} runs to read, {} excluded",
        selection.candidates.len(),
        selection.excluded.len()
    ));
    let paths = CheckpointPaths::new(&config.outputs.db);
    // The new database and its tables are created while the runs are read and the rows
    // built; on an early return the scope waits for it and its temporary file is removed.
    std::thread::scope(|s| {
        let checkpoint = s.spawn(|| NewCheckpoint::create(&paths));
        let ReadRuns {
            mut extracted,
            mut failed,
            pseudonyms,
            runs_parsed,
            runs_from_cache,
            runs_decoded,
            runs_inputs_unchanged,
            bytes_read,
            key_values,
        } = read_runs(settings, out, &env, selection.candidates, &secret)?;
        // Every reason is public: no original code known to this extraction may stay in one.
        let redactor = Redactor::new(&pseudonyms);
        for listed in failed.iter_mut().chain(selection.excluded.iter_mut()) {
            if let Cow::Owned(clean) = redactor.redact(&listed.reason) {
                listed.reason = clean;
            }
        }
        let mut phase = Phases::new(out, started);
        phase.done(&format!("read {} runs", extracted.len() + failed.len()));
        let failures: Vec<RunFailure> = failed
            .iter()
            .map(|f| RunFailure {
                run_id: f.run.run_id.clone(),
                run_name: f.run.run_name.clone(),
                cause: f.reason.clone(),
            })
            .collect();
        if failures.len() > config.selection.max_failed_runs {
            let list = failures
                .iter()
                .map(|f| format!("\n  run {}: {}", f.run_id, f.cause))
                .collect::<String>();
            return Err(Error::pipeline(anyhow!(
                "extract: {} run(s) failed, more than `max_failed_runs` ({}); the checkpoint was not changed:{list}",
                failures.len(),
                config.selection.max_failed_runs
            ))
            .with_hint("fix or delete the failing runs, or allow them with `--max-failed-runs N`"));
        }

        let subjects = extracted.iter().flat_map(|r| {
            r.pseudonyms.iter().zip(&r.labels).map(|(p, l)| Subject {
                pseudonym: p.clone(),
                label: *l,
            })
        });
        let codes = CodeMap::assign(subjects, &config.anonymization.label_prefixes)
            .map_err(Error::pipeline)?;
        extracted.sort_by(|a, b| {
            (&a.candidate.run.run_name, &a.candidate.run.run_id)
                .cmp(&(&b.candidate.run.run_name, &b.candidate.run.run_id))
        });
        let table_rows = rows::build(&extracted, &selection.excluded, &failed, &codes)
            .map_err(Error::pipeline)?;
        let metadata = rows::metadata(
            &config.test_bootstrap,
            &experiment,
            &extracted,
            &selection.excluded,
            &failed,
            &codes,
        );
        if env.signals.cancelled() {
            return Err(Error::interrupted());
        }
        phase.done("built the rows");
        let outcome = checkpoint
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            .and_then(|checkpoint| checkpoint.write(table_rows, &metadata))
            .with_context(|| format!("cannot write the checkpoint `{}`", paths.db.display()))
            .map_err(Error::pipeline)?;
        phase.done("wrote the checkpoint, its Parquet copies and digests");
        write_private(settings, &codes, &pseudonyms, &secret, &scope)?;
        phase.done("wrote the private outputs");

        let seconds = started.elapsed().as_secs_f64();
        let parsed = runs_parsed + failures.len();
        Ok(ExtractSummary {
            experiment: experiment.name.clone(),
            included: extracted.len(),
            excluded: selection.excluded.len(),
            failed: failures.len(),
            failures,
            subjects: codes.len(),
            db: paths.db.clone(),
            checkpoint_written: matches!(outcome, WriteOutcome::Written { .. }),
            logical_digest: outcome.digest().to_string(),
            runs_parsed,
            runs_from_cache,
            runs_decoded,
            runs_inputs_unchanged,
            bytes_read,
            seconds,
            runs_per_second: if seconds > 0.0 {
                parsed as f64 / seconds
            } else {
                0.0
            },
            key_values,
        })
    })
}

/// Writes the private outputs: the pseudonym table of the subjects now in the checkpoint,
/// the lookup from anonymous to original codes and, with a subjects database, the demo
/// subjects' traces.
fn write_private(
    settings: &Settings,
    codes: &CodeMap,
    pseudonyms: &BTreeMap<String, String>,
    secret: &Secret,
    scope: &Scope,
) -> Result<()> {
    let config = &settings.config;
    let anon_to_original: BTreeMap<String, String> = codes
        .iter()
        .map(|(p, a)| {
            pseudonyms
                .get(p)
                .map(|o| (a.to_string(), o.clone()))
                .ok_or_else(|| {
                    Error::pipeline(anyhow!(
                        "a subject's original code is missing from the private pseudonym table"
                    ))
                })
        })
        .collect::<Result<_>>()?;
    let current: BTreeMap<String, String> = codes
        .iter()
        .filter_map(|(p, _)| pseudonyms.get(p).map(|o| (p.to_string(), o.clone())))
        .collect();
    private::save_pseudonyms(&config.outputs.private_dir, &current).map_err(Error::pipeline)?;
    private::write_lookup(
        &config.outputs.private_dir,
        &anon_to_original,
        &secret.source,
    )
    .map_err(Error::pipeline)?;
    if let Some(db) = &scope.subjects_database {
        let wanted = scope
            .demo_subjects
            .iter()
            .map(|a| {
                anon_to_original
                    .get(a)
                    .map(|o| (a.clone(), o.clone()))
                    .ok_or_else(|| {
                        anyhow!(
                            "demo subject `{a}` (`{}`) is not among the extracted subjects",
                            scope.subjects_keys.1
                        )
                    })
            })
            .collect::<anyhow::Result<BTreeMap<_, _>>>()
            .map_err(Error::usage)?;
        let traces = private::read_traces(db, &wanted).map_err(Error::pipeline)?;
        private::write_traces(&config.outputs.private_dir, &traces).map_err(Error::pipeline)?;
    }
    Ok(())
}

/// Prints how long each phase of an extraction took (shown with `-v`).
struct Phases<'o> {
    out: &'o Output,
    last: Instant,
}

impl<'o> Phases<'o> {
    fn new(out: &'o Output, started: Instant) -> Self {
        Phases { out, last: started }
    }

    fn done(&mut self, what: &str) {
        let now = Instant::now();
        self.out.detail(format!(
            "extract: {what} in {:.3} s",
            (now - self.last).as_secs_f64()
        ));
        self.last = now;
    }
}
