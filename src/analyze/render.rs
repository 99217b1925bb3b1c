//! Writing one figure in every configured format: PNG at the configured dpi, SVG, and a
//! vector PDF converted from the SVG with the embedded font.
//!
//! A [`Figure`] draws itself on any plotters backend with sizes in points times a scale, so
//! the PNG and the SVG/PDF show the same layout.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::style;
use crate::config::FigureFormat;
use crate::fsx;

/// A figure that can draw itself.
pub trait Figure {
    /// File stem of the outputs (e.g. `forest_outlier`).
    fn name(&self) -> &str;

    /// Size in inches (width, height).
    fn size(&self) -> (f64, f64);

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

/// Writes `fig` into `dir` in every format; returns the paths written.
pub fn write(
    fig: &impl Figure,
    dir: &Path,
    formats: &[FigureFormat],
    dpi: u32,
) -> Result<Vec<PathBuf>> {
    style::register_font();
    let (w, h) = fig.size();
    let mut svg: Option<String> = None;
    let svg_text = |svg: &mut Option<String>| -> Result<String> {
        if let Some(s) = svg {
            return Ok(s.clone());
        }
        let mut buf = String::new();
        {
            let root = SVGBackend::with_string(
                &mut buf,
                ((w * 72.0).round() as u32, (h * 72.0).round() as u32),
            )
            .into_drawing_area();
            root.fill(&WHITE)?;
            fig.draw(&root, 1.0)?;
            root.present()?;
        }
        *svg = Some(buf.clone());
        Ok(buf)
    };
    let out = paths(dir, fig.name(), formats);
    for (format, path) in formats.iter().zip(&out) {
        match format {
            FigureFormat::Png => write_png(fig, path, dpi)?,
            FigureFormat::Svg => fsx::write_atomic(path, svg_text(&mut svg)?.as_bytes())?,
            FigureFormat::Pdf => fsx::write_atomic(path, &svg_to_pdf(&svg_text(&mut svg)?)?)?,
        }
    }
    Ok(out)
}

/// Renders the PNG inside a temporary directory beside `path` (plotters picks the encoder
/// from the extension), then renames it into place.
fn write_png(fig: &impl Figure, path: &Path, dpi: u32) -> Result<()> {
    let dir = fsx::parent_dir(path);
    fsx::create_dir_all(&dir)?;
    let tmp = tempfile::Builder::new()
        .prefix(".png.")
        .tempdir_in(&dir)
        .with_context(|| format!("cannot create a temporary directory in `{}`", dir.display()))?;
    let file = tmp.path().join("figure.png");
    let (w, h) = fig.size();
    let scale = f64::from(dpi) / 72.0;
    {
        let size = (
            (w * f64::from(dpi)).round() as u32,
            (h * f64::from(dpi)).round() as u32,
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

/// A font of `pt` points at scale `s`.
pub fn font(pt: f64, s: f64) -> TextStyle<'static> {
    TextStyle::from((style::FAMILY, pt * s))
}

/// `pt` points at scale `s`, in whole pixels.
pub fn px(pt: f64, s: f64) -> u32 {
    (pt * s).round().max(1.0) as u32
}
