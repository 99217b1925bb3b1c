//! The analysis as pipeline steps: one per figure and one for the tables, each keyed on the
//! checkpoint's logical digest and the config it reads, so a changed setting reruns only
//! what it affects. Figure and table steps are optional: one that fails does not stop the
//! others, and the report lists it as failed.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, bail, Result};

use super::figures::{self, Drawn, Env};
use super::frames::{self, Checkpoint};
use super::sidecar::Provenance;
use super::{paired, pbar, tables};
use crate::config::Settings;
use crate::runner::fingerprint::StepKey;
use crate::runner::stat_cache::StatCache;
use crate::runner::step::{Step, StepContext, StepOutput};

/// Revision of the figure steps' key format; a figure's own code is keyed by its digest
/// ([`figures::Spec::code_digest`]), so changing one figure reruns that figure only.
const FIGURE_REVISION: u32 = 3;
/// Revision of the tables step's key format; the tables' code is keyed by its digest.
const TABLES_REVISION: u32 = 4;

/// The code the tables depend on: their modules, the statistics they print and the shared
/// analysis code (frames, styles, method labels).
const TABLE_SOURCES: &[&str] = &[
    include_str!("tables.rs"),
    include_str!("latex.rs"),
    include_str!("captions.rs"),
    include_str!("numbers.rs"),
    include_str!("paired.rs"),
    include_str!("pbar.rs"),
    include_str!("stats.rs"),
    include_str!("emm.rs"),
    include_str!("anova.rs"),
    include_str!("frames.rs"),
    include_str!("sidecar.rs"),
    include_str!("style.rs"),
    include_str!("figures/mod.rs"),
    include_str!("../metrics/delong.rs"),
];

/// The name of the tables step.
pub const TABLES_STEP: &str = "tables";

/// The checkpoint, loaded once for all analysis steps of one pipeline run.
#[derive(Default)]
pub struct SharedCheckpoint {
    loaded: Mutex<Option<Arc<Checkpoint>>>,
}

impl SharedCheckpoint {
    /// The checkpoint's recorded logical digest (remembered by its stamp in the stat cache),
    /// `missing` or `unreadable (…)`.
    fn digest(&self, settings: &Settings, stat: &StatCache) -> String {
        let db = &settings.config.outputs.db;
        if !db.is_file() {
            return "missing".into();
        }
        frames::logical_digest(db, stat).unwrap_or_else(|e| format!("unreadable ({e:#})"))
    }

    fn get(&self, settings: &Settings) -> Result<Arc<Checkpoint>> {
        let mut slot = self
            .loaded
            .lock()
            .map_err(|_| anyhow!("a previous step panicked while loading the checkpoint"))?;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let c = Arc::new(frames::load(&settings.config.outputs.db)?);
        *slot = Some(c.clone());
        Ok(c)
    }
}

/// The key every analysis step shares: the checkpoint's recorded logical digest and the
/// config the figures and tables read.
fn base_key(
    step: &str,
    revision: u32,
    settings: &Settings,
    checkpoint: &SharedCheckpoint,
    stat: &StatCache,
) -> StepKey {
    let c = &settings.config;
    let mut key = StepKey::new(step, revision);
    key.config("analysis", &c.analysis);
    key.config("methods", &c.methods);
    key.input(
        "checkpoint (logical digest)",
        checkpoint.digest(settings, stat),
    );
    key
}

/// One figure of Block 2.
pub struct FigureStep {
    name: String,
    checkpoint: Arc<SharedCheckpoint>,
}

impl Step for FigureStep {
    fn name(&self) -> &str {
        &self.name
    }

    fn key(&self, settings: &Settings, stat: &StatCache) -> Result<StepKey> {
        let mut key = base_key(
            &self.name,
            FIGURE_REVISION,
            settings,
            &self.checkpoint,
            stat,
        );
        let spec =
            figures::spec(&self.name).ok_or_else(|| anyhow!("no figure named `{}`", self.name))?;
        key.input("figure code", spec.code_digest());
        if spec.reads_private {
            let path = figures::traces::traces_path(&settings.config.outputs.private_dir);
            let digest = if path.is_file() {
                stat.digest(&path)?
            } else {
                "absent".into()
            };
            key.input("private traces", digest);
        }
        Ok(key)
    }

    fn outputs(&self, settings: &Settings) -> Vec<PathBuf> {
        figures::outputs(&settings.config, &self.name)
    }

    fn required(&self) -> bool {
        false
    }

    fn run(&self, ctx: &StepContext) -> Result<StepOutput> {
        let config = &ctx.settings.config;
        let ckpt = self.checkpoint.get(&ctx.settings)?;
        let prov = Provenance::new(&ckpt.digest);
        let env = Env {
            ckpt: &ckpt,
            config,
            prov: &prov,
        };
        let summary = match figures::generate(&self.name, &env)? {
            Drawn::Files(files) => format!("{} file(s)", files.len()),
            Drawn::Skipped(reason) => format!("skipped: {reason}"),
        };
        Ok(StepOutput {
            summary,
            details: None,
        })
    }
}

/// The LaTeX tables, the ANOVA and `numbers.tex`.
pub struct TablesStep {
    checkpoint: Arc<SharedCheckpoint>,
}

impl Step for TablesStep {
    fn name(&self) -> &str {
        TABLES_STEP
    }

    fn key(&self, settings: &Settings, stat: &StatCache) -> Result<StepKey> {
        let mut key = base_key(
            TABLES_STEP,
            TABLES_REVISION,
            settings,
            &self.checkpoint,
            stat,
        );
        key.input("table code", figures::code_digest(TABLE_SOURCES, &[]));
        Ok(key)
    }

    fn outputs(&self, settings: &Settings) -> Vec<PathBuf> {
        tables::outputs(&settings.config)
    }

    fn required(&self) -> bool {
        false
    }

    fn run(&self, ctx: &StepContext) -> Result<StepOutput> {
        let config = &ctx.settings.config;
        let ckpt = self.checkpoint.get(&ctx.settings)?;
        // An `analysis.reference_config` that names no configuration is a configuration
        // error (exit 2), not one failed table.
        paired::reference(&pbar::ranked(&ckpt.essential)?, config)?;
        let prov = Provenance::new(&ckpt.digest);
        let entries = tables::generate(&ckpt, config, &prov);
        let failures: Vec<String> = entries.iter().filter_map(|e| e.failure()).collect();
        if !failures.is_empty() {
            bail!("{}", failures.join("; "));
        }
        Ok(StepOutput {
            summary: format!(
                "{} file(s) in `{}`",
                entries.len(),
                config.outputs.outputs_dir.display()
            ),
            details: None,
        })
    }
}

/// The figure and table steps, sharing one loaded checkpoint.
pub fn analysis_steps() -> Vec<Arc<dyn Step>> {
    let checkpoint = Arc::new(SharedCheckpoint::default());
    let mut steps: Vec<Arc<dyn Step>> = figures::names()
        .into_iter()
        .map(|name| {
            Arc::new(FigureStep {
                name,
                checkpoint: checkpoint.clone(),
            }) as Arc<dyn Step>
        })
        .collect();
    steps.push(Arc::new(TablesStep { checkpoint }));
    steps
}

/// Whether `step` is one of the analysis steps (it belongs in the analysis report).
pub fn is_analysis_step(step: &str) -> bool {
    step == TABLES_STEP || figures::names().iter().any(|n| n == step)
}
