//! Anonymous subject codes: label prefix + number, numbered in the order of a keyed hash.
//!
//! Codes are numbered per label prefix in the order of HMAC-SHA256(secret, original code), so
//! the numbering reveals nothing about the originals (sorted order would be invertible by
//! anyone who knows the set of codes). The same secret and subject set give the same codes.
//! Every code written to a public row comes from [`CodeMap::anonymous`], which fails closed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::db::digest::hex;
use crate::fsx;

/// The secret key of the keyed hash, with where it came from.
#[derive(Debug, Clone)]
pub struct Secret {
    key: Vec<u8>,
    /// The file it was read from.
    pub source: PathBuf,
}

impl Secret {
    /// Reads the secret from `file`, or, when no file is configured, from
    /// `<private_dir>/anonymization_secret`, creating it (0600, random 256 bits) on first use.
    pub fn load_or_create(file: Option<&Path>, private_dir: &Path) -> Result<Secret> {
        let path = match file {
            Some(f) => f.to_path_buf(),
            None => {
                let p = private_dir.join("anonymization_secret");
                if !p.exists() {
                    create_private_dir(private_dir)?;
                    let mut bytes = [0u8; 32];
                    getrandom::fill(&mut bytes)
                        .map_err(|e| anyhow!("cannot draw a random secret: {e}"))?;
                    fsx::write_atomic_mode(&p, format!("{}\n", hex(&bytes)).as_bytes(), 0o600)?;
                }
                p
            }
        };
        let text = fsx::read_to_string(&path).context("cannot read the anonymization secret")?;
        let key = text.trim();
        if key.len() < 16 {
            bail!(
                "the anonymization secret in `{}` is shorter than 16 characters",
                path.display()
            );
        }
        Ok(Secret {
            key: key.as_bytes().to_vec(),
            source: path,
        })
    }

    /// The keyed pseudonym of an original code: hex HMAC-SHA256. Safe to store in caches.
    pub fn pseudonym(&self, original: &str) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(original.as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    /// A fingerprint of the secret that reveals nothing about it, for cache keys.
    pub fn fingerprint(&self) -> String {
        self.pseudonym("mlrepro secret fingerprint")[..16].to_string()
    }
}

/// Creates the private directory with mode 0700.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    fsx::create_dir_all(dir)?;
    fsx::set_mode(dir, 0o700)
}

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

    fn secret(text: &str) -> Secret {
        Secret {
            key: text.as_bytes().to_vec(),
            source: PathBuf::new(),
        }
    }

    #[test]
    fn pseudonym_is_hmac_sha256_hex() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            secret("Jefe").pseudonym("what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn codes_follow_keyed_order_per_prefix() {
        let s = secret("0123456789abcdef0123");
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

    #[test]
    fn created_secret_is_private_and_stable() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let private = dir.path().join("private");
        let a = Secret::load_or_create(None, &private).unwrap();
        let b = Secret::load_or_create(None, &private).unwrap();
        assert_eq!(a.pseudonym("x"), b.pseudonym("x"));
        let mode = std::fs::metadata(&a.source).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            std::fs::metadata(&private).unwrap().permissions().mode() & 0o777,
            0o700
        );
    }
}
