//! The report page: one HTML file with its CSS and script inline, that opens from disk and
//! makes no request beyond the files it links (its Content-Security-Policy forbids any).

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::gather::{HistoryRow, Page};
use super::latex::Table;
use super::svg;
use crate::runner::ledger::StepStatus;
use crate::ui::sanitize::shell_word;

const CSS: &str = include_str!("assets/report.css");
const SCRIPT: &str = include_str!("assets/report.js");
/// No network, no remote fonts; images from files next to the report or embedded.
const CSP: &str = "default-src 'none'; img-src file: data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/// The page of `p`.
pub fn render(p: &Page) -> String {
    let run = &p.run;
    let failed: Vec<_> = run
        .steps
        .iter()
        .filter(|s| !s.status.is_success() && s.status != StepStatus::Skipped)
        .collect();
    let title = format!("mlrepro {} · run {}", run.command, run.id);
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(CSP);
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    h1 { "mlrepro " (run.command) }
                    p class=(format!("status status-{}", run.status)) id="run-status" { (run.status) }
                    (header_facts(p))
                }
                @if !failed.is_empty() {
                    section id="failures" class="failures" {
                        h2 { "What failed" }
                        @for s in &failed {
                            div class="failure" data-step=(s.step) {
                                h3 { "step " code { (s.step) } " " (svg::outcome(Some(s.status)).1) }
                                pre { (s.error.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
                section id="graph" {
                    h2 { "Steps" }
                    p class="hint" { "Click a step for why it ran and its error." }
                    div class="scroll" { (svg::step_graph(&super::graph_of(run), &run.steps)) }
                    div id="step-detail" class="detail" hidden {}
                    (legend())
                }
                section id="timeline" {
                    h2 { "Timeline" }
                    div class="scroll" { (svg::timeline(&run.steps, run.seconds.unwrap_or(0.0))) }
                }
                @if let Some((v, from)) = &p.verification { (verification(v, from.as_deref())) }
                (extraction(p))
                (gallery(p))
                (tables(p))
                (numbers(p))
                (history(&p.history, &run.id))
                footer { "Written by mlrepro " (env!("CARGO_PKG_VERSION")) ". Every subject code on this page is anonymous." }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    };
    markup.into_string()
}

fn header_facts(p: &Page) -> Markup {
    let run = &p.run;
    let ctx = &run.context;
    let fact = |key: &str| -> Option<String> {
        p.checkpoint
            .as_ref()
            .ok()
            .and_then(|m| m.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
    };
    html! {
        dl class="facts" {
            dt { "Run" } dd { code { (run.id) } }
            dt { "Started" } dd { (run.started) }
            dt { "Duration" } dd { (run.seconds.map_or("unfinished".to_string(), |s| format!("{s:.2} s"))) }
            dt { "Tool" } dd { "mlrepro " (if ctx.version.is_empty() { "(not recorded)" } else { &ctx.version }) }
            dt { "Command line" } dd { code { (ctx.argv.iter().map(|a| shell_word(a)).collect::<Vec<_>>().join(" ")) } }
            dt { "Config" } dd { code { (ctx.config) } " " span class="digest" title="SHA-256 of the config file" { (short(&ctx.config_digest)) } }
            @match &p.checkpoint {
                Ok(_) => {
                    dt { "Checkpoint" } dd { span class="digest" title="logical digest" { (fact("logical_digest").unwrap_or_default()) } }
                    dt { "Schema version" } dd { (fact("schema_version").unwrap_or_default()) }
                    dt { "Experiment" } dd { (fact("experiment_name").unwrap_or_default()) }
                }
                Err(e) => { dt { "Checkpoint" } dd { (e) } }
            }
        }
    }
}

fn legend() -> Markup {
    html! {
        ul class="legend" {
            @for s in StepStatus::ALL {
                @let (class, word) = svg::outcome(Some(s));
                li { span class=(format!("swatch st-{class}")) {} (word) }
            }
        }
    }
}

fn verification(v: &serde_json::Value, from: Option<&str>) -> Markup {
    html! {
        section id="verification" {
            h2 { "Checkpoint verification" }
            @if let Some(id) = from {
                p class="note" { "The checkpoint is unchanged since run " code { (id) } " verified it:" }
            }
            table class="data" {
                thead { tr { th { "Check" } th { "Result" } th { "Detail" } } }
                tbody {
                    @for c in v["checks"].as_array().into_iter().flatten() {
                        @let ok = c["ok"].as_bool().unwrap_or(false);
                        tr class=(if ok { "ok" } else { "bad" }) {
                            td { (c["name"].as_str().unwrap_or("")) }
                            td { (if ok { "passed" } else { "FAILED" }) }
                            td { (c["detail"].as_str().unwrap_or("")) }
                        }
                    }
                }
            }
        }
    }
}

fn extraction(p: &Page) -> Markup {
    let count = |s: &str| p.extraction.iter().filter(|r| r.status == s).count();
    html! {
        section id="extraction" {
            h2 { "Extraction" }
            @if p.extraction.is_empty() {
                p { "No checkpoint to read the runs from." }
            } @else {
                p class="counts" {
                    span class="count included" { (count("included")) " included" } " · "
                    span class="count excluded" { (count("excluded")) " excluded" } " · "
                    span class="count failed" { (count("failed")) " failed" }
                }
                div class="filters" {
                    label { "Filter " input id="run-filter" type="search" placeholder="run id, name or reason"; }
                    label { "Status "
                        select id="run-status-filter" {
                            option value="" { "all" }
                            option value="included" { "included" }
                            option value="excluded" { "excluded" }
                            option value="failed" { "failed" }
                        }
                    }
                    span id="run-count" {}
                }
                table class="data sortable" id="runs" {
                    thead { tr {
                        th data-key="run_id" { button type="button" { "Run id" } }
                        th data-key="run_name" { button type="button" { "Run name" } }
                        th data-key="status" { button type="button" { "Status" } }
                        th data-key="reason" { button type="button" { "Reason" } }
                    } }
                    tbody {
                        @for r in &p.extraction {
                            tr class=(format!("run run-{}", r.status)) data-status=(r.status) {
                                td { code { (r.run_id) } }
                                td { (r.run_name) }
                                td { (r.status) }
                                td { (r.reason) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn gallery(p: &Page) -> Markup {
    html! {
        section id="figures" {
            h2 { "Figures" }
            @if p.figures.is_empty() { p { "No analysis report to list the figures from." } }
            div class="gallery" {
                @for f in &p.figures {
                    figure class=(format!("fig fig-{}", f.status)) data-figure=(f.name) {
                        @if let Some(src) = &f.preview {
                            a href=(src) { img src=(src) alt=(f.name) loading="lazy"; }
                        }
                        figcaption {
                            strong { (f.name) } " "
                            @if f.status != "generated" { span class="tag" { (f.status) } }
                            @if let Some(n) = &f.note { br; span class="note" { (n) } }
                            br;
                            @for (kind, href) in &f.files { a class="file" href=(href) { (kind) } " " }
                        }
                    }
                }
            }
        }
    }
}

fn tables(p: &Page) -> Markup {
    html! {
        section id="tables" {
            h2 { "Tables" }
            @for (file, t) in &p.tables {
                div class="table" data-file=(file) {
                    h3 { code { (file) } }
                    @match t {
                        Ok(t) => (table(t)),
                        Err(e) => p class="note" { (e) },
                    }
                }
            }
        }
    }
}

fn table(t: &Table) -> Markup {
    html! {
        table class="data" {
            caption { (t.caption) }
            thead { @for r in &t.header { tr { @for c in r { th { (c) } } } } }
            tbody { @for r in &t.rows { tr { @for c in r { td { (c) } } } } }
        }
    }
}

fn numbers(p: &Page) -> Markup {
    html! {
        section id="numbers" {
            h2 { "Numbers for the text (" code { "numbers.tex" } ")" }
            @if p.numbers.is_empty() { p { "No numbers.tex." } }
            @else {
                table class="data" {
                    thead { tr { th { "Macro" } th { "Value" } } }
                    tbody { @for (k, v) in &p.numbers { tr { td { code { "\\" (k) } } td { (v) } } } }
                }
            }
        }
    }
}

fn history(rows: &[HistoryRow], current: &str) -> Markup {
    html! {
        section id="history" {
            h2 { "History" }
            table class="data" {
                thead { tr { th { "Run" } th { "Command" } th { "Status" } th { "Started" } th { "Seconds" } } }
                tbody {
                    @for r in rows {
                        tr class=(if r.id == current { "current" } else { "" }) {
                            td { @match &r.report { Some(href) => a href=(href) { code { (r.id) } }, None => code { (r.id) } } }
                            td { (r.command) }
                            td class=(format!("status-{}", r.status)) { (r.status) }
                            td { (r.started) }
                            td { (r.seconds.map_or(String::new(), |s| format!("{s:.2}"))) }
                        }
                    }
                }
            }
        }
    }
}

fn short(digest: &str) -> &str {
    &digest[..digest.len().min(12)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::gather::ExtractionRow;
    use crate::runner::ledger::{RunContext, RunRecord, StepEntry};

    #[test]
    fn text_from_the_store_and_the_ledger_is_escaped() {
        let hostile = "<script>alert(1)</script>\"'&";
        let step = StepEntry {
            step: "extract".into(),
            status: StepStatus::Failed,
            reasons: vec![hostile.into()],
            attempts: 1,
            seconds: 0.1,
            key_digest: String::new(),
            outputs: Default::default(),
            error: Some(hostile.into()),
            started_s: 0.0,
            summary: None,
            details: None,
        };
        let page = Page {
            run: RunRecord {
                id: "r1".into(),
                command: "reproduce".into(),
                started: "t".into(),
                status: "failed".into(),
                seconds: Some(1.0),
                finished: None,
                context: RunContext {
                    argv: vec!["mlrepro".into(), hostile.into()],
                    ..RunContext::default()
                },
                steps: vec![step],
            },
            checkpoint: Err(hostile.into()),
            extraction: vec![ExtractionRow {
                run_id: "id".into(),
                run_name: hostile.into(),
                status: "failed".into(),
                reason: hostile.into(),
            }],
            figures: vec![],
            tables: vec![],
            numbers: vec![],
            history: vec![],
            verification: None,
        };
        let html = render(&page);
        assert_eq!(
            html.matches("<script>").count(),
            1,
            "only the page's own script"
        );
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    }
}
