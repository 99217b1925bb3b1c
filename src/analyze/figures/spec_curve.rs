//! Specification curve: every configuration's AUROC with its bootstrap 95 % CI, sorted, above
//! an indicator panel marking each configuration's level of every factor.

use std::path::PathBuf;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde_json::json;

use super::{draw_title, label_width, title_height, Env};
use crate::analyze::methods::{self, factor_style};
use crate::analyze::render::{font, px, Figure, Span};
use crate::analyze::sidecar::{num, opt};
use crate::analyze::stats::{ranked, Config, FACTORS};
use crate::analyze::style::{AXIS_PT, TEXT_PT};

/// The figure name.
pub const NAME: &str = "specification_curve";

/// Short factor names prefixed to the indicator rows, in the order of [`FACTORS`], so that
/// levels of the same name in two factors (e.g. a ground truth) stay distinct.
const GROUPS: [&str; 4] = ["Outlier", "Imputation", "Classifier", "Features"];

/// The title.
const TITLE: &str = "Specification curve: AUROC of every configuration";

/// Height in points of the AUROC panel.
const UPPER: f64 = 150.0;

/// Height in points of one indicator row.
const INDICATOR_ROW: f64 = 10.0;

struct SpecCurve {
    /// Configurations, best first.
    configs: Vec<Config>,
    /// Indicator rows: (factor index, level, label), grouped by factor.
    indicators: Vec<(usize, String, String)>,
}

/// Draws the specification curve and its sidecar.
pub fn generate(env: &Env) -> Result<Vec<PathBuf>> {
    let configs = ranked(&env.ckpt.essential)?;
    if configs.is_empty() {
        bail!("no configuration has an AUROC");
    }
    let mut indicators = Vec::new();
    for (f, (factor, _)) in FACTORS.iter().enumerate() {
        let mut levels: Vec<String> = configs.iter().map(|c| c.levels[f].clone()).collect();
        levels.sort();
        levels.dedup();
        let st = factor_style(env.config, factor);
        indicators.extend(levels.into_iter().map(|l| {
            let label = format!("{}: {}", GROUPS[f], methods::label(st, &l));
            (f, l, label)
        }));
    }
    let data = json!({
        "configs": configs.iter().enumerate().map(|(rank, c)| json!({
            "rank": rank + 1, "config_id": c.id,
            "outlier_method": c.levels[0], "imputation_method": c.levels[1],
            "classifier": c.levels[2], "featurization": c.levels[3],
            "auroc_pbar": num(c.auroc), "auroc_pbar_test_ci_lower": opt(c.ci_lower), "auroc_pbar_test_ci_upper": opt(c.ci_upper),
        })).collect::<Vec<_>>(),
    });
    env.emit(
        &SpecCurve {
            configs,
            indicators,
        },
        data,
    )
}

impl Figure for SpecCurve {
    fn name(&self) -> &str {
        NAME
    }

    fn span(&self) -> Span {
        Span::Double
    }

    fn height(&self, width: f64) -> f64 {
        title_height(TITLE, width)
            + UPPER
            + INDICATOR_ROW * (self.indicators.len() + 1) as f64
            + 38.0
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let n = self.configs.len() as i32;
        let k = self.indicators.len() as i32;
        let labels: Vec<String> = self.indicators.iter().map(|(_, _, l)| l.clone()).collect();
        let left = px(label_width(&labels, TEXT_PT).max(48.0), s);
        let body = draw_title(root, TITLE, s)?;
        let (top, bottom) = body.split_vertically(px(UPPER, s));
        let plot_width = f64::from(root.dim_in_pixel().0) / s - f64::from(left) / s - 16.0;
        let radius = (plot_width / f64::from(n + 1) * 0.35).clamp(0.6, 1.8);
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for c in &self.configs {
            for v in [Some(c.auroc), c.ci_lower, c.ci_upper]
                .into_iter()
                .flatten()
            {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
        let pad = ((hi - lo) * 0.05).max(0.005);
        let mut upper = ChartBuilder::on(&top)
            .margin(px(8.0, s))
            .x_label_area_size(px(6.0, s))
            .y_label_area_size(left)
            .build_cartesian_2d(0..n + 1, (lo - pad)..(hi + pad))?;
        upper
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(10)
            .x_label_formatter(&|_| String::new())
            .y_labels(6)
            .y_label_formatter(&|y| format!("{y:.2}"))
            .y_desc("AUROC of mean prediction (95% DeLong CI)")
            .label_style(font(TEXT_PT, s))
            .axis_desc_style(font(AXIS_PT, s))
            .draw()?;
        let colour = RGBColor(0, 114, 178);
        for (i, c) in self.configs.iter().enumerate() {
            let x = i as i32 + 1;
            if let (Some(l), Some(u)) = (c.ci_lower, c.ci_upper) {
                upper.draw_series(std::iter::once(ErrorBar::new_vertical(
                    x,
                    l,
                    c.auroc,
                    u,
                    colour.mix(0.5).stroke_width(px(0.8, s)),
                    px(radius, s),
                )))?;
            }
            upper.draw_series(std::iter::once(Circle::new(
                (x, c.auroc),
                px(radius, s),
                colour.filled(),
            )))?;
        }
        let mut lower = ChartBuilder::on(&bottom)
            .margin_left(px(8.0, s))
            .margin_right(px(8.0, s))
            .margin_bottom(px(8.0, s))
            .x_label_area_size(px(30.0, s))
            .y_label_area_size(left)
            .build_cartesian_2d(0..n + 1, -1..k)?;
        lower
            .configure_mesh()
            .disable_x_mesh()
            .y_labels(k as usize + 2)
            .y_label_formatter(&|y| {
                usize::try_from(k - 1 - *y)
                    .ok()
                    .and_then(|i| labels.get(i))
                    .cloned()
                    .unwrap_or_default()
            })
            .x_labels(10)
            .x_desc("Configuration rank (best first)")
            .label_style(font(TEXT_PT, s))
            .axis_desc_style(font(AXIS_PT, s))
            .draw()?;
        let factor_colours = [
            RGBColor(0, 114, 178),
            RGBColor(230, 159, 0),
            RGBColor(0, 158, 115),
            RGBColor(204, 121, 167),
        ];
        for (row, (f, level, _)) in self.indicators.iter().enumerate() {
            let y = k - 1 - row as i32;
            let c = factor_colours[*f % factor_colours.len()];
            let marks = self
                .configs
                .iter()
                .enumerate()
                .filter(|(_, cfg)| cfg.levels[*f] == *level);
            lower.draw_series(
                marks.map(|(i, _)| Circle::new((i as i32 + 1, y), px(radius, s), c.filled())),
            )?;
        }
        Ok(())
    }
}
