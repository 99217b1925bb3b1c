//! Mean-rank diagram of pipelines (outlier × imputation): within each (classifier,
//! featurization) block the pipelines are ranked by AUROC (1 = best, ties share their mean
//! rank), and each pipeline's ranks are averaged over the blocks. Only the largest complete
//! sub-design is ranked (every pipeline in every block), so every block ranks the same
//! pipelines; pipelines that use an oracle method are a reference, not ranked.
//!
//! The ranks are descriptive: no test is made, because bootstrap iterations are not
//! independent samples and would give meaningless p-values.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde_json::json;

use super::{draw_title, label_width, row_label, title_height, Env};
use crate::analyze::methods::{self, factor_style, uses_oracle};
use crate::analyze::render::{font, px, Figure, Span};
use crate::analyze::sidecar::num;
use crate::analyze::stats::{ranked, Config};
use crate::analyze::style::{AXIS_PT, TEXT_PT};

/// The figure name.
pub const NAME: &str = "mean_rank";

/// At most this many pipelines are drawn (the best mean ranks); the sidecar says how many
/// were left out.
const MAX_ROWS: usize = 40;

/// Pipeline labels wider than this many points make the diagram span both columns.
const SINGLE_COLUMN_LABELS: f64 = 110.0;

/// A pipeline's mean rank.
#[derive(Debug, Clone, PartialEq)]
pub struct MeanRank {
    /// Outlier method.
    pub outlier: String,
    /// Imputation method.
    pub imputation: String,
    /// Mean of the within-block ranks.
    pub mean_rank: f64,
    /// Blocks the pipeline appears in.
    pub n_blocks: usize,
}

/// Mean ranks of every pipeline in `configs`, best (lowest) first, ties by name.
pub fn mean_ranks(configs: &[Config]) -> Vec<MeanRank> {
    let mut blocks: BTreeMap<(&str, &str), Vec<&Config>> = BTreeMap::new();
    for c in configs {
        blocks
            .entry((&c.levels[2], &c.levels[3]))
            .or_default()
            .push(c);
    }
    let mut ranks: BTreeMap<(&str, &str), Vec<f64>> = BTreeMap::new();
    for members in blocks.values_mut() {
        members.sort_by(|a, b| b.auroc.total_cmp(&a.auroc));
        let mut i = 0;
        while i < members.len() {
            let mut j = i + 1;
            while j < members.len() && members[j].auroc == members[i].auroc {
                j += 1;
            }
            let rank = (i + 1 + j) as f64 / 2.0;
            for m in &members[i..j] {
                ranks
                    .entry((&m.levels[0], &m.levels[1]))
                    .or_default()
                    .push(rank);
            }
            i = j;
        }
    }
    let mut out: Vec<MeanRank> = ranks
        .into_iter()
        .map(|((o, i), r)| MeanRank {
            outlier: o.to_string(),
            imputation: i.to_string(),
            mean_rank: r.iter().sum::<f64>() / r.len() as f64,
            n_blocks: r.len(),
        })
        .collect();
    out.sort_by(|a, b| {
        a.mean_rank
            .total_cmp(&b.mean_rank)
            .then_with(|| (&a.outlier, &a.imputation).cmp(&(&b.outlier, &b.imputation)))
    });
    out
}

struct Diagram {
    rows: Vec<MeanRank>,
    labels: Vec<String>,
    max_rank: f64,
    blocks: usize,
    pipelines: usize,
}

/// A block: (classifier, featurization).
type Block<'a> = (&'a str, &'a str);
/// A pipeline: (outlier method, imputation method).
type Pipeline<'a> = (&'a str, &'a str);

/// Above this many blocks the sub-design is found greedily rather than by trying every set.
const EXHAUSTIVE_BLOCKS: usize = 16;

