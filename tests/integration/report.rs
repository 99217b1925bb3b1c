//! The HTML run report opened in headless Chromium as a person would: it loads with no
//! console error and no request beyond the file system, holds every step, figure and run,
//! its runs table sorts and filters, and it shows a failed step and a verification. Also the
//! step graph as Mermaid and DOT, and `--metrics-file` through `promtool`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;

use crate::extract::query;
use crate::support::{mlrepro, repo_root, run_ok, tool_available, write_file, ProjectConfig};

/// A temporary project on the demo store.
fn project() -> tempfile::TempDir {
    ProjectConfig::demo()
        .subjects()
        .figures_and_outputs()
        .analysis("png_dpi: 72")
        .write()
}

/// Runs `reproduce ARGS --json` in `dir`; returns the names of the steps it reported.
fn reproduce(dir: &Path, args: &[&str], fault: Option<&str>) -> Vec<String> {
    let mut cmd = mlrepro(dir);
    cmd.args(["-c", "config.yaml", "--json", "reproduce"])
        .args(args);
    if let Some(f) = fault {
        cmd.env("MLREPRO_FAULT", f);
    }
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.success(),
        fault.is_none(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Json = serde_json::from_slice(&out.stdout).unwrap();
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap().to_string())
        .collect()
}

/// Headless Chromium, started as a test harness should start it on a closed network.
fn chromium(user_data: &Path) -> Command {
    let mut cmd = Command::new("chromium");
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=3000",
    ])
    .arg(format!("--user-data-dir={}", user_data.display()));
    cmd
}

/// The DOM of `page#fragment` after its script ran, and the browser's console lines.
fn browse(page: &Path, fragment: &str) -> (String, Vec<String>) {
    let profile = tempfile::tempdir().unwrap();
    let out = chromium(profile.path())
        .arg("--dump-dom")
        .arg(format!("file://{}{fragment}", page.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "chromium failed");
    let console = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains("CONSOLE"))
        .map(str::to_string)
        .collect();
    (String::from_utf8(out.stdout).unwrap(), console)
}

/// The run names of the runs table, in the DOM's order, with whether each row is shown.
fn table_rows(dom: &str) -> Vec<(String, bool)> {
    dom.split("<tr class=\"run run-")
        .skip(1)
        .map(|row| {
            let opening = &row[..row.find('>').unwrap()];
            let cells: Vec<&str> = row.split("<td>").skip(1).collect();
            let name = cells[1].split("</td>").next().unwrap().to_string();
            (name, !opening.contains("hidden"))
        })
        .collect()
}

fn run_count_text(dom: &str) -> String {
    let at = dom.find("id=\"run-count\">").expect("a run count") + "id=\"run-count\">".len();
    dom[at..dom[at..].find('<').unwrap() + at].to_string()
}

/// Every `src` and `href` of `html`: relative paths or `data:` URIs only.
fn assert_no_remote_reference(html: &str) {
    for attr in ["src=\"", "href=\""] {
        for value in html.split(attr).skip(1) {
            let value = &value[..value.find('"').unwrap()];
            let scheme = value.split(['/', '#', '?']).next().unwrap_or("");
            assert!(
                !scheme.contains(':') || value.starts_with("data:image/png;base64,"),
                "a reference that leaves the file system: {attr}{value}"
            );
            assert!(!value.starts_with("//"), "a protocol-relative URL: {value}");
        }
    }
    assert!(html.contains("Content-Security-Policy"));
}

