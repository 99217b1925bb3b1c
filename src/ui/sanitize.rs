//! Text from a store (run names, tags, reasons) made safe to print on a terminal.
//!
//! A run name can hold an ANSI escape that recolours or clears the screen, a carriage return
//! that overwrites what was printed, or a bidirectional override that shows text in another
//! order than it is. [`terminal`] writes every such character as a visible escape (`\u{1b}`,
//! `\r`, `\u{202e}`) and keeps newlines and tabs, which messages use for their layout;
//! [`one_line`] escapes those too, for text that must stay on one line (a figure's label).

use std::borrow::Cow;

/// `text` with every control character other than newline and tab, and every invisible
/// formatting character, written as its Rust escape.
pub fn terminal(text: &str) -> Cow<'_, str> {
    escape_where(text, is_unsafe)
}

/// `text` with every control character, newline and tab included, and every invisible
/// formatting character, written as its Rust escape.
pub fn one_line(text: &str) -> Cow<'_, str> {
    escape_where(text, |c| c.is_control() || is_invisible_format(c))
}

/// `text` as one POSIX shell word, for a command a person copies: as it is when it holds only
/// characters the shell takes literally, else single-quoted.
pub fn shell_word(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@+".contains(c))
    {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

fn escape_where(text: &str, escaped: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(&escaped) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if escaped(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Whether `c` changes what a terminal shows without being shown itself: C0 and C1 controls
/// and DEL (but newline and tab), and the invisible formatting characters (zero-width
/// characters, bidirectional marks, embeddings, overrides and isolates, the BOM).
pub fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || is_invisible_format(c)
}

/// Zero-width and bidirectional formatting characters (Unicode category Cf, the ones that
/// matter for display).
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}'
            | '\u{061c}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{feff}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shell_word_is_quoted_only_when_it_must_be() {
        assert_eq!(shell_word("data/private"), "data/private");
        assert_eq!(shell_word("my data"), "'my data'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
    }

    #[test]
    fn escapes_and_overwrites_are_shown_not_obeyed() {
        assert_eq!(
            terminal("run \u{1b}[2J\u{1b}]0;x\u{7}ok\rFAKE\u{9b}\u{7f}"),
            "run \\u{1b}[2J\\u{1b}]0;x\\u{7}ok\\rFAKE\\u{9b}\\u{7f}"
        );
        assert_eq!(terminal("abc\u{202e}fed"), "abc\\u{202e}fed");
    }

    #[test]
    fn one_line_escapes_newlines_and_tabs_too() {
        assert_eq!(one_line("a\nb\tc\u{1b}"), "a\\nb\\tc\\u{1b}");
    }

    #[test]
    fn ordinary_text_newlines_and_tabs_are_kept() {
        let text = "error: run `3f2a`\n  caused by:\tbad — ü";
        assert!(matches!(terminal(text), Cow::Borrowed(t) if t == text));
    }
}
