//! Print sizes: every figure's PDF page is as wide as its journal column
//! (`analysis.figure_width_mm` or `analysis.single_column_width_mm`), the SVG and the PNG
//! match it, and no text is under 7 pt at that size.

use std::path::Path;

use crate::support::{repo_root, run_ok, write_file};

/// Points per millimetre.
const PT_PER_MM: f64 = 72.0 / 25.4;

/// The smallest text size a journal accepts, in points (checked to 0.001 pt: the SVG's size
/// is written to 0.001 pt).
const MIN_TEXT_PT: f64 = 7.0;

/// The figures always printed one column wide; every other figure spans both, except the
/// mean-rank diagram, which is one column wide while its pipeline labels are short.
pub const SINGLE_COLUMN: [&str; 4] = [
    "forest_outlier",
    "forest_imputation",
    "forest_classifier",
    "forest_featurization",
];

/// The width in points of the first page of `pdf` (its MediaBox).
fn pdf_width(pdf: &[u8]) -> f64 {
    let text = String::from_utf8_lossy(pdf);
    let at = text.find("/MediaBox").expect("the PDF has a MediaBox");
    let rest = text[at + "/MediaBox".len()..].trim_start();
    let inside = rest.strip_prefix('[').expect("the MediaBox is an array");
    let corners: Vec<f64> = inside
        .split(']')
        .next()
        .unwrap()
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    corners[2] - corners[0]
}

/// The numbers of the attribute `name` of the root element of `svg`.
fn root_attribute(svg: &str, name: &str) -> Vec<f64> {
    let root = &svg[..svg.find('>').unwrap()];
    let start = root.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
    root[start..]
        .split('"')
        .next()
        .unwrap()
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect()
}

