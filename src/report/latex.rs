//! The analysis's own LaTeX outputs read back for the HTML report: a booktabs table as a
//! caption, a header and rows of plain text, and `numbers.tex` as macro names and values.
//!
//! Only what mlrepro writes is understood (its escapes, `$-$`, `$<$` and the few symbols of
//! its headers); anything else is shown as written.

/// A table read from a `.tex` file.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The caption, as text.
    pub caption: String,
    /// Header rows (before `\midrule`).
    pub header: Vec<Vec<String>>,
    /// Body rows.
    pub rows: Vec<Vec<String>>,
}

/// Reads the first `tabular` of `tex`; `None` when there is none.
pub fn table(tex: &str) -> Option<Table> {
    let body = tex.split("\\begin{tabular}").nth(1)?;
    let body = body.split("\\end{tabular}").next()?;
    let body = skip_group(body.trim_start());
    let mut header = Vec::new();
    let mut rows = Vec::new();
    let mut in_body = false;
    for raw in split_rows(body) {
        let mut line = raw.trim();
        loop {
            let rule = ["\\toprule", "\\midrule", "\\bottomrule"]
                .into_iter()
                .find(|r| line.starts_with(r));
            if let Some(rule) = rule {
                in_body |= rule == "\\midrule";
                line = line[rule.len()..].trim_start();
            } else if let Some(rest) = line.strip_prefix("\\cmidrule") {
                line = skip_group(rest.trim_start()).trim_start();
            } else {
                break;
            }
        }
        if line.is_empty() {
            continue;
        }
        let cells: Vec<String> = split_cells(line).iter().map(|c| text(c.trim())).collect();
        if in_body {
            rows.push(cells);
        } else {
            header.push(cells);
        }
    }
    Some(Table {
        caption: group_after(tex, "\\caption").map(text).unwrap_or_default(),
        header,
        rows,
    })
}

/// The `\providecommand{\name}{value}` (or `\newcommand`) definitions of `tex`, in order.
pub fn macros(tex: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in tex.lines() {
        let Some(rest) = line
            .strip_prefix("\\providecommand")
            .or_else(|| line.strip_prefix("\\newcommand"))
        else {
            continue;
        };
        let Some(name) = group(rest) else { continue };
        let after = &rest[name.len() + 2..];
        if let Some(value) = group(after) {
            out.push((name.trim_start_matches('\\').to_string(), text(value)));
        }
    }
    out
}

/// The contents of the brace group at the start of `s`.
fn group(s: &str) -> Option<&str> {
    let s = s.strip_prefix('{')?;
    let mut depth = 1usize;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&s[..i]);
                }
            }
            _ => {}
        }
    }
    None
}

/// `s` after the brace group it starts with (or `s` when it starts with none).
fn skip_group(s: &str) -> &str {
    match group(s) {
        Some(g) => &s[g.len() + 2..],
        None => s,
    }
}

/// The brace group after the first `command` in `tex`.
fn group_after<'a>(tex: &'a str, command: &str) -> Option<&'a str> {
    let at = tex.find(command)?;
    group(&tex[at + command.len()..])
}

/// Rows of a tabular body: split at `\\` that is not part of an escape.
fn split_rows(body: &str) -> Vec<&str> {
    split_unescaped(body, "\\\\")
}

/// Cells of a row: split at `&` not escaped as `\&`.
fn split_cells(row: &str) -> Vec<&str> {
    split_unescaped(row, "&")
}