/// The largest complete sub-design of `configs`: the blocks and the pipelines present in
/// each of them, with the most block × pipeline cells (ties: more blocks, then the first set
/// in sorted order). Every set of blocks is tried up to `EXHAUSTIVE_BLOCKS`; beyond, blocks
/// are dropped one at a time while that enlarges the sub-design.
pub fn complete_subdesign(configs: &[Config]) -> (Vec<Block<'_>>, Vec<Pipeline<'_>>) {
    let mut members: BTreeMap<Block, std::collections::BTreeSet<Pipeline>> = BTreeMap::new();
    for c in configs {
        members
            .entry((&c.levels[2], &c.levels[3]))
            .or_default()
            .insert((&c.levels[0], &c.levels[1]));
    }
    let blocks: Vec<Block> = members.keys().copied().collect();
    let common = |chosen: &[usize]| -> Vec<Pipeline> {
        let mut sets = chosen.iter().map(|&b| &members[&blocks[b]]);
        let Some(first) = sets.next() else {
            return Vec::new();
        };
        let rest: Vec<_> = sets.collect();
        first
            .iter()
            .filter(|p| rest.iter().all(|s| s.contains(*p)))
            .copied()
            .collect()
    };
    let score = |chosen: &[usize], pipelines: usize| (chosen.len() * pipelines, chosen.len());
    let mut best: (Vec<usize>, Vec<Pipeline>) = (Vec::new(), Vec::new());
    let mut consider = |chosen: Vec<usize>| {
        let pipelines = common(&chosen);
        if score(&chosen, pipelines.len()) > score(&best.0, best.1.len()) {
            best = (chosen, pipelines);
        }
    };
    if blocks.len() <= EXHAUSTIVE_BLOCKS {
        for mask in 1u32..(1 << blocks.len()) {
            consider((0..blocks.len()).filter(|b| mask & (1 << b) != 0).collect());
        }
    } else {
        let mut chosen: Vec<usize> = (0..blocks.len()).collect();
        consider(chosen.clone());
        while chosen.len() > 1 {
            let drop = (0..chosen.len())
                .map(|i| {
                    let mut fewer = chosen.clone();
                    fewer.remove(i);
                    let n = common(&fewer).len();
                    (score(&fewer, n), std::cmp::Reverse(i))
                })
                .max()
                .map(|(_, std::cmp::Reverse(i))| i)
                .unwrap_or_default();
            chosen.remove(drop);
            consider(chosen.clone());
        }
    }
    (best.0.iter().map(|&b| blocks[b]).collect(), best.1)
}

/// Draws the mean-rank diagram and its sidecar.
pub fn generate(env: &Env) -> Result<Vec<PathBuf>> {
    let configs = ranked(&env.ckpt.essential)?;
    let (contenders, oracles): (Vec<Config>, Vec<Config>) = configs
        .into_iter()
        .partition(|c| !uses_oracle(env.config, &c.levels));
    if contenders.is_empty() {
        bail!("no configuration without an oracle method has an AUROC");
    }
    let (blocks, pipelines) = complete_subdesign(&contenders);
    let in_design: Vec<Config> = contenders
        .iter()
        .filter(|c| {
            blocks.contains(&(c.levels[2].as_str(), c.levels[3].as_str()))
                && pipelines.contains(&(c.levels[0].as_str(), c.levels[1].as_str()))
        })
        .cloned()
        .collect();
    let all = mean_ranks(&in_design);
    let (so, si) = (
        factor_style(env.config, "outlier_method"),
        factor_style(env.config, "imputation_method"),
    );
    let rows: Vec<MeanRank> = all.iter().take(MAX_ROWS).cloned().collect();
    let labels: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{} + {}",
                methods::label(so, &r.outlier),
                methods::label(si, &r.imputation)
            )
        })
        .collect();
    let data = json!({
        "note": "descriptive ranks within (classifier, featurization) blocks of the largest complete sub-design; no significance test",
        "blocks": blocks.iter().map(|(c, f)| json!({"classifier": c, "featurization": f})).collect::<Vec<_>>(),
        "n_blocks": blocks.len(),
        "n_pipelines": all.len(),
        "configurations_outside_the_sub_design": contenders.len() - in_design.len(),
        "oracle_configurations": oracles.len(),
        "left_out": all.len() - rows.len(),
        "pipelines": rows.iter().zip(&labels).map(|(r, l)| json!({
            "outlier_method": r.outlier, "imputation_method": r.imputation, "label": l,
            "mean_rank": num(r.mean_rank), "n_blocks": r.n_blocks,
        })).collect::<Vec<_>>(),
    });
    let max_rank = all.iter().map(|r| r.mean_rank).fold(1.0, f64::max);
    let fig = Diagram {
        rows,
        labels,
        max_rank,
        blocks: blocks.len(),
        pipelines: pipelines.len(),
    };
    env.emit(&fig, data)
}

