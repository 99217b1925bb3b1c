//! Figure style: the embedded font (so no system font is needed), sizes in points, method
//! labels from the config and one colour per method category.

use std::sync::Once;

use plotters::style::{FontStyle, RGBColor};

use crate::config::FactorStyle;

/// DejaVu Sans, embedded (licence in `assets/fonts/DejaVu-LICENSE.txt`).
pub const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// The font family every figure uses; registered under this generic name.
pub const FAMILY: &str = "sans-serif";

/// The family name inside [`FONT`], which SVG → PDF conversion maps `sans-serif` to.
pub const FONT_NAME: &str = "DejaVu Sans";

/// Registers [`FONT`] with plotters (once per process).
pub fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let registered = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
        assert!(registered.is_ok(), "the embedded font is a valid TTF");
    });
}

/// Labels longer than this are shortened when the config gives no abbreviation.
const DEFAULT_MAX_LABEL: usize = 22;

/// The short label of a method for axes: its configured abbreviation or display name,
/// shortened with an ellipsis past the factor's `max_label_len`.
pub fn label(style: &FactorStyle, name: &str) -> String {
    let label = style.label(name);
    let max = style.max_label_len.unwrap_or(DEFAULT_MAX_LABEL).max(4);
    if label.chars().count() > max {
        format!("{}…", label.chars().take(max - 1).collect::<String>())
    } else {
        label
    }
}

/// A colour-blind-safe palette (Okabe–Ito), assigned to categories in sorted order.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(240, 228, 66),
    RGBColor(0, 0, 0),
];

/// The colour of `name`'s category among all categories of `names`: the same category gets
/// the same colour in every figure of that factor.
pub fn category_colour(style: &FactorStyle, names: &[String], name: &str) -> RGBColor {
    let mut cats: Vec<String> = names.iter().map(|n| style.category(n)).collect();
    cats.sort();
    cats.dedup();
    let mine = style.category(name);
    let i = cats.iter().position(|c| *c == mine).unwrap_or(0);
    PALETTE[i % PALETTE.len()]
}

/// A red–yellow–green ramp for `t` in [0, 1] (heatmaps: higher is better).
pub fn ramp(t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0);
    let (a, b, u) = if t < 0.5 {
        ((215.0, 48.0, 39.0), (255.0, 255.0, 191.0), t * 2.0)
    } else {
        ((255.0, 255.0, 191.0), (26.0, 152.0, 80.0), (t - 0.5) * 2.0)
    };
    let mix = |x: f64, y: f64| (x + (y - x) * u).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}
