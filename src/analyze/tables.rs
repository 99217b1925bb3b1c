//! The LaTeX outputs in the outputs directory: one file each, written atomically, with the
//! ANOVA also as JSON for programs.

use std::path::PathBuf;

use anyhow::{bail, Result};
use serde_json::json;

use super::captions::Sizes;
use super::frames::Checkpoint;
use super::report::{Entry, Outcome};
use super::sidecar::Provenance;
use super::stats::{by_factor, ranked, FACTORS};
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
    files()
        .into_iter()
        .map(|name| {
            let outcome = Outcome::from_result(text(&name, ckpt, config, prov).and_then(|t| {
                let p = config.outputs.outputs_dir.join(&name);
                fsx::write_atomic(&p, t.as_bytes())?;
                Ok(vec![p])
            }));
            Entry { name, outcome }
        })
        .collect()
}

/// The content of output `name`.
fn text(name: &str, ckpt: &Checkpoint, config: &Config, prov: &Provenance) -> Result<String> {
    let sizes = Sizes::from_frame(&ckpt.essential)?;
    if let Some((factor, title)) = FACTORS.iter().find(|(f, _)| comparison_file(f) == name) {
        return Ok(latex::factor_table(
            prov,
            config,
            &sizes,
            factor,
            title,
            &by_factor(&ckpt.essential, config, factor)?,
        ));
    }
    let ranked = ranked(&ckpt.essential)?;
    Ok(match name {
        "top_pipelines.tex" => {
            latex::top_table(prov, config, &sizes, &pbar::ranked(&ckpt.essential)?)
        }
        "stratos.tex" => latex::stratos_table(
            prov,
            config,
            &sizes,
            &pbar::ranked(&ckpt.essential)?,
            &ckpt.essential,
        )?,
        "paired_comparisons.tex" => {
            paired::tex(prov, config, &sizes, &paired::compare(ckpt, config)?)
        }
        "paired_comparisons.json" => {
            serde_json::to_string_pretty(&paired::json(prov, &paired::compare(ckpt, config)?))?
        }
        "anova.tex" => {
            latex::anova_table(prov, config, &sizes, &anova::from_frame(&ckpt.essential)?)
        }
        "anova.json" => {
            let doc = json!({
                "tool_version": prov.tool_version,
                "logical_digest": prov.logical_digest,
                "formula": "auroc_pbar ~ main effects of every factor with at least two levels",
                "typ": 2,
                "terms": anova::from_frame(&ckpt.essential)?,
            });
            serde_json::to_string_pretty(&doc)?
        }
        "numbers.tex" => {
            let comparisons = FACTORS
                .iter()
                .map(|(f, _)| Ok((*f, by_factor(&ckpt.essential, config, f)?)))
                .collect::<Result<Vec<_>>>()?;
            let study = numbers::Study::from_frame(&ckpt.essential)?;
            let mut text = numbers::numbers_tex(prov, config, &ranked, &comparisons, &study);
            for (name, value) in paired::macros(&paired::compare(ckpt, config)?) {
                text.push_str(&numbers::provide(&name, &value));
            }
            text
        }
        _ => bail!("no table named `{name}`"),
    })
}