/// The `font-size` of every text element of `svg`, in points when the SVG is printed
/// `width` points wide.
fn text_sizes(svg: &str, width: f64) -> Vec<f64> {
    let scale = width / root_attribute(svg, "viewBox")[2];
    svg.split("font-size=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().parse::<f64>().unwrap() * scale)
        .collect()
}

/// The width in pixels of the PNG `png` (its IHDR).
fn png_width(png: &[u8]) -> u32 {
    u32::from_be_bytes(png[16..20].try_into().unwrap())
}

/// Checks every figure in `figures` against its printed width (`single_mm` for those named
/// in `single`, else `double_mm`): the PDF's page, the SVG and the PNG at `dpi`, and the size
/// of every text. Panics listing every problem; returns the figures checked.
pub fn check_print_sizes(
    figures: &Path,
    single: &[&str],
    (double_mm, single_mm): (f64, f64),
    dpi: u32,
) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(figures)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_suffix(".pdf").map(str::to_string)
        })
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no PDF in {}", figures.display());
    let mut problems = Vec::new();
    for name in &names {
        let mm = if single.contains(&name.as_str()) {
            single_mm
        } else {
            double_mm
        };
        let want = mm * PT_PER_MM;
        let pdf = pdf_width(&std::fs::read(figures.join(format!("{name}.pdf"))).unwrap());
        if (pdf - want).abs() > 0.01 {
            problems.push(format!(
                "{name}.pdf is {pdf} pt wide, not {want:.3} ({mm} mm)"
            ));
        }
        let svg = std::fs::read_to_string(figures.join(format!("{name}.svg"))).unwrap();
        let svg_width = root_attribute(&svg, "width")[0];
        if (svg_width - want).abs() > 0.01 {
            problems.push(format!("{name}.svg is {svg_width} wide, not {want:.3}"));
        }
        if let Ok(png) = std::fs::read(figures.join(format!("{name}.png"))) {
            let px = png_width(&png);
            let want_px = want / 72.0 * f64::from(dpi);
            if (f64::from(px) - want_px).abs() > 1.0 {
                problems.push(format!("{name}.png is {px} px wide, not {want_px:.0}"));
            }
        }
        let sizes = text_sizes(&svg, want);
        let smallest = sizes.iter().copied().fold(f64::INFINITY, f64::min);
        if sizes.is_empty() {
            problems.push(format!("{name}.svg has no text"));
        } else if smallest < MIN_TEXT_PT - 0.001 {
            problems.push(format!(
                "{name}: text of {smallest:.2} pt printed {mm} mm wide (at least {MIN_TEXT_PT} pt)"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    names
}

/// The figures one column wide on the demo with the demo config's method labels.
fn demo_single_column() -> Vec<&'static str> {
    [SINGLE_COLUMN.as_slice(), &["mean_rank"]].concat()
}

/// The `methods` section of `configs/default.yaml`: the demo's method labels.
fn demo_methods() -> String {
    let text = std::fs::read_to_string(repo_root().join("configs/default.yaml")).unwrap();
    let start = text.find("\nmethods:\n").unwrap() + 1;
    let mut out = String::new();
    for (i, line) in text[start..].lines().enumerate() {
        if i > 0 && !line.is_empty() && !line.starts_with([' ', '#']) {
            break;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// A project holding a copy of the committed demo checkpoint, with the demo's method labels
/// and `analysis` settings.
pub fn project(analysis: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let public = repo_root().join("data/public");
    for f in ["results.duckdb", "results.duckdb.sha256"] {
        std::fs::create_dir_all(dir.path().join("public")).unwrap();
        std::fs::copy(public.join(f), dir.path().join("public").join(f)).unwrap();
    }
    write_config(dir.path(), analysis);
    dir
}

fn write_config(dir: &Path, analysis: &str) {
    write_file(
        dir,
        "config.yaml",
        &format!(
            "outputs:\n  db: public/results.duckdb\n  private_dir: private\n  cache_dir: cache\n  \
             figures_dir: figures\n  outputs_dir: outputs\n\
             {}analysis:\n  png_dpi: 72\n{analysis}",
            demo_methods()
        ),
    );
}

#[test]
fn changing_figure_width_mm_changes_every_figure_s_printed_width() {
    let p = project("");
    run_ok(p.path(), &["-c", "config.yaml", "analyze"]);
    let figures = p.path().join("figures");
    let names = check_print_sizes(&figures, &demo_single_column(), (183.0, 89.0), 72);
    assert!(names.len() >= 13, "{names:?}");
    let forest = || pdf_width(&std::fs::read(figures.join("forest_outlier.pdf")).unwrap());
    let heatmap = || pdf_width(&std::fs::read(figures.join("heatmap.pdf")).unwrap());
    assert!((forest() - 89.0 * PT_PER_MM).abs() < 0.01);
    assert!((heatmap() - 183.0 * PT_PER_MM).abs() < 0.01);

    write_config(
        p.path(),
        "  figure_width_mm: 150\n  single_column_width_mm: 120\n",
    );
    run_ok(p.path(), &["-c", "config.yaml", "analyze"]);
    check_print_sizes(&figures, &demo_single_column(), (150.0, 120.0), 72);
    assert!((forest() - 120.0 * PT_PER_MM).abs() < 0.01, "{}", forest());
    assert!(
        (heatmap() - 150.0 * PT_PER_MM).abs() < 0.01,
        "{}",
        heatmap()
    );
}

#[test]
fn a_figure_width_outside_the_accepted_range_is_a_configuration_error() {
    let p = project("  figure_width_mm: 5\n");
    let out = crate::support::mlrepro(p.path())
        .args(["-c", "config.yaml", "analyze"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("analysis.figure_width_mm"), "{text}");
}

#[test]
fn the_checks_read_widths_and_text_sizes() {
    let svg = "<svg width=\"100\" height=\"50\" viewBox=\"0 0 200 100\"><text font-size=\"16\">a</text><text font-size=\"12\">b</text></svg>";
    assert_eq!(root_attribute(svg, "width"), [100.0]);
    assert_eq!(text_sizes(svg, 100.0), [8.0, 6.0]);
    assert_eq!(
        pdf_width(b"<< /Type /Page /MediaBox [0 0 518.74 146] >>"),
        518.74
    );
}
