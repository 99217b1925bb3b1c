//! The parallel phase of extraction: every candidate run on the rayon pool, from the per-run
//! cache where its inputs are unchanged, else by decoding its pickle, computing its metrics
//! and replacing its subject codes by keyed pseudonyms.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::anyhow;
use rayon::prelude::*;

use super::compute;
use super::parse::{self, RunData};
use super::run_cache::{CachedRun, RunCache};
use super::secret::Secret;
use super::select::{Candidate, Excluded};
use super::{inputs, private, test_set, ExtractEnv, Extracted};
use crate::base::fault;
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::runner::{Probe, StatCache};
use crate::ui::{Output, Progress};

/// How one run came out of the parallel phase.
enum RunOutcome {
    /// Decoded and computed now; carries the original codes for the private lookup and the
    /// pickle's size in bytes.
    Parsed(Extracted, Vec<String>, u64),
    /// Decoded now (its pickle's stamp changed) and its inputs found in the per-run cache;
    /// carries the same as [`RunOutcome::Parsed`].
    InputsUnchanged(Extracted, Vec<String>, u64),
    /// Taken from the per-run cache.
    Cached(Extracted),
    /// Its pickle could not be used.
    Failed(String),
}

/// The runs read by the workers.
pub(super) struct ReadRuns {
    /// Runs with their metrics, in no particular order.
    pub(super) extracted: Vec<Extracted>,
    /// Runs whose pickle could not be used, with the cause.
    pub(super) failed: Vec<Excluded>,
    /// Pseudonym → original subject code, of this and earlier extractions.
    pub(super) pseudonyms: BTreeMap<String, String>,
    /// Runs decoded and computed now.
    pub(super) runs_parsed: usize,
    /// Runs taken from the per-run cache.
    pub(super) runs_from_cache: usize,
    /// Pickles decoded now.
    pub(super) runs_decoded: usize,
    /// Pickles decoded now whose inputs were in the per-run cache.
    pub(super) runs_inputs_unchanged: usize,
    /// Bytes of the pickles decoded now.
    pub(super) bytes_read: u64,
    /// Run id → its pickle's value in the step key.
    pub(super) key_values: BTreeMap<String, String>,
}

/// Reads every candidate run on `settings.jobs` workers: from the per-run cache where it
/// can, else by decoding its pickle.
pub(super) fn read_runs(
    settings: &Settings,
    out: &Output,
    env: &ExtractEnv<'_>,
    candidates: Vec<Candidate>,
    secret: &Secret,
) -> Result<ReadRuns> {
    let config = &settings.config;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(settings.jobs)
        .build()
        .map_err(|e| {
            Error::pipeline(anyhow!(
                "cannot start {} worker threads: {e}",
                settings.jobs
            ))
        })?;
    let progress = Progress::new("extract", candidates.len() as u64, out.progress);
    let resampling = test_set::resampling(&config.test_bootstrap);
    let run_cache = RunCache::new(&config.outputs.cache_dir, resampling);
    let known = private::load_pseudonyms(&config.outputs.private_dir).map_err(Error::pipeline)?;
    let slow = match fault::for_step("extract") {
        Some(fault::Fault::SlowRun(d)) => Some(d),
        _ => None,
    };
    let job = Job {
        pattern: &config.store.metrics_pickle,
        secret,
        context: inputs::context(&secret.fingerprint()),
        cache: &run_cache,
        resampling,
        known: &known,
        private_dir: &config.outputs.private_dir,
        env,
    };
    let results: Vec<(Candidate, RunOutcome, Option<String>)> = pool.install(|| {
        candidates
            .into_par_iter()
            .map(|candidate| {
                if env.signals.cancelled() {
                    return (candidate, RunOutcome::Failed("cancelled".into()), None);
                }
                let what = format!("run {}", candidate.run.run_id);
                env.signals.started(&what);
                if let Some(d) = slow {
                    std::thread::sleep(d);
                }
                let (outcome, key_value) = job.run(&candidate);
                env.signals.finished(&what);
                progress.inc();
                env.signals.beat();
                (candidate, outcome, key_value)
            })
            .collect()
    });
    progress.finish();
    if env.signals.cancelled() {
        return Err(Error::interrupted());
    }
    let mut read = ReadRuns {
        extracted: Vec::new(),
        failed: Vec::new(),
        pseudonyms: known,
        runs_parsed: 0,
        runs_from_cache: 0,
        runs_decoded: 0,
        runs_inputs_unchanged: 0,
        bytes_read: 0,
        key_values: BTreeMap::new(),
    };
    for (candidate, outcome, key_value) in results {
        if let Some(value) = key_value {
            read.key_values.insert(candidate.run.run_id.clone(), value);
        }
        match outcome {
            RunOutcome::Parsed(run, codes, bytes) => {
                for (p, o) in run.pseudonyms.iter().zip(codes) {
                    read.pseudonyms.insert(p.clone(), o);
                }
                read.runs_parsed += 1;
                read.runs_decoded += 1;
                read.bytes_read += bytes;
                read.extracted.push(run);
            }
            RunOutcome::InputsUnchanged(run, codes, bytes) => {
                for (p, o) in run.pseudonyms.iter().zip(codes) {
                    read.pseudonyms.insert(p.clone(), o);
                }
                read.runs_from_cache += 1;
                read.runs_decoded += 1;
                read.runs_inputs_unchanged += 1;
                read.bytes_read += bytes;
                read.extracted.push(run);
            }
            RunOutcome::Cached(run) => {
                read.runs_from_cache += 1;
                read.extracted.push(run);
            }
            RunOutcome::Failed(reason) => read.failed.push(Excluded {
                run: candidate.run,
                reason,
            }),
        }
    }
    Ok(read)
}