impl Diagram {
    fn title(&self) -> String {
        format!(
            "Mean rank in the largest complete sub-design: {} pipelines × {} blocks (descriptive)",
            self.pipelines, self.blocks
        )
    }

    /// Height in points of the chart below the title.
    fn chart_height(&self) -> f64 {
        44.0 + 13.0 * (self.rows.len() + 1) as f64
    }
}

impl Figure for Diagram {
    fn name(&self) -> &str {
        NAME
    }

    fn span(&self) -> Span {
        if label_width(&self.labels, TEXT_PT) > SINGLE_COLUMN_LABELS {
            Span::Double
        } else {
            Span::Single
        }
    }

    fn height(&self, width: f64) -> f64 {
        title_height(&self.title(), width) + self.chart_height()
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let n = self.rows.len() as i32;
        let labels = &self.labels;
        let body = draw_title(root, &self.title(), s)?;
        let mut chart = ChartBuilder::on(&body)
            .margin(px(6.0, s))
            .margin_right(px(12.0, s))
            .x_label_area_size(px(30.0, s))
            .y_label_area_size(px(label_width(labels, TEXT_PT), s))
            .build_cartesian_2d(0.5..self.max_rank + 0.5, -1i32..n)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels((n + 2) as usize)
            .y_label_formatter(&|y| row_label(labels, *y))
            .x_labels((self.max_rank.ceil() as usize + 1).min(12))
            .x_label_formatter(&|x| {
                if x.fract() == 0.0 {
                    format!("{x:.0}")
                } else {
                    format!("{x:.1}")
                }
            })
            .x_desc("Mean rank by AUROC (1 = best)")
            .label_style(font(TEXT_PT, s))
            .axis_desc_style(font(AXIS_PT, s))
            .draw()?;
        let colour = RGBColor(0, 114, 178);
        for (i, r) in self.rows.iter().enumerate() {
            let y = n - 1 - i as i32;
            chart.draw_series(LineSeries::new(
                vec![(1.0, y), (r.mean_rank, y)],
                colour.mix(0.35).stroke_width(px(1.0, s)),
            ))?;
            chart.draw_series(std::iter::once(Circle::new(
                (r.mean_rank, y),
                px(2.5, s),
                colour.filled(),
            )))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(id: i32, o: &str, i: &str, c: &str, auroc: f64) -> Config {
        Config {
            id,
            levels: [o.into(), i.into(), c.into(), "f".into()],
            auroc,
            ci_lower: None,
            ci_upper: None,
        }
    }

    #[test]
    fn ranks_within_blocks_and_share_ties() {
        let configs = [
            config(1, "a", "x", "LR", 0.9),
            config(2, "b", "x", "LR", 0.8),
            config(3, "c", "x", "LR", 0.8),
            config(4, "a", "x", "XGB", 0.7),
            config(5, "b", "x", "XGB", 0.75),
        ];
        let r = mean_ranks(&configs);
        let get = |o: &str| r.iter().find(|m| m.outlier == o).unwrap().clone();
        assert_eq!(get("a").mean_rank, 1.5);
        assert_eq!(get("b").mean_rank, 1.75);
        assert_eq!(get("c").mean_rank, 2.5);
        assert_eq!(get("c").n_blocks, 1);
        assert_eq!(r[0].outlier, "a");
    }

    #[test]
    fn the_largest_complete_sub_design_ranks_the_same_pipelines_in_every_block() {
        // Blocks LR and XGB hold a, b; block RF holds a, b, c, d. Best: {a, b} × 3 blocks
        // (6 cells) over {a, b, c, d} × RF alone (4 cells).
        let mut configs = Vec::new();
        for (i, (o, c)) in [
            ("a", "LR"),
            ("b", "LR"),
            ("a", "XGB"),
            ("b", "XGB"),
            ("a", "RF"),
            ("b", "RF"),
            ("c", "RF"),
            ("d", "RF"),
        ]
        .iter()
        .enumerate()
        {
            configs.push(config(i as i32, o, "x", c, 0.5 + i as f64 / 100.0));
        }
        let (blocks, pipelines) = complete_subdesign(&configs);
        assert_eq!(blocks.len(), 3);
        assert_eq!(pipelines, [("a", "x"), ("b", "x")]);
        // Without the two 2-pipeline blocks, RF alone is the whole design.
        let (blocks, pipelines) = complete_subdesign(&configs[4..]);
        assert_eq!((blocks.len(), pipelines.len()), (1, 4));
    }
}
