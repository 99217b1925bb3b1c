//! The step graph: which step waits for which.
//!
//! The engine runs steps in order and stops at a required step that fails, so every step
//! depends on the nearest required step before it. A step that declares an input another
//! step writes (a custom step reading a figure) depends on that step as well. The graph is
//! recorded in the ledger with each run, so a report drawn later shows the graph that ran.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::step::Step;
use crate::config::Settings;

/// One step and the steps it waits for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// Step name.
    pub step: String,
    /// Names of the steps it depends on, in run order.
    pub needs: Vec<String>,
}

/// The graph of `steps`, in run order.
pub fn of(steps: &[Arc<dyn Step>], settings: &Settings) -> Vec<Node> {
    let outputs: Vec<BTreeSet<_>> = steps
        .iter()
        .map(|s| s.outputs(settings).into_iter().collect())
        .collect();
    let mut nodes = Vec::with_capacity(steps.len());
    let mut barrier: Option<usize> = None;
    for (i, step) in steps.iter().enumerate() {
        let inputs = step.inputs(settings);
        let mut needs: BTreeSet<usize> = barrier.into_iter().collect();
        needs.extend((0..i).filter(|&j| inputs.iter().any(|p| outputs[j].contains(p))));
        nodes.push(Node {
            step: step.name().to_string(),
            needs: needs.iter().map(|&j| steps[j].name().to_string()).collect(),
        });
        if step.required() {
            barrier = Some(i);
        }
    }
    nodes
}

/// Each node's layer: 0 for a node that needs nothing, else one more than its deepest need.
/// A need that names no earlier node is ignored.
pub fn layers(nodes: &[Node]) -> Vec<usize> {
    let mut layer = vec![0usize; nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        layer[i] = node
            .needs
            .iter()
            .filter_map(|n| nodes[..i].iter().position(|m| &m.step == n))
            .map(|j| layer[j] + 1)
            .max()
            .unwrap_or(0);
    }
    layer
}

/// The graph as indented text: one line per step with what it needs, and its status.
pub fn to_text(nodes: &[Node], status: &dyn Fn(&str) -> Option<String>) -> String {
    let layer = layers(nodes);
    let mut out = String::new();
    for (node, depth) in nodes.iter().zip(&layer) {
        let _ = write!(out, "{}{}", "  ".repeat(*depth), node.step);
        if !node.needs.is_empty() {
            let _ = write!(out, "  <- {}", node.needs.join(", "));
        }
        if let Some(s) = status(&node.step) {
            let _ = write!(out, "  [{s}]");
        }
        out.push('\n');
    }
    out
}

/// The graph in Mermaid's flowchart syntax; node ids are `s0`, `s1`, … and labels quoted.
pub fn to_mermaid(nodes: &[Node], status: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::from("flowchart LR\n");
    for (i, node) in nodes.iter().enumerate() {
        let label = match status(&node.step) {
            Some(s) => format!("{}<br/>{s}", node.step),
            None => node.step.clone(),
        };
        let _ = writeln!(out, "    s{i}[\"{}\"]", mermaid_text(&label));
    }
    for (i, node) in nodes.iter().enumerate() {
        for need in &node.needs {
            if let Some(j) = nodes.iter().position(|n| &n.step == need) {
                let _ = writeln!(out, "    s{j} --> s{i}");
            }
        }
    }
    out
}

/// The graph in Graphviz's DOT language.
pub fn to_dot(nodes: &[Node], status: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::from(
        "digraph mlrepro {\n    rankdir=LR;\n    node [shape=box, style=rounded, fontname=\"Helvetica\"];\n",
    );
    for (i, node) in nodes.iter().enumerate() {
        let label = match status(&node.step) {
            Some(s) => format!("{}\n{s}", node.step),
            None => node.step.clone(),
        };
        let _ = writeln!(out, "    s{i} [label=\"{}\"];", dot_text(&label));
    }
    for (i, node) in nodes.iter().enumerate() {
        for need in &node.needs {
            if let Some(j) = nodes.iter().position(|n| &n.step == need) {
                let _ = writeln!(out, "    s{j} -> s{i};");
            }
        }
    }
    out.push_str("}\n");
    out
}

/// `text` safe inside a Mermaid quoted label: quotes and markup become entity codes
/// (`#quot;`), control characters are dropped.
fn mermaid_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(tail) = rest.strip_prefix("<br/>") {
            out.push_str("<br/>");
            rest = tail;
            continue;
        }
        let c = rest.chars().next().expect("not empty");
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '#' => out.push_str("#35;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// `text` safe inside a DOT quoted string: backslashes and quotes escaped, newlines as `\n`,
/// other control characters dropped.
fn dot_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(step: &str, needs: &[&str]) -> Node {
        Node {
            step: step.into(),
            needs: needs.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn demo() -> Vec<Node> {
        vec![
            node("extract", &[]),
            node("verify", &["extract"]),
            node("figure:heatmap", &["verify"]),
            node("tables", &["verify"]),
            node("custom:r", &["verify", "figure:heatmap"]),
        ]
    }

    #[test]
    fn layers_follow_the_deepest_need() {
        assert_eq!(layers(&demo()), vec![0, 1, 2, 2, 3]);
    }

    #[test]
    fn mermaid_and_dot_name_every_edge() {
        let none = |_: &str| None;
        let m = to_mermaid(&demo(), &none);
        assert!(m.starts_with("flowchart LR\n"));
        assert!(m.contains("s0 --> s1") && m.contains("s2 --> s4") && m.contains("s1 --> s4"));
        let d = to_dot(&demo(), &none);
        assert!(d.contains("s1 -> s3;") && d.trim_end().ends_with('}'));
    }

    #[test]
    fn hostile_step_names_cannot_break_out_of_a_label() {
        let nodes = vec![node("custom:a\"]; evil[\"x\n", &[])];
        let none = |_: &str| None;
        let m = to_mermaid(&nodes, &none);
        assert_eq!(m.lines().nth(1).unwrap().matches('"').count(), 2, "{m}");
        let d = to_dot(&nodes, &none);
        assert!(d.contains("custom:a\\\"]; evil[\\\"x\\n"), "{d}");
    }
}