/// What every worker needs to extract one run.
struct Job<'a> {
    pattern: &'a str,
    secret: &'a Secret,
    /// The stat cache's context for input digests under this secret.
    context: String,
    cache: &'a RunCache,
    /// The test-set bootstrap of the metrics.
    resampling: crate::metrics::Resampling,
    known: &'a BTreeMap<String, String>,
    private_dir: &'a std::path::Path,
    env: &'a ExtractEnv<'a>,
}

/// A run's pickle decoded, with its value for the step key.
pub struct Decoded {
    /// [`inputs::decoded_value`] or [`inputs::refused_value`].
    pub key_value: String,
    /// The record, or why the pickle was refused (names the key path, never a value).
    pub data: std::result::Result<RunData, String>,
}

/// Decodes the pickle at `path`, read after `probe`, and records its key value in the stat
/// cache under the secret's context (not when the file could not be opened: that may pass).
pub fn decode_inputs(stat: &StatCache, probe: &Probe, path: &Path, secret: &Secret) -> Decoded {
    let context = inputs::context(&secret.fingerprint());
    let (key_value, data, record) = match parse::read_run_pickle(path) {
        Ok(data) => (
            inputs::decoded_value(&inputs::digest(&data, secret)),
            Ok(data),
            true,
        ),
        Err(e) => (
            inputs::refused_value(&e.problem, secret),
            Err(e.problem),
            !e.io,
        ),
    };
    if record {
        stat.record_derived(probe, &context, &key_value);
    }
    Decoded { key_value, data }
}

impl Job<'_> {
    /// Extracts one run: from the per-run cache when its pickle's stamp is unchanged or its
    /// decoded inputs are (and every subject's original code is in the private table), else
    /// by decoding and computing. Also returns the pickle's value for the step key.
    fn run(&self, candidate: &Candidate) -> (RunOutcome, Option<String>) {
        let run = &candidate.run;
        let relative = match run.pickle_relative(self.pattern) {
            Ok(relative) => relative,
            Err(unsafe_path) => return (RunOutcome::Failed(unsafe_path.to_string()), None),
        };
        let Some(dir) = run.artifact_dir.as_ref() else {
            return (RunOutcome::Failed(format!("metrics pickle `artifacts/{relative}` not found: the run has no artifact directory")), None);
        };
        let path = dir.join(&relative);
        if !path.is_file() {
            return (
                RunOutcome::Failed(format!("metrics pickle `artifacts/{relative}` not found")),
                None,
            );
        }
        let probe = match self.env.stat.probe(&path, &self.context) {
            Ok(probe) => probe,
            Err(e) => {
                return (
                    RunOutcome::Failed(format!("`artifacts/{relative}`: {e:#}")),
                    None,
                )
            }
        };
        // Unchanged stamp: the input digest recorded for it keys the per-run cache.
        if let Some(value) = &probe.fresh {
            if let Some(hit) = inputs::digest_of_value(value)
                .and_then(|digest| self.cache.load(digest))
                .filter(|c| c.pseudonyms.iter().all(|p| self.known.contains_key(p)))
            {
                return (
                    RunOutcome::Cached(Extracted::from_cached(candidate, hit)),
                    Some(value.clone()),
                );
            }
        }
        let Decoded { key_value, data } = decode_inputs(self.env.stat, &probe, &path, self.secret);
        let data = match data {
            Ok(d) => d,
            Err(problem) => {
                return (
                    RunOutcome::Failed(format!("`artifacts/{relative}`: {problem}")),
                    Some(key_value),
                )
            }
        };
        let digest = inputs::digest_of_value(&key_value).expect("a decoded run has a digest");
        let bytes = probe.size();
        if let Some(hit) = self.cache.load(digest) {
            // Same inputs as a run already computed: only the pseudonym table may need them.
            let pairs: Vec<(String, String)> = hit
                .pseudonyms
                .iter()
                .cloned()
                .zip(data.subject_codes.iter().cloned())
                .filter(|(p, _)| !self.known.contains_key(p))
                .collect();
            if !pairs.is_empty() {
                let _ = private::append_pseudonyms(self.private_dir, &pairs);
            }
            return (
                RunOutcome::InputsUnchanged(
                    Extracted::from_cached(candidate, hit),
                    data.subject_codes,
                    bytes,
                ),
                Some(key_value),
            );
        }
        let metrics = compute::run_metrics(&data, self.resampling);
        let pseudonyms: Vec<String> = data
            .subject_codes
            .iter()
            .map(|c| self.secret.pseudonym(c))
            .collect();
        let RunData {
            subject_codes,
            labels,
            prob_mean,
            prob_std,
            ..
        } = data;
        let cached = CachedRun {
            pseudonyms,
            labels,
            prob_mean,
            prob_std,
            metrics,
        };
        // The originals go to the private table first, so the cache entry is usable even if
        // this extraction is killed before it finishes. A failed write costs only speed.
        let pairs: Vec<(String, String)> = cached
            .pseudonyms
            .iter()
            .cloned()
            .zip(subject_codes.iter().cloned())
            .collect();
        if private::append_pseudonyms(self.private_dir, &pairs).is_ok() {
            let _ = self.cache.store(digest, &cached);
        }
        (
            RunOutcome::Parsed(
                Extracted::from_cached(candidate, cached),
                subject_codes,
                bytes,
            ),
            Some(key_value),
        )
    }
}
