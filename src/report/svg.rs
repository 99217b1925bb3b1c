//! The step graph and the timeline as inline SVG.
//!
//! The graph is drawn in layers (a step one column right of the deepest step it needs),
//! steps of a layer stacked in run order, edges as curves; each node carries its outcome as
//! a class, and its time, reasons and error in a `<title>` and in `data-` attributes that the
//! page's script shows on click.

use maud::{html, Markup};

use crate::runner::graph::{self, Node};
use crate::runner::ledger::{StepEntry, StepStatus};

const NODE_W: f64 = 180.0;
const NODE_H: f64 = 34.0;
const GAP_X: f64 = 56.0;
const GAP_Y: f64 = 10.0;
const PAD: f64 = 8.0;

/// The CSS class and the word of an outcome; a step the run never reached is `pending`.
pub fn outcome(status: Option<StepStatus>) -> (&'static str, &'static str) {
    match status {
        Some(StepStatus::Ran) => ("ran", "ran"),
        Some(StepStatus::Cached) => ("cached", "cached"),
        Some(StepStatus::Flaky) => ("flaky", "flaky"),
        Some(StepStatus::Failed) => ("failed", "failed"),
        Some(StepStatus::TimedOut) => ("timed-out", "timed out"),
        Some(StepStatus::Cancelled) => ("cancelled", "cancelled"),
        Some(StepStatus::Skipped) => ("skipped", "skipped"),
        None => ("pending", "not reached"),
    }
}

/// The graph of `nodes`, each coloured by its entry in `steps`.
pub fn step_graph(nodes: &[Node], steps: &[StepEntry]) -> Markup {
    let layer = graph::layers(nodes);
    let mut row_in_layer = vec![0usize; layer.iter().max().map_or(0, |m| m + 1)];
    let mut at = Vec::with_capacity(nodes.len());
    for l in &layer {
        at.push((*l, row_in_layer[*l]));
        row_in_layer[*l] += 1;
    }
    let rows = row_in_layer.iter().copied().max().unwrap_or(0);
    let x = |l: usize| PAD + l as f64 * (NODE_W + GAP_X);
    let y = |r: usize| PAD + r as f64 * (NODE_H + GAP_Y);
    let width = x(row_in_layer.len()) - GAP_X + PAD;
    let height = y(rows) - GAP_Y + PAD;
    let entry = |name: &str| steps.iter().find(|s| s.step == name);
    html! {
        svg class="graph" role="img" aria-label="Step graph"
            viewBox=(format!("0 0 {width:.0} {height:.0}")) width=(format!("{width:.0}")) height=(format!("{height:.0}")) {
            @for (i, node) in nodes.iter().enumerate() {
                @for need in &node.needs {
                    @if let Some(j) = nodes.iter().position(|n| &n.step == need) {
                        @let (x1, y1) = (x(at[j].0) + NODE_W, y(at[j].1) + NODE_H / 2.0);
                        @let (x2, y2) = (x(at[i].0), y(at[i].1) + NODE_H / 2.0);
                        @let mid = (x1 + x2) / 2.0;
                        path class="edge" d=(format!("M{x1:.1},{y1:.1} C{mid:.1},{y1:.1} {mid:.1},{y2:.1} {x2:.1},{y2:.1}")) {}
                    }
                }
            }
            @for (i, node) in nodes.iter().enumerate() {
                @let e = entry(&node.step);
                @let (class, word) = outcome(e.map(|e| e.status));
                @let seconds = e.map_or(0.0, |e| e.seconds);
                @let reasons = e.map(|e| e.reasons.join("; ")).unwrap_or_default();
                @let error = e.and_then(|e| e.error.clone()).unwrap_or_default();
                g class=(format!("node st-{class}")) tabindex="0" data-step=(node.step)
                    data-status=(word) data-seconds=(format!("{seconds:.3}"))
                    data-reasons=(reasons) data-error=(error)
                    transform=(format!("translate({:.1},{:.1})", x(at[i].0), y(at[i].1))) {
                    title { (node.step) ": " (word) ", " (format!("{seconds:.2}")) " s"
                        @if !reasons.is_empty() { "\nwhy: " (reasons) }
                        @if !error.is_empty() { "\nerror: " (error) } }
                    rect width=(NODE_W) height=(NODE_H) rx="6" {}
                    text x="8" y="14" class="name" { (clip(&node.step, 24)) }
                    text x="8" y="28" class="meta" { (word) " · " (format!("{seconds:.2}")) " s" }
                }
            }
        }
    }
}

/// A horizontal bar per step from its start to its end, on one time axis.
pub fn timeline(steps: &[StepEntry], total: f64) -> Markup {
    const LABEL_W: f64 = 190.0;
    const BAR_W: f64 = 560.0;
    const ROW_H: f64 = 18.0;
    let end = steps
        .iter()
        .map(|s| s.started_s + s.seconds)
        .fold(total, f64::max)
        .max(1e-3);
    let scale = BAR_W / end;
    let height = ROW_H * steps.len() as f64 + 24.0;
    let width = LABEL_W + BAR_W + 70.0;
    html! {
        svg class="timeline" role="img" aria-label="Timeline of the steps"
            viewBox=(format!("0 0 {width:.0} {height:.0}")) width=(format!("{width:.0}")) height=(format!("{height:.0}")) {
            @for (i, s) in steps.iter().enumerate() {
                @let (class, word) = outcome(Some(s.status));
                @let y = i as f64 * ROW_H + 4.0;
                g class=(format!("bar st-{class}")) {
                    title { (s.step) ": " (word) ", starts at " (format!("{:.3}", s.started_s)) " s, takes " (format!("{:.3}", s.seconds)) " s" }
                    text x=(LABEL_W - 6.0) y=(y + 12.0) text-anchor="end" { (clip(&s.step, 28)) }
                    rect x=(format!("{:.1}", LABEL_W + s.started_s * scale)) y=(y + 2.0)
                        width=(format!("{:.1}", (s.seconds * scale).max(1.5))) height=(ROW_H - 5.0) rx="2" {}
                    text x=(format!("{:.1}", LABEL_W + (s.started_s + s.seconds) * scale + 4.0)) y=(y + 12.0) class="meta" {
                        (format!("{:.2}", s.seconds)) " s" }
                }
            }
            @let axis_y = steps.len() as f64 * ROW_H + 14.0;
            line x1=(LABEL_W) y1=(axis_y - 6.0) x2=(LABEL_W + BAR_W) y2=(axis_y - 6.0) class="axis" {}
            text x=(LABEL_W) y=(axis_y + 6.0) class="meta" { "0 s" }
            text x=(LABEL_W + BAR_W) y=(axis_y + 6.0) class="meta" text-anchor="end" { (format!("{end:.2}")) " s" }
        }
    }
}

/// `text` cut to `max` characters with an ellipsis.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut out: String = text.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}
