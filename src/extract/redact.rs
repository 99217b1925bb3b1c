//! The last line of defence for public text: every original subject code known to an
//! extraction is replaced by its keyed pseudonym before a reason or an error leaves Block 1.
//!
//! The pickle reader already names schema keys only, never a dict key read from a pickle;
//! this catches whatever else might carry a code (a message of a library, a value echoed by
//! a future check). A code is replaced where it stands as a whole token, i.e. not inside a
//! longer run of letters and digits, so run ids and file names around it stay readable.

use std::borrow::Cow;
use std::collections::BTreeMap;

use anyhow::anyhow;

use crate::error::{Error, ErrorKind};

/// Replaces known original codes by `<subject PSEUDONYM>` (the first 12 hex digits).
#[derive(Debug, Default)]
pub struct Redactor {
    /// (original code, replacement), longest code first.
    codes: Vec<(String, String)>,
}

impl Redactor {
    /// A redactor for the codes of a pseudonym → original table.
    pub fn new(pseudonyms: &BTreeMap<String, String>) -> Self {
        let mut codes: Vec<(String, String)> = pseudonyms
            .iter()
            .filter(|(_, original)| !original.is_empty())
            .map(|(pseudonym, original)| {
                let short = &pseudonym[..pseudonym.len().min(12)];
                (original.clone(), format!("<subject {short}>"))
            })
            .collect();
        codes.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        codes.dedup_by(|a, b| a.0 == b.0);
        Redactor { codes }
    }

    /// `text` with every known code that stands as a whole token replaced.
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut out = Cow::Borrowed(text);
        for (code, replacement) in &self.codes {
            if out.contains(code.as_str()) {
                out = Cow::Owned(replace_tokens(&out, code, replacement));
            }
        }
        out
    }
}

impl Redactor {
    /// `error` with every known code replaced in its messages and hint; an error that holds
    /// none is returned as it was (its cause chain intact).
    pub fn redact_error(&self, error: Error) -> Error {
        let text = format!("{:#}", error.cause());
        let hint = error.hint().map(|h| self.redact(h));
        let clean = self.redact(&text);
        if matches!(clean, Cow::Borrowed(_)) && !matches!(hint, Some(Cow::Owned(_))) {
            return error;
        }
        let source = anyhow!("{clean}");
        let redacted = match error.kind() {
            ErrorKind::Usage => Error::usage(source),
            ErrorKind::Pipeline => Error::pipeline(source),
            ErrorKind::Interrupted => return Error::interrupted(),
        };
        match hint {
            Some(h) => redacted.with_hint(h.into_owned()),
            None => redacted,
        }
    }
}

/// Replaces each occurrence of `code` in `text` that is not part of a longer alphanumeric run.
fn replace_tokens(text: &str, code: &str, replacement: &str) -> String {
    let is_word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric());
    let starts_word = code.chars().next().is_some_and(|c| c.is_alphanumeric());
    let ends_word = code
        .chars()
        .next_back()
        .is_some_and(|c| c.is_alphanumeric());
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(code) {
        let before = rest[..at]
            .chars()
            .next_back()
            .or_else(|| out.chars().next_back());
        let after = rest[at + code.len()..].chars().next();
        out.push_str(&rest[..at]);
        let joins_before = starts_word && is_word(before);
        let joins_after = ends_word && is_word(after);
        let whole = !(joins_before || joins_after);
        out.push_str(if whole { replacement } else { code });
        rest = &rest[at + code.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor() -> Redactor {
        Redactor::new(&BTreeMap::from([
            ("ab".repeat(32), "PLR1639".to_string()),
            ("cd".repeat(32), "PLR16".to_string()),
        ]))
    }

    #[test]
    fn a_code_in_a_key_path_is_replaced_by_its_pseudonym() {
        let r = redactor();
        assert_eq!(
            r.redact("at byte 9 (preds_dict.arrays.PLR1639): truncated"),
            "at byte 9 (preds_dict.arrays.<subject abababababab>): truncated"
        );
        assert_eq!(
            r.redact("`PLR16` and `PLR1639`"),
            "`<subject cdcdcdcdcdcd>` and `<subject abababababab>`"
        );
    }

    #[test]
    fn an_error_keeps_its_kind_and_loses_its_codes() {
        let e = Error::usage(anyhow!("bad subject PLR1639").context("cannot extract"))
            .with_hint("look at PLR16");
        let clean = redactor().redact_error(e);
        assert_eq!(clean.exit_code(), 2);
        assert_eq!(
            clean.render(),
            "error: cannot extract: bad subject <subject abababababab>\nhint: look at <subject cdcdcdcdcdcd>"
        );
    }

    #[test]
    fn a_code_inside_a_longer_token_is_left_alone() {
        let r = redactor();
        assert_eq!(r.redact("run 9PLR1639x"), "run 9PLR1639x");
        assert!(matches!(r.redact("nothing here"), Cow::Borrowed(_)));
    }
}
