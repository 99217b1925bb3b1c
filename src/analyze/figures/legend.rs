//! Legends below a chart, never over data: rows of entries (a short line in the entry's
//! colour, then its label) that wrap to the width they are given.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::text_width;
use crate::analyze::render::{font, px};
use crate::analyze::style::TEXT_PT;

/// Length of an entry's line, in points.
const SWATCH: f64 = 12.0;
/// Space between the line and the label, and after a label, in points.
const GAP: f64 = 4.0;
/// Space between entries of a row, in points.
const SPACING: f64 = 12.0;
/// Padding above and below the rows, in points.
const PAD: f64 = 4.0;

/// One line of the legend per point of height.
fn row_height() -> f64 {
    TEXT_PT * 1.6
}

/// Width in points of one entry.
fn entry_width(label: &str) -> f64 {
    SWATCH + GAP + text_width(label, TEXT_PT)
}

/// The entries of `items` per row when rows are `width` points wide (at least one each).
fn rows(items: &[(String, RGBColor)], width: f64) -> Vec<Vec<(String, RGBColor)>> {
    let mut out: Vec<Vec<(String, RGBColor)>> = Vec::new();
    let mut used = 0.0;
    for item in items {
        let w = entry_width(&item.0);
        match out.last_mut() {
            Some(row) if used + SPACING + w <= width => {
                used += SPACING + w;
                row.push(item.clone());
            }
            _ => {
                used = w;
                out.push(vec![item.clone()]);
            }
        }
    }
    out
}

/// Height in points the legend of `items` needs below a chart `width` points wide (none
/// without entries).
pub fn height(items: &[(String, RGBColor)], width: f64) -> f64 {
    if items.is_empty() {
        return 0.0;
    }
    rows(items, width - 2.0 * PAD).len() as f64 * row_height() + 2.0 * PAD
}

/// Draws the legend of `items` on `area` (as tall as [`height`] says) at scale `s`, each
/// row centred.
pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[(String, RGBColor)],
    s: f64,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let width = f64::from(area.dim_in_pixel().0) / s;
    for (r, row) in rows(items, width - 2.0 * PAD).iter().enumerate() {
        let total: f64 =
            row.iter().map(|(l, _)| entry_width(l)).sum::<f64>() + SPACING * (row.len() - 1) as f64;
        let mut x = (width - total) / 2.0;
        let y = (PAD + row_height() * (r as f64 + 0.5)) * s;
        for (label, colour) in row {
            let at = |x: f64| (x * s) as i32;
            area.draw(&PathElement::new(
                vec![(at(x), y as i32), (at(x + SWATCH), y as i32)],
                colour.stroke_width(px(1.6, s)),
            ))?;
            area.draw(&Text::new(
                label.clone(),
                (at(x + SWATCH + GAP), y as i32),
                font(TEXT_PT, s).pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
            x += entry_width(label) + SPACING;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_wrap_into_rows_that_fit() {
        let items: Vec<(String, RGBColor)> = (0..6)
            .map(|i| (format!("#{i} Ens-7 + CSDI, CatBoost"), BLACK))
            .collect();
        let one = entry_width(&items[0].0);
        let packed = rows(&items, 2.0 * one + SPACING + 1.0);
        assert_eq!(packed.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 2]);
        assert_eq!(rows(&items, 1.0).len(), 6);
        assert_eq!(height(&[], 100.0), 0.0);
    }
}