/// Runs `tool ARGS` with `input` on its standard input; returns what it printed.
fn piped(tool: &str, args: &[&str], input: &[u8]) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(tool)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn figure_names(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("outputs/analysis_report.json")).unwrap();
    let report: Json = serde_json::from_str(&text).unwrap();
    report["figures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_demo_report_opens_in_a_browser_with_every_step_figure_and_run() {
    let p = project();
    let steps = reproduce(p.path(), &[], None);
    let page = p.path().join("outputs/report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.len() < 2 << 20, "the report is {} bytes", html.len());
    assert_no_remote_reference(&html);
    let runs = query(
        &p.path().join("public/results.duckdb"),
        "SELECT run_id FROM extraction_runs ORDER BY run_id",
    );
    let store_runs = std::fs::read_dir(repo_root().join("data/demo/mlruns"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|d| d.join("meta.yaml").is_file() && !d.ends_with("0"))
        .flat_map(|exp| std::fs::read_dir(exp).unwrap())
        .filter(|e| e.as_ref().unwrap().path().join("meta.yaml").is_file())
        .count();
    assert_eq!(
        runs.len(),
        store_runs,
        "one extraction row per run of the store"
    );
    if !tool_available("chromium", "--version") {
        return;
    }

    let (dom, console) = browse(&page, "");
    assert!(console.is_empty(), "console messages: {console:#?}");
    for step in &steps {
        assert!(
            dom.contains(&format!("data-step=\"{step}\"")),
            "step {step} is missing"
        );
    }
    for figure in figure_names(p.path()) {
        assert!(
            dom.contains(&format!("data-figure=\"{figure}\"")),
            "figure {figure} is missing"
        );
    }
    let rows = table_rows(&dom);
    assert_eq!(rows.len(), runs.len());
    assert!(rows.iter().all(|(_, shown)| *shown));
    assert_eq!(
        run_count_text(&dom),
        format!("{0} of {0} runs shown", runs.len())
    );

    // Sorting by run name, both ways.
    let (asc, _) = browse(&page, "#sort=run_name&dir=asc");
    let (desc, console) = browse(&page, "#sort=run_name&dir=desc");
    assert!(console.is_empty(), "{console:#?}");
    let asc: Vec<String> = table_rows(&asc).into_iter().map(|r| r.0).collect();
    let mut desc: Vec<String> = table_rows(&desc).into_iter().map(|r| r.0).collect();
    let lower = |v: &[String]| v.iter().map(|s| s.to_lowercase()).collect::<Vec<_>>();
    assert!(lower(&asc).windows(2).all(|w| w[0] <= w[1]), "{asc:#?}");
    desc.reverse();
    assert_eq!(asc, desc, "descending is ascending reversed");

    // Filtering by text and by status.
    let Some(duckdb::types::Value::Text(one)) = runs.first().map(|r| r[0].clone()) else {
        panic!("a run id");
    };
    let (filtered, _) = browse(&page, &format!("#q={one}"));
    let shown: Vec<_> = table_rows(&filtered).into_iter().filter(|r| r.1).collect();
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert_eq!(
        run_count_text(&filtered),
        format!("1 of {} runs shown", runs.len())
    );
    let (failed, _) = browse(&page, "#status=failed");
    assert!(table_rows(&failed).iter().all(|r| !r.1));

    // A screenshot as a person sees it; a blank page of this size compresses to ~14 KB.
    let profile = tempfile::tempdir().unwrap();
    let shot = profile.path().join("report.png");
    let out = chromium(profile.path())
        .arg("--window-size=1280,1600")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(out.status.success());
    let size = std::fs::metadata(&shot).unwrap().len();
    assert!(size > 100_000, "the screenshot looks blank ({size} bytes)");
    if std::env::var_os("MLREPRO_UPDATE_SCREENSHOT").is_some() {
        std::fs::copy(&shot, repo_root().join("assets/report.png")).unwrap();
    }
}

#[test]
fn a_failed_run_s_report_shows_the_failed_step_and_its_error() {
    let p = project();
    reproduce(p.path(), &[], Some("heatmap:fatal"));
    let page = p.path().join("outputs/report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("id=\"failures\""));
    assert!(html.contains("class=\"failure\" data-step=\"heatmap\""));
    assert!(html.contains("class=\"node st-failed\""));
    assert!(html.contains("status status-failed"));
    if !tool_available("chromium", "--version") {
        return;
    }
    let (dom, console) = browse(&page, "");
    assert!(console.is_empty(), "{console:#?}");
    let failure = &dom[dom.find("data-step=\"heatmap\"").unwrap()..];
    assert!(failure.contains("<pre>"), "the error is shown");
    assert!(dom.contains("id=\"run-status\">failed<"));
}

#[test]
fn a_from_checkpoint_report_shows_the_verification() {
    let p = project();
    reproduce(p.path(), &[], None);
    reproduce(p.path(), &["--from-checkpoint", "--force"], None);
    let page = p.path().join("outputs/report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("unchanged since run"));
    let verification = &html[html.find("id=\"verification\"").expect("a verification")..];
    for check in ["checksum", "schema_version", "logical digest"] {
        assert!(
            verification.contains(&format!("<td>{check}</td><td>passed</td>")),
            "{check}"
        );
    }
    // Up to date, the verification shown is the last one, named.
    reproduce(p.path(), &["--from-checkpoint"], None);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("The checkpoint is unchanged since run"));
    assert!(html.contains("<td>checksum</td><td>passed</td>"));
    // An earlier run's report, on request, links back from the history.
    let runs = run_ok(p.path(), &["-c", "config.yaml", "--json", "history"]);
    let runs: Json = serde_json::from_slice(&runs.stdout).unwrap();
    let first = runs.as_array().unwrap().last().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let out = run_ok(p.path(), &["-c", "config.yaml", "report", &first]);
    let written = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    assert_eq!(
        written,
        Path::new("outputs/reports").join(format!("{first}.html"))
    );
    let latest = run_ok(p.path(), &["-c", "config.yaml", "report"]);
    assert_eq!(
        String::from_utf8(latest.stdout).unwrap().trim(),
        "outputs/report.html"
    );
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains(&format!("href=\"reports/{first}.html\"")));
}