fn split_unescaped<'a>(s: &'a str, sep: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if s[i..].starts_with(sep) {
            out.push(&s[start..i]);
            i += sep.len();
            start = i;
        } else if bytes[i] == b'\\' {
            // An escape (`\&`, `\%`, `\textbackslash{}`) is one unit.
            i += 2.min(bytes.len() - i);
            while i < bytes.len() && !s.is_char_boundary(i) {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    out.push(&s[start..]);
    out
}

/// The plain text of a LaTeX fragment written by mlrepro.
pub fn text(tex: &str) -> String {
    let mut out = String::with_capacity(tex.len());
    let mut rest = tex;
    while let Some(c) = rest.chars().next() {
        if let Some(math) = rest.strip_prefix('$') {
            if let Some(end) = math.find('$') {
                out.push_str(&math_text(&math[..end]));
                rest = &math[end + 1..];
                continue;
            }
        }
        if c == '\\' {
            let word: String = rest[1..]
                .chars()
                .take_while(char::is_ascii_alphabetic)
                .collect();
            if word.is_empty() {
                if let Some(next) = rest[1..].chars().next() {
                    out.push(next);
                    rest = &rest[1 + next.len_utf8()..];
                } else {
                    rest = "";
                }
                continue;
            }
            let after = rest[1 + word.len()..]
                .strip_prefix("{}")
                .unwrap_or(&rest[1 + word.len()..]);
            match word.as_str() {
                "textbackslash" => out.push('\\'),
                "textasciitilde" => out.push('~'),
                "textasciicircum" => out.push('^'),
                "ldots" => out.push('…'),
                "textbf" | "emph" | "textit" | "mbox" => {}
                other => {
                    out.push('\\');
                    out.push_str(other);
                }
            }
            rest = after;
            continue;
        }
        match c {
            '{' | '}' => {}
            '~' => out.push('\u{a0}'),
            _ if rest.starts_with("--") => {
                out.push('–');
                rest = &rest[2..];
                continue;
            }
            _ => out.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The text of a math fragment: the signs and symbols mlrepro's tables use.
fn math_text(math: &str) -> String {
    match math {
        "-" => "−".into(),
        "<" => "<".into(),
        ">" => ">".into(),
        "\\eta^2_p" => "η²ₚ".into(),
        "\\omega^2" => "ω²".into(),
        "\\pm" => "±".into(),
        other => other.replace("\\,", " "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = r"% Generated by mlrepro
\begin{table}[htbp]
\caption{STRATOS measures: AUROC [95\% CI] of {[}top{]} configs.}
\begin{tabular}{rlc}
\toprule
Rank & Pipeline & $\eta^2_p$ \\
\midrule
1 & GT + GT, A\&B\_x & $-$0.379 \\
2 & Ens-7 \textbackslash{} & $<$0.001 \\
\bottomrule
\end{tabular}
\end{table}";

    #[test]
    fn a_booktabs_table_reads_as_caption_header_and_rows() {
        let t = table(TABLE).unwrap();
        assert_eq!(
            t.caption,
            "STRATOS measures: AUROC [95% CI] of [top] configs."
        );
        assert_eq!(t.header, vec![vec!["Rank", "Pipeline", "η²ₚ"]]);
        assert_eq!(
            t.rows,
            vec![
                vec!["1", "GT + GT, A&B_x", "−0.379"],
                vec!["2", "Ens-7 \\", "<0.001"],
            ]
        );
    }

    #[test]
    fn escaped_text_round_trips_through_the_tables_escape() {
        let hostile = "a&b%c$d#e_f{g}h~i^j[k]l*m\\n…";
        let tex = crate::analyze::latex::escape(hostile);
        assert_eq!(text(&tex), hostile);
        let row = format!("\\begin{{tabular}}{{l}}\n{tex} & x \\\\\n\\end{{tabular}}");
        assert_eq!(table(&row).unwrap().header, vec![vec![hostile, "x"]]);
    }

    #[test]
    fn numbers_macros_are_read_with_their_values() {
        let tex = "% x\n\\providecommand{\\nConfigs}{44}\n\\providecommand{\\best}{Ensemble (7 detectors)}\n";
        assert_eq!(
            macros(tex),
            vec![
                ("nConfigs".into(), "44".into()),
                ("best".into(), "Ensemble (7 detectors)".into())
            ]
        );
    }
}
