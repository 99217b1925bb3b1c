//! The LaTeX outputs in the outputs directory: one file each, written atomically, with the
//! ANOVA also as JSON for programs.

use std::cell::OnceCell;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Result};
use serde_json::json;

use super::captions::Sizes;
use super::frames::Checkpoint;
use super::report::{Entry, Outcome};
use super::sidecar::Provenance;
use super::stats::{self, by_factor, Comparison, FACTORS};
use super::{anova, latex, numbers, paired, pbar};
use crate::config::Config;
use crate::fsx;

/// File names of the outputs, in the order they are written.
pub fn files() -> Vec<String> {
    let mut out: Vec<String> = FACTORS.iter().map(|(f, _)| comparison_file(f)).collect();
    out.extend(
        [
            "top_pipelines.tex",
            "stratos.tex",
            "paired_comparisons.tex",
            "paired_comparisons.json",
            "anova.tex",
            "anova.json",
            "numbers.tex",
        ]
        .map(String::from),
    );
    out
}

fn comparison_file(factor: &str) -> String {
    format!("comparison_{}.tex", factor.trim_end_matches("_method"))
}

/// Every file written, as paths.
pub fn outputs(config: &Config) -> Vec<PathBuf> {
    files()
        .into_iter()
        .map(|f| config.outputs.outputs_dir.join(f))
        .collect()
}

/// Writes every table; one entry per file.
pub fn generate(ckpt: &Checkpoint, config: &Config, prov: &Provenance) -> Vec<Entry> {
    let shared = Shared::new(ckpt, config);
    files()
        .into_iter()
        .map(|name| {
            let outcome = Outcome::from_result(text(&name, &shared, prov).and_then(|t| {
                let p = config.outputs.outputs_dir.join(&name);
                fsx::write_atomic(&p, t.as_bytes())?;
                Ok(vec![p])
            }));
            Entry { name, outcome }
        })
        .collect()
}

/// A value several tables print, computed on first use; a failure is kept as its message and
/// fails every file that needs the value, as computing it again would.
type Once<T> = OnceCell<std::result::Result<T, String>>;

/// What the tables share, each computed once per run.
struct Shared<'a> {
    ckpt: &'a Checkpoint,
    config: &'a Config,
    sizes: Once<Sizes>,
    ranked: Once<Vec<stats::Config>>,
    pbar: Once<Vec<pbar::Ranked>>,
    anova: Once<Vec<anova::Term>>,
    paired: Once<paired::Paired>,
    comparisons: [Once<Comparison>; FACTORS.len()],
}

impl<'a> Shared<'a> {
    fn new(ckpt: &'a Checkpoint, config: &'a Config) -> Self {
        Self {
            ckpt,
            config,
            sizes: OnceCell::new(),
            ranked: OnceCell::new(),
            pbar: OnceCell::new(),
            anova: OnceCell::new(),
            paired: OnceCell::new(),
            comparisons: Default::default(),
        }
    }

    fn sizes(&self) -> Result<&Sizes> {
        once(&self.sizes, || Sizes::from_frame(&self.ckpt.essential))
    }

    fn ranked(&self) -> Result<&[stats::Config]> {
        once(&self.ranked, || stats::ranked(&self.ckpt.essential)).map(Vec::as_slice)
    }

    fn pbar(&self) -> Result<&[pbar::Ranked]> {
        once(&self.pbar, || pbar::ranked(&self.ckpt.essential)).map(Vec::as_slice)
    }

    fn anova(&self) -> Result<&[anova::Term]> {
        once(&self.anova, || anova::from_frame(&self.ckpt.essential)).map(Vec::as_slice)
    }

    fn paired(&self) -> Result<&paired::Paired> {
        once(&self.paired, || paired::compare(self.ckpt, self.config))
    }

    /// The method comparison of `FACTORS[f]`.
    fn comparison(&self, f: usize) -> Result<&Comparison> {
        once(&self.comparisons[f], || {
            by_factor(&self.ckpt.essential, self.config, FACTORS[f].0)
        })
    }
}

/// The value in `cell`, computed by `compute` the first time.
fn once<T>(cell: &Once<T>, compute: impl FnOnce() -> Result<T>) -> Result<&T> {
    cell.get_or_init(|| compute().map_err(|e| format!("{e:#}")))
        .as_ref()
        .map_err(|e| anyhow!("{e}"))
}

/// The content of output `name`.
fn text(name: &str, shared: &Shared, prov: &Provenance) -> Result<String> {
    let (ckpt, config) = (shared.ckpt, shared.config);
    let sizes = shared.sizes()?;
    if let Some(f) = FACTORS.iter().position(|(f, _)| comparison_file(f) == name) {
        let (factor, title) = FACTORS[f];
        return Ok(latex::factor_table(
            prov,
            config,
            sizes,
            factor,
            title,
            shared.comparison(f)?,
        ));
    }
    Ok(match name {
        "top_pipelines.tex" => latex::top_table(prov, config, sizes, shared.pbar()?),
        "stratos.tex" => {
            latex::stratos_table(prov, config, sizes, shared.pbar()?, &ckpt.essential)?
        }
        "paired_comparisons.tex" => paired::tex(prov, config, sizes, shared.paired()?),
        "paired_comparisons.json" => {
            serde_json::to_string_pretty(&paired::json(prov, shared.paired()?))?
        }
        "anova.tex" => latex::anova_table(prov, config, sizes, shared.anova()?),
        "anova.json" => {
            let doc = json!({
                "tool_version": prov.tool_version,
                "logical_digest": prov.logical_digest,
                "formula": "auroc_pbar ~ main effects of every factor with at least two levels",
                "typ": 2,
                "terms": shared.anova()?,
            });
            serde_json::to_string_pretty(&doc)?
        }
        "numbers.tex" => {
            let comparisons = FACTORS
                .iter()
                .enumerate()
                .map(|(f, (factor, _))| Ok((*factor, shared.comparison(f)?.clone())))
                .collect::<Result<Vec<_>>>()?;
            let study = numbers::Study::new(
                &ckpt.essential,
                *sizes,
                shared.anova().ok().map(<[_]>::to_vec),
            )?;
            let mut text =
                numbers::numbers_tex(prov, config, shared.ranked()?, &comparisons, &study);
            for (name, value) in paired::macros(shared.paired()?) {
                text.push_str(&numbers::provide(&name, &value));
            }
            text
        }
        _ => bail!("no table named `{name}`"),
    })
}
