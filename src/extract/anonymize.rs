//! Anonymous subject codes: label prefix + number, numbered in the order of a keyed hash.
//!
//! Codes are numbered per label prefix in the order of HMAC-SHA256(secret, original code), so
//! the numbering reveals nothing about the originals (sorted order would be invertible by
//! anyone who knows the set of codes). The same secret and subject set give the same codes.
//! Every code written to a public row comes from [`CodeMap::anonymous`], which fails closed.
//! The secret itself is [`super::secret::Secret`].

use std::collections::BTreeMap;

use anyhow::{anyhow, bail, Result};

/// One subject as seen in a run.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Subject {
    /// Keyed pseudonym of the original code.
    pub pseudonym: String,
    /// The subject's label.
    pub label: i64,
}

/// The mapping from pseudonyms to anonymous codes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CodeMap {
    by_pseudonym: BTreeMap<String, String>,
}

impl CodeMap {
    /// Numbers every subject: per label prefix, in pseudonym order, from 1, zero-padded to at
    /// least 3 digits. A subject seen with two labels, or a label without a prefix, fails.
    pub fn assign(
        subjects: impl IntoIterator<Item = Subject>,
        prefixes: &BTreeMap<i64, String>,
    ) -> Result<CodeMap> {
        let mut label_of: BTreeMap<String, i64> = BTreeMap::new();
        for s in subjects {
            match label_of.get(&s.pseudonym) {
                Some(&l) if l != s.label => {
                    bail!(
                        "subject `{}` (keyed pseudonym) has label {l} in one run and {} in another",
                        &s.pseudonym[..12],
                        s.label
                    )
                }
                _ => {
                    label_of.insert(s.pseudonym, s.label);
                }
            }
        }
        let mut by_prefix: BTreeMap<&str, Vec<&String>> = BTreeMap::new();
        for (pseudonym, label) in &label_of {
            let prefix = prefixes.get(label).ok_or_else(|| {
                anyhow!(
                    "label {label} has no anonymous-code prefix (`anonymization.label_prefixes`)"
                )
            })?;
            by_prefix.entry(prefix).or_default().push(pseudonym);
        }
        let mut by_pseudonym = BTreeMap::new();
        for (prefix, members) in by_prefix {
            let width = members.len().to_string().len().max(3);
            for (i, pseudonym) in members.into_iter().enumerate() {
                by_pseudonym.insert(pseudonym.clone(), format!("{prefix}{:0width$}", i + 1));
            }
        }
        Ok(CodeMap { by_pseudonym })
    }

    /// The anonymous code of a subject; an unknown subject is an error (fail closed).
    pub fn anonymous(&self, pseudonym: &str) -> Result<&str> {
        self.by_pseudonym
            .get(pseudonym)
            .map(String::as_str)
            .ok_or_else(|| anyhow!("a subject has no anonymous code; refusing to write it"))
    }

    /// All (pseudonym, anonymous code) pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.by_pseudonym
            .iter()
            .map(|(p, a)| (p.as_str(), a.as_str()))
    }

    /// Number of subjects.
    pub fn len(&self) -> usize {
        self.by_pseudonym.len()
    }

    /// Whether no subject is mapped.
    pub fn is_empty(&self) -> bool {
        self.by_pseudonym.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::secret::Secret;

    #[test]
    fn codes_follow_keyed_order_per_prefix() {
        let s = Secret::from_key("0123456789abcdef0123");
        let prefixes = BTreeMap::from([(0, "H".to_string()), (1, "G".to_string())]);
        let originals = [
            ("PLR1001", 0),
            ("PLR1002", 0),
            ("PLR1003", 0),
            ("PLR4001", 1),
        ];
        let subjects = originals.iter().map(|(c, l)| Subject {
            pseudonym: s.pseudonym(c),
            label: *l,
        });
        let map = CodeMap::assign(subjects, &prefixes).unwrap();
        let mut controls: Vec<_> = originals[..3].iter().map(|(c, _)| s.pseudonym(c)).collect();
        controls.sort();
        for (i, p) in controls.iter().enumerate() {
            assert_eq!(map.anonymous(p).unwrap(), format!("H{:03}", i + 1));
        }
        assert_eq!(map.anonymous(&s.pseudonym("PLR4001")).unwrap(), "G001");
        assert!(map.anonymous(&s.pseudonym("PLR9999")).is_err());
    }

    #[test]
    fn width_grows_past_999() {
        let prefixes = BTreeMap::from([(0, "H".to_string())]);
        let subjects = (0..1000).map(|i| Subject {
            pseudonym: format!("{i:08}"),
            label: 0,
        });
        let map = CodeMap::assign(subjects, &prefixes).unwrap();
        assert_eq!(map.anonymous("00000000").unwrap(), "H0001");
    }

    #[test]
    fn conflicting_labels_fail() {
        let prefixes = BTreeMap::from([(0, "H".to_string()), (1, "G".to_string())]);
        let subjects = [
            Subject {
                pseudonym: "ab".repeat(8),
                label: 0,
            },
            Subject {
                pseudonym: "ab".repeat(8),
                label: 1,
            },
        ];
        assert!(CodeMap::assign(subjects, &prefixes).is_err());
    }
}
