//! Writing one figure in every configured format: PNG at the configured dpi, SVG, and a
//! vector PDF converted from the SVG with the embedded font.
//!
//! A [`Figure`] spans one or two journal columns and is drawn at that printed width
//! (`analysis.figure_width_mm`, `analysis.single_column_width_mm`), so a point in the figure
//! is a point in print: the PDF's page and the SVG are that many points wide, and the PNG
//! has `png_dpi` pixels per inch of it. It draws itself on any plotters backend with sizes in
//! points times a scale, so the PNG and the SVG/PDF show the same layout.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::style;
use crate::config::{AnalysisConfig, FigureFormat};
use crate::fsx;

/// Points per millimetre.
pub const PT_PER_MM: f64 = 72.0 / 25.4;

/// Plotters' font size is the line height, 1.24 times the em that SVG calls `font-size`.
const PLOTTERS_EM: f64 = 1.24;

/// How many journal columns a figure spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// One column (`analysis.single_column_width_mm`).
    Single,
    /// The page width (`analysis.figure_width_mm`).
    Double,
}

/// The printed width in points of a figure spanning `span`.
pub fn width_pt(analysis: &AnalysisConfig, span: Span) -> f64 {
    PT_PER_MM
        * match span {
            Span::Single => analysis.single_column_width_mm,
            Span::Double => analysis.figure_width_mm,
        }
}

/// A figure that can draw itself.
pub trait Figure {
    /// File stem of the outputs (e.g. `forest_outlier`).
    fn name(&self) -> &str;

    /// The columns the figure spans in print.
    fn span(&self) -> Span;

    /// Height in points when the figure is `width` points wide.
    fn height(&self, width: f64) -> f64;

    /// Draws on `root`; every length is in points multiplied by `s`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<()>
    where
        DB::ErrorType: 'static;
}

/// The files written for a figure in `formats`, in that order.
pub fn paths(dir: &Path, name: &str, formats: &[FigureFormat]) -> Vec<PathBuf> {
    formats
        .iter()
        .map(|f| {
            dir.join(format!(
                "{name}.{}",
                match f {
                    FigureFormat::Png => "png",
                    FigureFormat::Svg => "svg",
                    FigureFormat::Pdf => "pdf",
                }
            ))
        })
        .collect()
}

/// Writes `fig` into `dir` in every configured format at its printed width; returns the
/// paths written.
pub fn write(fig: &impl Figure, dir: &Path, analysis: &AnalysisConfig) -> Result<Vec<PathBuf>> {
    style::register_font();
    let w = width_pt(analysis, fig.span());
    let h = fig.height(w).round().max(1.0);
    let mut svg: Option<String> = None;
    let svg_text = |svg: &mut Option<String>| -> Result<String> {
        if let Some(s) = svg {
            return Ok(s.clone());
        }
        let mut buf = String::new();
        {
            let root =
                SVGBackend::with_string(&mut buf, (w.ceil() as u32, h as u32)).into_drawing_area();
            root.fill(&WHITE)?;
            fig.draw(&root, 1.0)?;
            root.present()?;
        }
        let exact = exact_size(&buf, w, h)?;
        *svg = Some(exact.clone());
        Ok(exact)
    };
    let out = paths(dir, fig.name(), &analysis.formats);
    for (format, path) in analysis.formats.iter().zip(&out) {
        match format {
            FigureFormat::Png => write_png(fig, path, (w, h), analysis.png_dpi)?,
            FigureFormat::Svg => fsx::write_atomic(path, svg_text(&mut svg)?.as_bytes())?,
            FigureFormat::Pdf => fsx::write_atomic(path, &svg_to_pdf(&svg_text(&mut svg)?)?)?,
        }
    }
    Ok(out)
}

/// `svg` (drawn on a canvas of whole points) with its root element set to exactly `w` × `h`
/// points, so the PDF converted from it has exactly the printed width.
fn exact_size(svg: &str, w: f64, h: f64) -> Result<String> {
    let end = svg
        .find('>')
        .filter(|_| svg.starts_with("<svg "))
        .ok_or_else(|| anyhow!("the SVG does not start with its root element"))?;
    Ok(format!(
        "<svg width=\"{w:.3}\" height=\"{h}\" viewBox=\"0 0 {w:.3} {h}\" xmlns=\"http://www.w3.org/2000/svg\"{}",
        &svg[end..]
    ))
}

/// Renders the PNG of `size` points inside a temporary directory beside `path` (plotters
/// picks the encoder from the extension), then renames it into place.
fn write_png(fig: &impl Figure, path: &Path, size: (f64, f64), dpi: u32) -> Result<()> {
    let dir = fsx::parent_dir(path);
    fsx::create_dir_all(&dir)?;
    let tmp = tempfile::Builder::new()
        .prefix(".png.")
        .tempdir_in(&dir)
        .with_context(|| format!("cannot create a temporary directory in `{}`", dir.display()))?;
    let file = tmp.path().join("figure.png");
    let scale = f64::from(dpi) / 72.0;
    {
        let size = (
            (size.0 * scale).round() as u32,
            (size.1 * scale).round() as u32,
        );
        let root = BitMapBackend::new(&file, size).into_drawing_area();
        root.fill(&WHITE)?;
        fig.draw(&root, scale)?;
        root.present()?;
    }
    std::fs::rename(&file, path)
        .with_context(|| format!("cannot move the new `{}` into place", path.display()))
}

/// Converts SVG text to a vector PDF, resolving `sans-serif` to the embedded font.
pub fn svg_to_pdf(svg: &str) -> Result<Vec<u8>> {
    let mut opt = svg2pdf::usvg::Options::default();
    let db = Arc::make_mut(&mut opt.fontdb);
    db.load_font_data(style::FONT.to_vec());
    db.set_sans_serif_family(style::FONT_NAME);
    let tree = svg2pdf::usvg::Tree::from_str(svg, &opt)
        .map_err(|e| anyhow!("cannot parse the SVG: {e}"))?;
    svg2pdf::to_pdf(
        &tree,
        svg2pdf::ConversionOptions::default(),
        svg2pdf::PageOptions::default(),
    )
    .map_err(|e| anyhow!("cannot convert the SVG to PDF: {e}"))
}

/// A font of `pt` points (its em, the SVG's `font-size`) at scale `s`.
pub fn font(pt: f64, s: f64) -> TextStyle<'static> {
    TextStyle::from((style::FAMILY, pt * PLOTTERS_EM * s))
}

/// `pt` points at scale `s`, in whole pixels.
pub fn px(pt: f64, s: f64) -> u32 {
    (pt * s).round().max(1.0) as u32
}
