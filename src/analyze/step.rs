//! The analysis as pipeline steps: one per figure and one for the tables, each keyed on the
//! checkpoint's logical digest and the config it reads, so a changed setting reruns only
//! what it affects. Figure and table steps are optional: one that fails does not stop the
//! others, and the report lists it as failed.
//!
//! The `methods` section names methods in every figure and table, so every step keys it
//! whole. Of the `analysis` section, a figure keys the settings its code names (its own
//! module, the modules it draws with and the shared ones, [`figures::Spec::code`]), and the
//! tables key every setting but `FIGURE_ONLY_SETTINGS`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, bail, Result};

use super::figures::{self, Drawn, Env};
use super::frames::{self, Checkpoint};
use super::sidecar::Provenance;
use super::{paired, pbar, tables};
use crate::config::{AnalysisConfig, Settings};
use crate::runner::fingerprint::StepKey;
use crate::runner::stat_cache::StatCache;
use crate::runner::step::{Step, StepContext, StepOutput};

/// Revision of the figure steps' key format; a figure's own code is keyed by its digest
/// ([`figures::Spec::code_digest`]), so changing one figure reruns that figure only.
const FIGURE_REVISION: u32 = 4;
/// Revision of the tables step's key format; the tables' code is keyed by its digest.
const TABLES_REVISION: u32 = 5;

/// The code the tables depend on: their modules, the statistics they print, the shared
/// analysis code (frames, styles, method labels) and the metric catalog (the headers).
const TABLE_SOURCES: &[&str] = &[
    include_str!("tables.rs"),
    include_str!("latex.rs"),
    include_str!("tabular.rs"),
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
    include_str!("methods.rs"),
    include_str!("../metrics/delong.rs"),
    include_str!("../metrics/catalog.rs"),
];

/// The `analysis` settings that only figures read: how a figure is rendered, and the
/// options of single figures. The tables step leaves them out of its key; a test checks
/// that the tables' code names none of them.
const FIGURE_ONLY_SETTINGS: &[&str] = &[
    "formats",
    "png_dpi",
    "figure_width_mm",
    "single_column_width_mm",
    "heatmap_classifier",
    "retention_min_subjects",
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
/// `methods` section.
fn base_key(
    step: &str,
    revision: u32,
    settings: &Settings,
    checkpoint: &SharedCheckpoint,
    stat: &StatCache,
) -> StepKey {
    let mut key = StepKey::new(step, revision);
    key.config("methods", &settings.config.methods);
    key.input(
        "checkpoint (logical digest)",
        checkpoint.digest(settings, stat),
    );
    key
}

/// Adds to `key` each `analysis` setting that `reads` accepts, under its dotted name
/// (`analysis.top_k`).
fn analysis_settings(
    key: &mut StepKey,
    analysis: &AnalysisConfig,
    reads: impl Fn(&str) -> bool,
) -> Result<()> {
    let serde_json::Value::Object(fields) = serde_json::to_value(analysis)? else {
        bail!("the `analysis` section does not serialize as a map");
    };
    for (field, value) in fields.iter().filter(|(field, _)| reads(field)) {
        key.config(&format!("analysis.{field}"), value);
    }
    Ok(())
}

/// Whether `code` names the identifier `name` on its own (not inside a longer identifier).
fn names(code: &str, name: &str) -> bool {
    let part_of_identifier = |c: char| c.is_ascii_alphanumeric() || c == '_';
    code.match_indices(name).any(|(at, _)| {
        !code[..at].ends_with(part_of_identifier)
            && !code[at + name.len()..].starts_with(part_of_identifier)
    })
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
        analysis_settings(&mut key, &settings.config.analysis, |field| {
            spec.code().any(|code| names(code, field))
        })?;
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
        analysis_settings(&mut key, &settings.config.analysis, |field| {
            !FIGURE_ONLY_SETTINGS.contains(&field)
        })?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The config keys `analysis_settings` adds for the default settings with `reads`.
    fn keyed(reads: impl Fn(&str) -> bool) -> Vec<String> {
        let mut key = StepKey::new("test", 1);
        analysis_settings(&mut key, &AnalysisConfig::default(), reads).unwrap();
        key.config.into_keys().collect()
    }

    /// The `analysis` keys of figure `name`.
    fn figure_keys(name: &str) -> Vec<String> {
        let spec = figures::spec(name).unwrap();
        keyed(|field| spec.code().any(|code| names(code, field)))
    }

    #[test]
    fn names_finds_whole_identifiers_only() {
        assert!(names("let k = analysis.top_k.max(1);", "top_k"));
        assert!(names("top_k", "top_k"));
        assert!(!names("let stop_k = 1;", "top_k"));
        assert!(!names("top_kth", "top_k"));
    }

    #[test]
    fn a_figure_keys_the_analysis_settings_its_code_names() {
        let heatmap = figure_keys(figures::heatmap::NAME);
        let mean_rank = figure_keys(figures::mean_rank::NAME);
        let calibration = figure_keys(figures::calibration::NAME);
        let decision = figure_keys(figures::curves::DCA);
        let retention = figure_keys(figures::retention::NAME);
        // Every figure is rendered and marks oracles.
        for figure in [&heatmap, &mean_rank, &calibration, &decision, &retention] {
            for shared in [
                "analysis.formats",
                "analysis.png_dpi",
                "analysis.figure_width_mm",
                "analysis.single_column_width_mm",
                "analysis.oracle_categories",
            ] {
                assert!(figure.iter().any(|k| k == shared), "{shared}: {figure:?}");
            }
        }
        assert!(heatmap.iter().any(|k| k == "analysis.heatmap_classifier"));
        for top in [&calibration, &decision, &retention] {
            assert!(top.iter().any(|k| k == "analysis.top_k"), "{top:?}");
        }
        assert!(retention
            .iter()
            .any(|k| k == "analysis.retention_min_subjects"));
        for other in [
            "analysis.heatmap_classifier",
            "analysis.top_k",
            "analysis.retention_min_subjects",
            "analysis.reference_config",
        ] {
            assert!(!mean_rank.iter().any(|k| k == other), "{other}");
        }
    }

    #[test]
    fn the_tables_leave_out_only_settings_no_table_code_names() {
        let all = keyed(|_| true);
        for setting in FIGURE_ONLY_SETTINGS {
            assert!(
                all.contains(&format!("analysis.{setting}")),
                "`{setting}` is not an analysis setting"
            );
        }
        // The tables' code and the modules it calls, and the analysis report.
        let table_code: Vec<&str> = TABLE_SOURCES
            .iter()
            .copied()
            .chain([include_str!("report.rs")])
            .collect();
        for setting in FIGURE_ONLY_SETTINGS {
            assert!(
                !table_code.iter().any(|code| names(code, setting)),
                "the tables read `{setting}`"
            );
        }
        let tables = keyed(|field| !FIGURE_ONLY_SETTINGS.contains(&field));
        for read in [
            "analysis.top_k",
            "analysis.reference_auroc",
            "analysis.oracle_categories",
            "analysis.reference_config",
        ] {
            assert!(tables.iter().any(|k| k == read), "{read}: {tables:?}");
        }
    }
}
