//! The anonymization secret: the key of the keyed hash that orders anonymous codes and makes
//! the pseudonyms of the per-run cache.
//!
//! A secret is private unless its file says otherwise. A *public* secret (the demo's,
//! committed so that its checkpoint can be re-derived on any clone) names the one store it
//! may anonymize in comment lines above the key:
//!
//! ```text
//! # public-for-experiment: 728524907842658766
//! # public-for-run: 1d5b5f1b7c2e4c3f9d0a8b6e5f4c3b2a
//! # public-for-run: …
//! d3e826a9917581413abe6592b8b8cbaa42508f6f8ba8dfb79ea74410ba042a8f
//! ```
//!
//! [`Secret::check_scope`] refuses it for any other experiment, or for an experiment that
//! holds a run it does not name, since anyone could recompute the numbering of such a store.
//! The private secret lives in the private directory, is created with `O_EXCL` only when it
//! does not exist (any other error, such as a permission denied or a stale NFS handle, stops
//! the run rather than renumbering every subject), and is refused, like an ssh key, when the
//! file or the directory is open to group or others.

use std::collections::BTreeSet;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::base::hashing::hex;
use crate::fsx;
use crate::ui::sanitize::shell_word;

/// File name of the private secret inside the private directory.
pub const SECRET_FILE: &str = "anonymization_secret";

const EXPERIMENT_LINE: &str = "public-for-experiment:";
const RUN_LINE: &str = "public-for-run:";

/// The secret key of the keyed hash, with where it came from.
#[derive(Debug, Clone)]
pub struct Secret {
    key: Vec<u8>,
    /// The file it was read from.
    pub source: PathBuf,
    /// The store a public secret is for; `None` for a private secret.
    pub public_scope: Option<PublicScope>,
}

/// The one store a public secret may anonymize.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicScope {
    /// The experiment id.
    pub experiment_id: String,
    /// Every run id the secret was published with.
    pub run_ids: BTreeSet<String>,
}

/// Why a public secret does not fit a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutOfScope {
    /// The store's experiment is another one.
    OtherExperiment,
    /// The experiment is the secret's, but holds runs the secret was not published with.
    ForeignRuns(usize),
}

impl Secret {
    /// Reads a secret file: optional `#` lines (a public secret's scope), then the key.
    pub fn read(path: &Path) -> Result<Secret> {
        let text = fsx::read_to_string(path).context("cannot read the anonymization secret")?;
        Self::parse(&text, path)
    }