#[test]
fn no_report_writes_none_and_a_dry_run_none_either() {
    let p = project();
    reproduce(p.path(), &["--no-report"], None);
    assert!(!p.path().join("outputs/report.html").exists());
    run_ok(p.path(), &["-c", "config.yaml", "--dry-run", "reproduce"]);
    assert!(!p.path().join("outputs/report.html").exists());
    reproduce(p.path(), &[], None);
    assert!(p.path().join("outputs/report.html").is_file());
}

#[test]
fn an_embedded_report_carries_its_figures() {
    let p = project();
    reproduce(p.path(), &[], None);
    let out = run_ok(
        p.path(),
        &[
            "-c",
            "config.yaml",
            "report",
            "--embed",
            "-o",
            "single.html",
        ],
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "single.html");
    let html = std::fs::read_to_string(p.path().join("single.html")).unwrap();
    assert_no_remote_reference(&html);
    assert_eq!(
        html.matches("<img src=\"data:image/png;base64,").count(),
        figure_names(p.path()).len()
    );
}

/// The Mermaid subset `graph --format mermaid` writes: a `flowchart LR` header, node lines
/// `sN["label"]` with no quote inside the label, and edges `sA --> sB` between declared nodes.
fn check_mermaid(text: &str) -> usize {
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("flowchart LR"));
    let mut nodes = std::collections::BTreeSet::new();
    let mut edges = 0;
    for line in lines {
        let line = line.strip_prefix("    ").expect("indented");
        if let Some((id, rest)) = line.split_once("[\"") {
            assert!(
                id.starts_with('s') && id[1..].parse::<usize>().is_ok(),
                "{line}"
            );
            let label = rest.strip_suffix("\"]").expect("a closed label");
            assert!(!label.contains('"') && !label.is_empty(), "{line}");
            nodes.insert(id.to_string());
        } else {
            let (a, b) = line.split_once(" --> ").expect("a node or an edge");
            assert!(nodes.contains(a) && nodes.contains(b), "{line}");
            edges += 1;
        }
    }
    edges
}

#[test]
fn the_step_graph_prints_as_valid_mermaid_and_dot() {
    let p = project();
    write_file(
        p.path(),
        "config.yaml",
        &(std::fs::read_to_string(p.path().join("config.yaml")).unwrap()
            + "runner:\n  custom_steps:\n    - name: r-plot\n      command: [\"true\"]\n      inputs: [figures/heatmap.png]\n      outputs: [figures/r.pdf]\n"),
    );
    let text = run_ok(p.path(), &["-c", "config.yaml", "graph"]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.starts_with("extract\n  verify  <- extract\n"),
        "{text}"
    );
    assert!(text.contains("custom:r-plot  <- verify, heatmap"), "{text}");
    let mermaid = run_ok(
        p.path(),
        &[
            "-c",
            "config.yaml",
            "graph",
            "--format",
            "mermaid",
            "--status",
        ],
    );
    let mermaid = String::from_utf8(mermaid.stdout).unwrap();
    let nodes = mermaid.lines().filter(|l| l.contains("[\"")).count();
    assert_eq!(check_mermaid(&mermaid), nodes, "{mermaid}");
    assert!(mermaid.contains("<br/>stale"), "{mermaid}");
    let dot = run_ok(p.path(), &["-c", "config.yaml", "graph", "--format", "dot"]);
    if tool_available("dot", "-V") {
        let out = piped("dot", &["-Tsvg"], &dot.stdout);
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let svg = String::from_utf8_lossy(&out.stdout);
        assert_eq!(svg.matches("class=\"node\"").count(), nodes, "{svg}");
    }
}

#[test]
fn the_metrics_file_passes_promtool() {
    let p = project();
    let metrics = p.path().join("metrics/mlrepro.prom");
    std::fs::create_dir_all(metrics.parent().unwrap()).unwrap();
    reproduce(p.path(), &["--metrics-file", "metrics/mlrepro.prom"], None);
    let text = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        text.contains("mlrepro_run_success{command=\"reproduce\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("mlrepro_step_outcome{step=\"extract\",outcome=\"ran\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("mlrepro_extraction_runs{status=\"included\"} "),
        "{text}"
    );
    assert!(text.contains("mlrepro_extraction_bytes_read "), "{text}");
    if tool_available("promtool", "--version") {
        let out = piped("promtool", &["check", "metrics"], text.as_bytes());
        assert!(
            out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
            "promtool: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
