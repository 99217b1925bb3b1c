//! A figure of line-chart panels in rows (retention metrics, decision curves per
//! configuration), the page wide, with one legend below: the first panel's curves (every panel
//! shows the same kinds of line).

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::curves::Lines;
use super::legend;
use crate::analyze::render::{px, Figure, Span};
use crate::analyze::style::AXIS_PT;

/// Panels of line charts, `columns` to a row.
pub struct Panels {
    /// File stem.
    pub name: &'static str,
    /// The panels, left to right and top to bottom.
    pub panels: Vec<Lines>,
    /// Panels per row.
    pub columns: usize,
}

impl Panels {
    /// Legend entries: the first panel's curves and reference lines.
    fn legend_items(&self) -> Vec<(String, RGBColor)> {
        self.panels
            .first()
            .map(Lines::legend_items)
            .unwrap_or_default()
    }

    /// Height in points of one row of panels when the figure is `width` points wide: a
    /// nearly square plot below a one-line caption.
    fn row_height(&self, width: f64) -> f64 {
        Lines::chart_height(width / self.columns as f64) + 2.0 * AXIS_PT
    }

    fn rows(&self) -> usize {
        self.panels.len().div_ceil(self.columns).max(1)
    }
}

impl Figure for Panels {
    fn name(&self) -> &str {
        self.name
    }

    fn span(&self) -> Span {
        Span::Double
    }

    fn height(&self, width: f64) -> f64 {
        self.row_height(width) * self.rows() as f64 + legend::height(&self.legend_items(), width)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let width = f64::from(root.dim_in_pixel().0) / s;
        let body_height = self.row_height(width) * self.rows() as f64;
        let (body, key) = root.split_vertically(px(body_height, s));
        legend::draw(&key, &self.legend_items(), s)?;
        let areas = body.split_evenly((self.rows(), self.columns));
        for (area, panel) in areas.iter().zip(&self.panels) {
            panel.draw_on(area, Some(AXIS_PT), s)?;
        }
        Ok(())
    }
}
