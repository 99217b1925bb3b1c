//! The layering of `src/` (CONTRIBUTING.md, "Layers"): the graph of which top-level module
//! imports which is acyclic, and the step engine imports none of the blocks it runs.
//!
//! A module imports another when one of its files names it by a `crate::` path (`use
//! crate::db::writer`, `crate::fsx::parent_dir(…)`, or a name inside `use crate::{…}`).
//! Comments, doc comments, string and character literals are stripped first, so a doc link
//! is not an import.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Modules a module must not import, beyond what acyclicity forbids.
const FORBIDDEN: &[(&str, &[&str])] = &[
    (
        "runner",
        &["extract", "analyze", "db", "report", "commands"],
    ),
    ("mlflow", &["config", "runner"]),
];

/// For each importing module, each module it imports and the files that do.
type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

#[test]
fn the_module_graph_is_acyclic() {
    let graph = module_graph();
    if let Some(cycle) = find_cycle(&graph) {
        let edges: Vec<String> = cycle
            .windows(2)
            .map(|pair| describe(&graph, &pair[0], &pair[1]))
            .collect();
        panic!("import cycle {}:\n{}", cycle.join(" -> "), edges.join("\n"));
    }
}

#[test]
fn lower_layers_do_not_import_higher_ones() {
    let graph = module_graph();
    let offending: Vec<String> = FORBIDDEN
        .iter()
        .flat_map(|(from, never)| {
            let graph = &graph;
            never
                .iter()
                .filter(move |to| graph.get(*from).is_some_and(|t| t.contains_key(**to)))
                .map(move |to| describe(graph, from, to))
        })
        .collect();
    assert!(
        offending.is_empty(),
        "forbidden imports:\n{}",
        offending.join("\n")
    );
}

#[test]
fn the_scanner_sees_imports_and_skips_comments_and_strings() {
    let source = r##"
        //! See [`crate::commands`].
        use crate::{config::Settings, db::{writer, verify}, ui};
        /* crate::report /* nested */ crate::analyze */
        fn f<'a>(x: &'a str) -> char {
            let _ = "crate::extract \" crate::extract";
            let _ = r#"crate::extract"#;
            crate::fsx::parent_dir(x.as_ref());
            '"'
        }
    "##;
    let found = imports(&strip(source));
    assert_eq!(
        found,
        BTreeSet::from(["config", "db", "fsx", "ui"].map(String::from))
    );
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The edges between top-level modules of `src/` (`lib.rs` and `main.rs` are the root).
fn module_graph() -> Graph {
    let src = src_dir();
    let modules: BTreeSet<String> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_string();
            if p.is_dir() {
                Some(name)
            } else {
                name.strip_suffix(".rs").map(str::to_string)
            }
        })
        .filter(|m| m != "lib" && m != "main")
        .collect();
    let mut graph = Graph::new();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for file in files {
        let rel = file.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_str()
            .unwrap();
        let from = first.strip_suffix(".rs").unwrap_or(first).to_string();
        if !modules.contains(&from) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for to in imports(&strip(&text)) {
            if to != from && modules.contains(&to) {
                graph
                    .entry(from.clone())
                    .or_default()
                    .entry(to)
                    .or_default()
                    .insert(rel.display().to_string());
            }
        }
    }
    graph
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `from -> to`, with the files that make the edge.
fn describe(graph: &Graph, from: &str, to: &str) -> String {
    let files: Vec<&str> = graph[from][to].iter().map(String::as_str).collect();
    format!("  {from} -> {to} ({})", files.join(", "))
}

/// A cycle as the modules along it, the first repeated at the end.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        graph: &Graph,
        node: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|m| m == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flat_map(|t| t.keys()) {
            if let Some(cycle) = visit(graph, next, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|m| visit(graph, m, &mut Vec::new(), &mut done))
}

/// The top-level modules `code` names by a `crate::` path.
fn imports(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        let after = &rest[at + "crate::".len()..];
        rest = after;
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = after.strip_prefix('{') {
            found.extend(group_heads(group));
        } else {
            let name = identifier(after);
            if !name.is_empty() {
                found.insert(name.to_string());
            }
        }
    }
    found
}

/// The first segment of each path at the top level of a `{…}` group (its opening brace
/// already read).
fn group_heads(group: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut expect_head = true;
    let mut i = 0;
    while i < group.len() {
        let rest = &group[i..];
        let c = rest.chars().next().unwrap();
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => expect_head = true,
            c if expect_head && (c.is_alphabetic() || c == '_') => {
                let name = identifier(rest);
                heads.push(name.to_string());
                expect_head = false;
                i += name.len();
                continue;
            }
            _ => {}
        }
        i += c.len_utf8();
    }
    heads
}

fn identifier(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// `code` without comments and with every string and character literal emptied.
fn strip(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    let mut out = String::with_capacity(code.len());
    let mut i = 0;
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        let starts_word = i == 0 || !(at(i - 1).is_alphanumeric() || at(i - 1) == '_');
        if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if starts_word && (c == 'r' || (c == 'b' && at(i + 1) == 'r')) && {
            let mut j = i + if c == 'b' { 2 } else { 1 };
            while at(j) == '#' {
                j += 1;
            }
            at(j) == '"'
        } {
            // A raw string: `r#"…"#` ends at a quote followed by as many hashes.
            i += if c == 'b' { 2 } else { 1 };
            let mut hashes = 0;
            while chars[i] == '#' {
                hashes += 1;
                i += 1;
            }
            i += 1;
            while i < chars.len() && !(chars[i] == '"' && (1..=hashes).all(|k| at(i + k) == '#')) {
                i += 1;
            }
            i += 1 + hashes;
            out.push_str("\"\"");
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && (at(i + 1) == '\\' || at(i + 2) == '\'') {
            // A character literal; a lone quote is a lifetime.
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}
