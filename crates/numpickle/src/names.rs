//! Which dict keys an error path may show as text.
//!
//! A key read from the pickle is data: the per-subject dicts of a metrics pickle are keyed
//! by original subject codes. An error path therefore shows a key's text only when that text
//! names part of the expected layout: a segment of a selected path, or one of the schema keys
//! the caller gives ([`Decoder::schema_keys`](crate::Decoder::schema_keys)). Integer and
//! bool keys follow the same rule by their decimal text or `True`/`False`. Every other key
//! reads `<key #i>`, the i-th key pickled into its dict (from 0), or `<key>` inside a
//! subtree that selective decoding steps over, whose keys are not counted.

use std::borrow::Cow;

use crate::select::Key;
use crate::value::{ScalarValue, Value};

/// The key texts an error path may show: looked up only when an error is named, so a
/// decode that succeeds pays nothing for them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyNames<'d> {
    paths: &'d [String],
    schema: &'d [String],
}

impl<'d> KeyNames<'d> {
    /// The segments of the selected `paths` plus the caller's `schema` keys.
    pub(crate) fn new(paths: &'d [String], schema: &'d [String]) -> Self {
        KeyNames { paths, schema }
    }

    fn known(&self, text: &str) -> bool {
        self.schema.iter().any(|k| k == text)
            || self
                .paths
                .iter()
                .any(|p| !p.is_empty() && p.split('.').any(|s| s == text))
    }

    /// The path segment of `key`, the `position`-th key of its dict (`None` when not known).
    pub(crate) fn segment(&self, key: Option<Key<'_>>, position: Option<usize>) -> String {
        let text: Option<Cow<'_, str>> = match key {
            Some(Key::Str(s)) => Some(Cow::Borrowed(s)),
            Some(Key::Int(i)) => Some(Cow::Owned(i.to_string())),
            Some(Key::Bool(b)) => Some(Cow::Borrowed(if b { "True" } else { "False" })),
            Some(Key::Other) | None => None,
        };
        match (text, position) {
            (Some(t), _) if self.known(&t) => t.into_owned(),
            (_, Some(i)) => format!("<key #{i}>"),
            (_, None) => "<key>".to_owned(),
        }
    }
}

/// The path-matching view of a decoded dict key.
pub(crate) fn value_key<'v>(key: &'v Value<'_>) -> Key<'v> {
    match key {
        Value::Str(s) => Key::Str(s),
        Value::Int(i) => Key::Int((*i).into()),
        Value::Bool(b) => Key::Bool(*b),
        Value::Scalar(s) => match s.value() {
            ScalarValue::Int(i) => Key::Int(i.into()),
            ScalarValue::UInt(u) => Key::Int(u.into()),
            ScalarValue::Bool(b) => Key::Bool(b),
            ScalarValue::Float(_) => Key::Other,
        },
        _ => Key::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_layout_names_are_shown() {
        let paths = ["subjectwise_stats.test".to_owned(), String::new()];
        let schema = ["preds_dict".to_owned(), "1".to_owned()];
        let names = KeyNames::new(&paths, &schema);
        let show = |key, position| names.segment(Some(key), position);
        assert_eq!(show(Key::Str("test"), Some(2)), "test");
        assert_eq!(show(Key::Str("preds_dict"), None), "preds_dict");
        assert_eq!(show(Key::Int(1), Some(0)), "1");
        assert_eq!(show(Key::Str("PLR1639"), Some(7)), "<key #7>");
        assert_eq!(show(Key::Int(1639), None), "<key>");
        assert_eq!(show(Key::Bool(true), Some(0)), "<key #0>");
        assert_eq!(show(Key::Other, Some(3)), "<key #3>");
        assert_eq!(names.segment(None, None), "<key>");
        assert_eq!(
            show(Key::Str(""), Some(1)),
            "<key #1>",
            "the empty path adds nothing"
        );
    }
}