    fn parse(text: &str, path: &Path) -> Result<Secret> {
        let mut experiment = None;
        let mut run_ids = BTreeSet::new();
        let mut keys = Vec::new();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            match line.strip_prefix('#').map(str::trim) {
                Some(c) => {
                    if let Some(id) = c.strip_prefix(EXPERIMENT_LINE) {
                        experiment = Some(id.trim().to_string());
                    } else if let Some(id) = c.strip_prefix(RUN_LINE) {
                        run_ids.insert(id.trim().to_string());
                    }
                }
                None => keys.push(line),
            }
        }
        let key = match keys.as_slice() {
            [key] => *key,
            [] => bail!("the anonymization secret `{}` holds no key", path.display()),
            _ => bail!(
                "the anonymization secret `{}` holds {} key lines; it must hold one",
                path.display(),
                keys.len()
            ),
        };
        if key.len() < 16 {
            bail!(
                "the anonymization secret in `{}` is shorter than 16 characters",
                path.display()
            );
        }
        let public_scope = match (experiment, run_ids.is_empty()) {
            (Some(experiment_id), _) => Some(PublicScope {
                experiment_id,
                run_ids,
            }),
            (None, true) => None,
            (None, false) => bail!(
                "the anonymization secret `{}` names runs but no `# {EXPERIMENT_LINE}` line",
                path.display()
            ),
        };
        Ok(Secret {
            key: key.as_bytes().to_vec(),
            source: path.to_path_buf(),
            public_scope,
        })
    }

    /// The private secret `<private_dir>/anonymization_secret`, or `None` when it does not
    /// exist. Any other failure to read it, a public scope in it, or a file or directory
    /// open to group or others is an error that names the path.
    pub fn load_private(private_dir: &Path) -> Result<Option<Secret>> {
        let path = private_dir.join(SECRET_FILE);
        let meta = match std::fs::metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(anyhow::Error::from(e).context(format!(
                    "cannot read the anonymization secret `{}`; it is not replaced, since a new secret would renumber every subject",
                    path.display()
                )))
            }
        };
        check_private_dir(private_dir)?;
        check_private_mode(&path, meta.permissions().mode(), 0o600)?;
        let secret = Self::read(&path)?;
        if secret.public_scope.is_some() {
            bail!(
                "`{}` is a public secret; the private directory must hold a private one",
                path.display()
            );
        }
        Ok(Some(secret))
    }

    /// Creates the private secret (256 random bits, mode 0600) in `private_dir`, which is
    /// created with mode 0700; fails if the file already exists.
    pub fn create_private(private_dir: &Path) -> Result<Secret> {
        create_private_dir(private_dir)?;
        let path = private_dir.join(SECRET_FILE);
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| anyhow!("cannot draw a random secret: {e}"))?;
        let text = format!("{}\n", hex(&bytes));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| {
                format!(
                    "cannot create the anonymization secret `{}`",
                    path.display()
                )
            })?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .with_context(|| {
                format!("cannot write the anonymization secret `{}`", path.display())
            })?;
        if let Ok(dir) = std::fs::File::open(private_dir) {
            let _ = dir.sync_all();
        }
        Self::parse(&text, &path)
    }

    /// The private secret of `private_dir`, created on first use.
    pub fn load_or_create_private(private_dir: &Path) -> Result<Secret> {
        match Self::load_private(private_dir)? {
            Some(secret) => Ok(secret),
            None => Self::create_private(private_dir),
        }
    }

    /// Whether this secret may anonymize the experiment `experiment_id` holding `run_ids`:
    /// a private secret may anonymize any store, a public one only its own.
    pub fn check_scope<'r>(
        &self,
        experiment_id: &str,
        run_ids: impl IntoIterator<Item = &'r str>,
    ) -> Result<(), OutOfScope> {
        let Some(scope) = &self.public_scope else {
            return Ok(());
        };
        if scope.experiment_id != experiment_id {
            return Err(OutOfScope::OtherExperiment);
        }
        let foreign = run_ids
            .into_iter()
            .filter(|id| !scope.run_ids.contains(*id))
            .count();
        match foreign {
            0 => Ok(()),
            n => Err(OutOfScope::ForeignRuns(n)),
        }
    }

    /// The keyed pseudonym of an original code: hex HMAC-SHA256. Safe to store in caches.
    pub fn pseudonym(&self, original: &str) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(original.as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    /// A keyed MAC (HMAC-SHA256 with the secret) that the caller feeds, hex-encoded: a digest
    /// of private data that is safe to store where a plain hash of it would not be.
    pub fn keyed_digest(&self, feed: impl FnOnce(&mut dyn FnMut(&[u8]))) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        feed(&mut |bytes: &[u8]| mac.update(bytes));
        hex(&mac.finalize().into_bytes())
    }

    /// A fingerprint of the secret that reveals nothing about it, for cache keys.
    pub fn fingerprint(&self) -> String {
        self.pseudonym("mlrepro secret fingerprint")[..16].to_string()
    }

    /// A secret with the given key, for tests.
    #[cfg(test)]
    pub fn from_key(key: &str) -> Secret {
        Secret {
            key: key.as_bytes().to_vec(),
            source: PathBuf::new(),
            public_scope: None,
        }
    }
}

/// Creates the private directory with mode 0700 (and tightens an existing one that mlrepro
/// is about to fill for the first time).
pub fn create_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return check_private_dir(dir);
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        fsx::create_dir_all(parent)?;
    }
    // Created with its mode, so no other thread or process ever sees it open to others;
    // one that created it first is fine.
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => check_private_dir(dir),
        Err(e) => Err(anyhow::Error::from(e).context(format!(
            "cannot create the private directory `{}`",
            dir.display()
        ))),
    }
}

/// Refuses a private directory that group or others may enter or read.
pub fn check_private_dir(dir: &Path) -> Result<()> {
    let meta = std::fs::metadata(dir)
        .with_context(|| format!("cannot read the private directory `{}`", dir.display()))?;
    check_private_mode(dir, meta.permissions().mode(), 0o700)
}

