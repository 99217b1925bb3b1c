//! Mean-rank diagram of pipelines (outlier × imputation): within each (classifier,
//! featurization) block the pipelines are ranked by AUROC (1 = best, ties share their mean
//! rank), and each pipeline's ranks are averaged over the blocks it appears in.
//!
//! The ranks are descriptive: no test is made, because bootstrap iterations are not
//! independent samples and would give meaningless p-values.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde_json::json;

use super::{draw_title, factor_style, label_width, row_label, title_height, Env};
use crate::analyze::render::{font, px, Figure, Span};
use crate::analyze::sidecar::num;
use crate::analyze::stats::{ranked, Config};
use crate::analyze::style::{self, AXIS_PT, TEXT_PT};

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
}

/// Draws the mean-rank diagram and its sidecar.
pub fn generate(env: &Env) -> Result<Vec<PathBuf>> {
    let configs = ranked(&env.ckpt.essential)?;
    if configs.is_empty() {
        bail!("no configuration has an AUROC");
    }
    let all = mean_ranks(&configs);
    let mut blocks: Vec<(&str, &str)> = configs
        .iter()
        .map(|c| (c.levels[2].as_str(), c.levels[3].as_str()))
        .collect();
    blocks.sort();
    blocks.dedup();
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
                style::label(so, &r.outlier),
                style::label(si, &r.imputation)
            )
        })
        .collect();
    let data = json!({
        "note": "descriptive ranks within (classifier, featurization) blocks; no significance test",
        "n_blocks": blocks.len(),
        "n_pipelines": all.len(),
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
    };
    env.emit(&fig, data)
}

impl Diagram {
    fn title(&self) -> String {
        format!(
            "Mean rank of pipelines over {} classifier × featurization blocks (descriptive)",
            self.blocks
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
}
