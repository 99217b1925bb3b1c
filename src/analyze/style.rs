//! Figure style: the embedded font (so no system font is needed), sizes in points and the
//! colour palettes. How a method is named and coloured is [`super::methods`].

use std::sync::Once;

use plotters::style::{FontStyle, RGBColor};

/// DejaVu Sans, embedded (licence in `assets/fonts/DejaVu-LICENSE.txt`).
pub const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// The font family every figure uses; registered under this generic name.
pub const FAMILY: &str = "sans-serif";

/// The family name inside [`FONT`], which SVG → PDF conversion maps `sans-serif` to.
pub const FONT_NAME: &str = "DejaVu Sans";

/// Text sizes in points at the printed width. Tick labels, cell annotations and legends use
/// [`TEXT_PT`], the smallest size any figure uses: 7 pt is the least journals accept.
pub const TEXT_PT: f64 = 7.0;

/// Axis descriptions and panel titles, in points.
pub const AXIS_PT: f64 = 8.0;

/// Figure titles, in points.
pub const TITLE_PT: f64 = 9.0;

/// Registers [`FONT`] with plotters (once per process).
pub fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let registered = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
        assert!(registered.is_ok(), "the embedded font is a valid TTF");
    });
}

/// A colour-blind-safe palette (Okabe–Ito), assigned to method categories in the order
/// [`super::methods::categories`] gives.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(240, 228, 66),
    RGBColor(0, 0, 0),
];

/// The viridis colour map (perceptually uniform, colour-blind safe) at `t` in [0, 1].
pub fn viridis(t: f64) -> RGBColor {
    const STOPS: [(f64, f64, f64); 5] = [
        (68.0, 1.0, 84.0),
        (59.0, 82.0, 139.0),
        (33.0, 145.0, 140.0),
        (94.0, 201.0, 98.0),
        (253.0, 231.0, 37.0),
    ];
    let x = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let u = x - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |p: f64, q: f64| (p + (q - p) * u).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}