/// Refuses a private file or directory whose mode gives group or others any access.
pub fn check_private_mode(path: &Path, mode: u32, wanted: u32) -> Result<()> {
    if mode & 0o077 == 0 {
        return Ok(());
    }
    bail!(
        "`{}` is private but open to group or others (mode {:04o}); run `chmod {wanted:o} {}` and retry",
        path.display(),
        mode & 0o7777,
        shell_word(&path.display().to_string())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_creating_the_private_dir_at_once_all_succeed() {
        for _ in 0..20 {
            let root = tempfile::tempdir().unwrap();
            let dir = root.path().join("data/private");
            let ok = std::thread::scope(|s| {
                let handles: Vec<_> = (0..8)
                    .map(|_| s.spawn(|| create_private_dir(&dir).is_ok()))
                    .collect();
                handles.into_iter().all(|h| h.join().unwrap())
            });
            assert!(ok, "a thread saw the directory half made");
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700);
        }
    }

    #[test]
    fn pseudonym_is_hmac_sha256_hex() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            Secret::from_key("Jefe").pseudonym("what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn created_secret_is_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let private = dir.path().join("private");
        let a = Secret::load_or_create_private(&private).unwrap();
        let b = Secret::load_or_create_private(&private).unwrap();
        assert_eq!(a.pseudonym("x"), b.pseudonym("x"));
        let mode = std::fs::metadata(&a.source).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            std::fs::metadata(&private).unwrap().permissions().mode() & 0o777,
            0o700
        );
        assert!(
            Secret::create_private(&private).is_err(),
            "never overwrites"
        );
    }

    #[test]
    fn an_unreadable_secret_stops_instead_of_being_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let private = dir.path().join("private");
        let first = Secret::load_or_create_private(&private).unwrap();
        // A secret path that cannot be stat'ed for another reason than NotFound: a file
        // where a directory must be (ENOTDIR).
        let blocked = dir.path().join("blocked");
        std::fs::write(&blocked, "not a directory").unwrap();
        let err = Secret::load_private(&blocked).unwrap_err();
        assert!(format!("{err:#}").contains("not replaced"), "{err:#}");
        assert!(!blocked.join(SECRET_FILE).exists());
        let again = Secret::load_or_create_private(&private).unwrap();
        assert_eq!(first.fingerprint(), again.fingerprint());
    }

    #[test]
    fn a_secret_open_to_others_is_refused_with_the_chmod_that_fixes_it() {
        let dir = tempfile::tempdir().unwrap();
        let private = dir.path().join("private");
        let secret = Secret::load_or_create_private(&private).unwrap();
        fsx::set_mode(&secret.source, 0o644).unwrap();
        let err = format!("{:#}", Secret::load_private(&private).unwrap_err());
        assert!(err.contains("chmod 600"), "{err}");
        fsx::set_mode(&secret.source, 0o600).unwrap();
        fsx::set_mode(&private, 0o755).unwrap();
        let err = format!("{:#}", Secret::load_private(&private).unwrap_err());
        assert!(err.contains("chmod 700"), "{err}");
    }

    #[test]
    fn a_public_secret_fits_its_own_store_only() {
        let text = "# a public secret\n# public-for-experiment: 42\n# public-for-run: a\n# public-for-run: b\n0123456789abcdef0123\n";
        let s = Secret::parse(text, Path::new("demo")).unwrap();
        assert_eq!(
            s.pseudonym("x"),
            Secret::from_key("0123456789abcdef0123").pseudonym("x"),
            "the scope lines are not part of the key"
        );
        assert_eq!(s.check_scope("42", ["a", "b"]), Ok(()));
        assert_eq!(s.check_scope("42", ["a"]), Ok(()));
        assert_eq!(s.check_scope("43", ["a"]), Err(OutOfScope::OtherExperiment));
        assert_eq!(
            s.check_scope("42", ["a", "c", "d"]),
            Err(OutOfScope::ForeignRuns(2))
        );
        let private = Secret::parse("0123456789abcdef0123\n", Path::new("p")).unwrap();
        assert_eq!(private.check_scope("anything", ["x"]), Ok(()));
    }
}
