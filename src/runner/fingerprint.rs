//! A step's key: everything that decides whether its last result still holds.
//!
//! | in the key | why |
//! |---|---|
//! | the step's code version (tool version + step revision) | new code may compute differently |
//! | the config keys whose values change what the step writes, as canonical JSON | a changed setting changes results |
//! | each input's SHA-256 (by relative name) | content, never modification times |
//! | for `extract`, the experiment's id and name, each run's metadata and its pickle's input digest | what the checkpoint holds: an edit elsewhere in a pickle changes no row |
//! | for a figure, the `analysis` settings its code names; for the tables, all but those only figures read | a setting reruns the steps that read it, not every analysis step |
//!
//! Left out on purpose: absolute paths (moving the project keeps the cache), modification
//! times (a `touch` changes nothing), the number of jobs (output is the same at any `-j`),
//! settings that decide whether or how a step runs but not what it writes
//! (`selection.max_failed_runs`, and the retries, timeouts and lock of the `runner`
//! section), and how the store and the experiment are named (`store.tracking_uri`,
//! `--tracking-uri`, `store.experiment`): the experiment and its runs are keyed by what they
//! hold.
//!
//! The commands that run steps (`extract`, `analyze`, `reproduce`) print each step's key as
//! JSON with `-vv`; the key of a step's last success is kept in its record
//! ([`crate::runner::record`]), and [`compare`] explains a mismatch.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::base::hashing::hex;

/// What a step's result depends on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepKey {
    /// Step name.
    pub step: String,
    /// Code version of the step.
    pub code_version: String,
    /// Config keys the step reads → canonical JSON of their values.
    pub config: BTreeMap<String, String>,
    /// Input name → content digest.
    pub inputs: BTreeMap<String, String>,
}

impl StepKey {
    /// A key for `step` at the tool's version plus the step's own revision.
    pub fn new(step: &str, revision: u32) -> Self {
        Self {
            step: step.into(),
            code_version: format!("{}+{revision}", env!("CARGO_PKG_VERSION")),
            ..Default::default()
        }
    }

    /// Records a config value read by the step.
    pub fn config(&mut self, key: &str, value: &impl Serialize) {
        let text =
            serde_json::to_string(value).unwrap_or_else(|e| format!("<unserializable: {e}>"));
        self.config.insert(key.into(), text);
    }

    /// Records an input's digest.
    pub fn input(&mut self, name: impl Into<String>, digest: impl Into<String>) {
        self.inputs.insert(name.into(), digest.into());
    }

    /// SHA-256 of the key's canonical JSON.
    pub fn digest(&self) -> String {
        let json = serde_json::to_vec(self).expect("a key serializes");
        hex(&Sha256::digest(json))
    }
}

/// Why a step must run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StaleReason {
    /// `--force` or `--force-step`.
    Forced,
    /// No successful run is recorded.
    NeverRan,
    /// The step's code changed.
    CodeChanged {
        /// Recorded version.
        old: String,
        /// Current version.
        new: String,
    },
    /// A config key it reads changed.
    ConfigChanged {
        /// The dotted key.
        key: String,
        /// Recorded value (JSON), if any.
        old: Option<String>,
        /// Current value (JSON), if any.
        new: Option<String>,
    },
    /// An input's content changed.
    InputChanged {
        /// Input name.
        input: String,
        /// Recorded digest.
        old: String,
        /// Current digest.
        new: String,
    },
    /// A new input appeared.
    InputAdded {
        /// Input name.
        input: String,
    },
    /// An input disappeared.
    InputRemoved {
        /// Input name.
        input: String,
    },
    /// An output is gone.
    OutputMissing {
        /// The output.
        path: String,
    },
    /// An output was changed after the step wrote it.
    OutputModified {
        /// The output.
        path: String,
    },
}

fn short(d: &str) -> &str {
    &d[..d.len().min(12)]
}

fn clip(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s.to_string()
    }
}

impl fmt::Display for StaleReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Forced => write!(f, "forced"),
            Self::NeverRan => write!(f, "no successful run recorded"),
            Self::CodeChanged { old, new } => write!(f, "code changed ({old} → {new})"),
            Self::ConfigChanged { key, old, new } => write!(
                f,
                "config key `{key}` changed ({} → {})",
                old.as_deref().map_or("unset".into(), clip),
                new.as_deref().map_or("unset".into(), clip)
            ),
            Self::InputChanged { input, old, new } => write!(
                f,
                "input `{input}` changed ({} → {})",
                short(old),
                short(new)
            ),
            Self::InputAdded { input } => write!(f, "input `{input}` is new"),
            Self::InputRemoved { input } => write!(f, "input `{input}` was removed"),
            Self::OutputMissing { path } => write!(f, "output `{path}` is missing"),
            Self::OutputModified { path } => {
                write!(f, "output `{path}` was modified after it was written")
            }
        }
    }
}

/// Every difference between the recorded key and the current one.
pub fn compare(old: &StepKey, new: &StepKey) -> Vec<StaleReason> {
    let mut out = Vec::new();
    if old.code_version != new.code_version {
        out.push(StaleReason::CodeChanged {
            old: old.code_version.clone(),
            new: new.code_version.clone(),
        });
    }
    for key in old
        .config
        .keys()
        .chain(new.config.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let (o, n) = (old.config.get(key), new.config.get(key));
        if o != n {
            out.push(StaleReason::ConfigChanged {
                key: key.clone(),
                old: o.cloned(),
                new: n.cloned(),
            });
        }
    }
    for (input, digest) in &new.inputs {
        match old.inputs.get(input) {
            None => out.push(StaleReason::InputAdded {
                input: input.clone(),
            }),
            Some(o) if o != digest => out.push(StaleReason::InputChanged {
                input: input.clone(),
                old: o.clone(),
                new: digest.clone(),
            }),
            _ => {}
        }
    }
    for input in old.inputs.keys().filter(|i| !new.inputs.contains_key(*i)) {
        out.push(StaleReason::InputRemoved {
            input: input.clone(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> StepKey {
        let mut k = StepKey::new("extract", 1);
        k.config("test_bootstrap.seed", &0);
        k.input("runs/abc", "1111");
        k
    }

    #[test]
    fn same_key_has_no_reason() {
        assert!(compare(&key(), &key()).is_empty());
        assert_eq!(key().digest(), key().digest());
    }

    #[test]
    fn each_change_has_its_reason() {
        let old = key();
        let mut new = key();
        new.code_version = "9.9.9+1".into();
        new.config("test_bootstrap.seed", &2);
        new.input("runs/abc", "2222");
        new.input("runs/new", "3333");
        let reasons: Vec<String> = compare(&old, &new)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            reasons,
            [
                format!("code changed ({} → 9.9.9+1)", old.code_version),
                "config key `test_bootstrap.seed` changed (0 → 2)".to_string(),
                "input `runs/abc` changed (1111 → 2222)".to_string(),
                "input `runs/new` is new".to_string(),
            ]
        );
        let mut gone = key();
        gone.inputs.clear();
        assert_eq!(
            compare(&old, &gone),
            [StaleReason::InputRemoved {
                input: "runs/abc".into()
            }]
        );
    }
}
