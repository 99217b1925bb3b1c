//! Laying out text in a figure: widths in the embedded font, wrapping, titles, row labels.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::super::render;
use super::super::style::TITLE_PT;

/// The width in points that the longest of `labels` needs at `pt` points, with room for
/// the tick marks.
pub fn label_width(labels: &[String], pt: f64) -> f64 {
    labels.iter().map(|l| text_width(l, pt)).fold(0.0, f64::max) + 14.0
}

/// The width in points of `text` at `pt` points in the embedded font, as plotters lays it
/// out (a little wider than the SVG draws it).
pub fn text_width(text: &str, pt: f64) -> f64 {
    crate::analyze::style::register_font();
    render::font(pt, 1.0)
        .font
        .box_size(text)
        .map_or(text.chars().count() as f64 * 0.7 * pt, |(w, _)| {
            f64::from(w)
        })
}

/// `text` broken at spaces, hyphens and slashes into lines of at most `width` points at `pt`
/// points (a word wider than that keeps a line of its own).
pub fn wrap(text: &str, width: f64, pt: f64) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        word.push(c);
        if matches!(c, ' ' | '-' | '/') {
            words.push(std::mem::take(&mut word));
        }
    }
    words.push(word);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for w in words.into_iter().filter(|w| !w.is_empty()) {
        let longer = format!("{line}{w}");
        if line.is_empty() || text_width(longer.trim_end(), pt) <= width {
            line = longer;
        } else {
            lines.push(line.trim_end().to_string());
            line = w;
        }
    }
    lines.push(line.trim_end().to_string());
    lines
}

/// Height in points of `title` wrapped to an area `width` points wide, with its padding.
pub fn title_height(title: &str, width: f64) -> f64 {
    wrap(title, width - 16.0, TITLE_PT).len() as f64 * TITLE_PT * 1.3 + 8.0
}

/// Draws `title` wrapped and centred at the top of `area` at scale `s`; returns the area
/// below it.
pub fn draw_title<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    s: f64,
) -> Result<DrawingArea<DB, Shift>>
where
    DB::ErrorType: 'static,
{
    let width = f64::from(area.dim_in_pixel().0) / s;
    let style = render::font(TITLE_PT, s).pos(Pos::new(HPos::Center, VPos::Top));
    for (i, line) in wrap(title, width - 16.0, TITLE_PT).into_iter().enumerate() {
        let y = (5.0 + TITLE_PT * 1.3 * i as f64) * s;
        area.draw(&Text::new(
            line,
            ((width / 2.0 * s) as i32, y as i32),
            style.clone(),
        ))?;
    }
    Ok(area
        .split_vertically(render::px(title_height(title, width), s))
        .1)
}

/// The label of row `y` of a chart whose `labels` run top to bottom over y = n−1 … 0 (blank
/// outside them), for charts with one row per method.
pub fn row_label(labels: &[String], y: i32) -> String {
    let n = labels.len() as i32;
    let i = n - 1 - y;
    if (0..n).contains(&i) {
        labels[i as usize].clone()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_spaces_and_hyphens_within_the_width() {
        let text = "Imputation method (cell: mean AUROC)";
        let lines = wrap(text, text_width("Imputation method", 7.0) + 1.0, 7.0);
        assert_eq!(lines, ["Imputation method", "(cell: mean", "AUROC)"]);
        assert_eq!(
            wrap("MOMENT-gt-finetune", 1.0, 7.0),
            ["MOMENT-", "gt-", "finetune"]
        );
        assert_eq!(wrap("short", 500.0, 7.0), ["short"]);
    }
}
