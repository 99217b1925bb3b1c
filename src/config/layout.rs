//! Where generated outputs may go: [`Settings::check_layout`].
//!
//! mlrepro writes, and `mlrepro clean` removes, files in three directories of its own:
//! `outputs.figures_dir`, `outputs.outputs_dir` and `outputs.cache_dir`. Each must lie inside
//! the project (the current directory) without being the project root, and must not be or
//! contain anything mlrepro reads or must keep: the checkpoint and its companions, the private
//! directory, the store, the secret, the subjects database or the config file. The cache
//! directory must not hold the other two either, since `clean --cache` empties it.
//!
//! Paths are compared where they really lead: made absolute against the current directory,
//! with every symbolic link that exists followed and `.`/`..` applied after it, so a link or a
//! `..` cannot make two paths look apart when they are not.

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use super::{ConfigError, Origin, Settings};

/// The generated-output directories, by config key.
fn generated(settings: &Settings) -> [(&'static str, &Path); 3] {
    let o = &settings.config.outputs;
    [
        ("outputs.figures_dir", &o.figures_dir),
        ("outputs.outputs_dir", &o.outputs_dir),
        ("outputs.cache_dir", &o.cache_dir),
    ]
}

/// Everything a generated-output directory must not be or contain, each with how to name it.
fn protected(settings: &Settings) -> Vec<(String, PathBuf)> {
    let c = &settings.config;
    let db = &c.outputs.db;
    let dir = crate::fsx::parent_dir(db);
    let mut sha = db.as_os_str().to_owned();
    sha.push(".sha256");
    let mut out = vec![
        ("`outputs.db`".to_string(), db.clone()),
        ("the checksum of `outputs.db`".into(), PathBuf::from(sha)),
        (
            "the Parquet copies of `outputs.db`".into(),
            dir.join("parquet"),
        ),
        (
            "the data dictionary of `outputs.db`".into(),
            dir.join("SCHEMA.md"),
        ),
        (
            "`outputs.private_dir`".into(),
            c.outputs.private_dir.clone(),
        ),
        ("the config file".into(), settings.config_path.clone()),
    ];
    if let Some((key, path)) = settings.tracking_uri.as_ref().and_then(|uri| {
        let key = match uri.origin {
            Origin::Flag => "`--tracking-uri`",
            Origin::Config => "`store.tracking_uri`",
            Origin::Env => "`MLFLOW_TRACKING_URI`",
        };
        uri.local_path().map(|p| (key, p))
    }) {
        out.push((format!("the store named by {key}"), path));
    }
    let optional = [
        ("`store.artifact_root`", &c.store.artifact_root),
        ("`anonymization.secret_file`", &c.anonymization.secret_file),
        ("`subjects.database`", &c.subjects.database),
        ("`demo.secret_file`", &c.demo.secret_file),
        ("`demo.subjects_database`", &c.demo.subjects_database),
    ];
    for (key, path) in optional {
        if let Some(p) = path {
            out.push((key.to_string(), p.clone()));
        }
    }
    out
}

impl Settings {
    /// Refuses generated-output directories that leave the project, are its root, or are or
    /// contain a path mlrepro must keep; the error names both keys and both paths.
    pub fn check_layout(&self) -> Result<(), ConfigError> {
        let cwd = std::env::current_dir().map_err(|e| ConfigError::NoProjectDir {
            reason: e.to_string().to_lowercase(),
        })?;
        self.check_layout_in(&cwd)
    }

    fn check_layout_in(&self, cwd: &Path) -> Result<(), ConfigError> {
        let root = resolve(cwd, Path::new("."));
        let shown = |key: &str, path: &Path| {
            let real = resolve(cwd, path);
            if real == lexical(&root, path) {
                format!("`{key}` (`{}`)", path.display())
            } else {
                format!(
                    "`{key}` (`{}`, which leads to `{}`)",
                    path.display(),
                    real.display()
                )
            }
        };
        let unsafe_dir = |key: &str, path: &Path, problem: String| {
            ConfigError::UnsafeOutput(format!("{} {problem}", shown(key, path)))
        };
        let protected: Vec<(String, PathBuf)> = protected(self)
            .into_iter()
            .map(|(name, p)| {
                let real = resolve(cwd, &p);
                (format!("{name} (`{}`)", p.display()), real)
            })
            .collect();
        for (key, dir) in generated(self) {
            let real = resolve(cwd, dir);
            if real == root {
                return Err(unsafe_dir(
                    key,
                    dir,
                    format!("is the project root (`{}`)", root.display()),
                ));
            }
            if !real.starts_with(&root) {
                return Err(unsafe_dir(
                    key,
                    dir,
                    format!(
                        "is outside the project (`{}`): generated outputs stay inside it",
                        root.display()
                    ),
                ));
            }
            for (what, other) in &protected {
                if other.starts_with(&real) {
                    let verb = if *other == real { "is" } else { "contains" };
                    return Err(unsafe_dir(key, dir, format!("{verb} {what}")));
                }
            }
        }
        let cache = &self.config.outputs.cache_dir;
        let cache_real = resolve(cwd, cache);
        for (key, dir) in &generated(self)[..2] {
            let real = resolve(cwd, dir);
            if real.starts_with(&cache_real) {
                let verb = if real == cache_real { "is" } else { "contains" };
                return Err(unsafe_dir(
                    "outputs.cache_dir",
                    cache,
                    format!("{verb} {}", shown(key, dir)),
                ));
            }
        }
        Ok(())
    }
}

/// One step of a path: the root, `..`, or a name.
enum Part {
    Root,
    Up,
    Name(OsString),
}

fn parts(path: &Path) -> Vec<Part> {
    path.components()
        .filter_map(|c| match c {
            Component::RootDir | Component::Prefix(_) => Some(Part::Root),
            Component::CurDir => None,
            Component::ParentDir => Some(Part::Up),
            Component::Normal(n) => Some(Part::Name(n.to_os_string())),
        })
        .collect()
}

/// Symbolic links followed in one path before the rest of it is taken as written (as the
/// kernel's own limit, so a loop ends).
const MAX_LINKS: usize = 40;

/// `path` (relative to `cwd`) where it really leads: each existing symbolic link is replaced
/// by its target before the next step is taken, and `..` goes up from where a link led. The
/// part that does not exist yet is applied as written.
pub(crate) fn resolve(cwd: &Path, path: &Path) -> PathBuf {
    let mut pending = parts(&cwd.join(path));
    pending.reverse();
    let mut out = PathBuf::from("/");
    let mut links = 0;
    while let Some(part) = pending.pop() {
        match part {
            Part::Root => out = PathBuf::from("/"),
            Part::Up => {
                out.pop();
            }
            Part::Name(name) => {
                let next = out.join(&name);
                match std::fs::read_link(&next) {
                    Ok(target) if links < MAX_LINKS => {
                        links += 1;
                        let mut target = parts(&target);
                        target.reverse();
                        pending.extend(target);
                    }
                    _ => out = next,
                }
            }
        }
    }
    out
}

/// `path` (relative to `cwd`) with `.` and `..` applied to the text alone.
fn lexical(cwd: &Path, path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for part in parts(&cwd.join(path)) {
        match part {
            Part::Root => out = PathBuf::from("/"),
            Part::Up => {
                out.pop();
            }
            Part::Name(name) => out.push(name),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Overrides};

    fn settings(yaml: &str) -> Settings {
        let config = Config::parse(yaml, Path::new("c.yaml")).unwrap();
        Settings::resolve(Path::new("c.yaml"), config, Overrides::default(), None)
    }

    fn refusal(yaml: &str, cwd: &Path) -> String {
        settings(yaml)
            .check_layout_in(cwd)
            .expect_err("the layout is refused")
            .to_string()
    }

    #[test]
    fn the_default_layout_is_accepted() {
        let dir = tempfile::tempdir().unwrap();
        settings("").check_layout_in(dir.path()).unwrap();
    }

    #[test]
    fn an_outputs_dir_over_the_checkpoint_names_both_keys() {
        let dir = tempfile::tempdir().unwrap();
        let msg = refusal("outputs:\n  outputs_dir: data/public\n", dir.path());
        assert_eq!(
            msg,
            "unsafe output directory: `outputs.outputs_dir` (`data/public`) contains \
             `outputs.db` (`data/public/results.duckdb`)"
        );
    }

    #[test]
    fn a_dir_that_is_the_private_dir_or_the_root_or_outside_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let msg = refusal("outputs:\n  figures_dir: ./data/private/\n", dir.path());
        assert!(
            msg.contains("`outputs.figures_dir`") && msg.contains("is `outputs.private_dir`"),
            "{msg}"
        );
        let msg = refusal("outputs:\n  cache_dir: .\n", dir.path());
        assert!(msg.contains("is the project root"), "{msg}");
        let msg = refusal("outputs:\n  figures_dir: figures/../..\n", dir.path());
        assert!(msg.contains("outside the project"), "{msg}");
        let msg = refusal("outputs:\n  outputs_dir: /tmp\n", dir.path());
        assert!(msg.contains("outside the project"), "{msg}");
    }

    #[test]
    fn the_store_the_config_and_the_secret_are_protected() {
        let dir = tempfile::tempdir().unwrap();
        let msg = refusal(
            "store:\n  tracking_uri: 'sqlite:///store/mlflow.db'\noutputs:\n  cache_dir: store\n",
            dir.path(),
        );
        assert!(
            msg.contains("the store named by `store.tracking_uri`"),
            "{msg}"
        );
        let msg = refusal("outputs:\n  figures_dir: ''\n", dir.path());
        assert!(msg.contains("project root"), "{msg}");
        let msg = refusal(
            "anonymization:\n  secret_file: keys/secret\noutputs:\n  outputs_dir: keys\n",
            dir.path(),
        );
        assert!(msg.contains("`anonymization.secret_file`"), "{msg}");
    }

    #[test]
    fn a_cache_dir_holding_the_figures_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let msg = refusal(
            "outputs:\n  cache_dir: build\n  figures_dir: build/figures\n",
            dir.path(),
        );
        assert!(
            msg.contains("`outputs.cache_dir` (`build`) contains `outputs.figures_dir`"),
            "{msg}"
        );
    }

    #[test]
    fn a_symlink_cannot_hide_the_checkpoint_dir() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("data/public")).unwrap();
        std::os::unix::fs::symlink(root.join("data/public"), root.join("out")).unwrap();
        let msg = refusal("outputs:\n  outputs_dir: out\n", &root);
        assert!(
            msg.contains("which leads to") && msg.contains("contains `outputs.db`"),
            "{msg}"
        );
        // `..` after a link goes up from where the link led, not from the link.
        std::fs::create_dir_all(root.join("deep/er")).unwrap();
        std::os::unix::fs::symlink(root.join("deep/er"), root.join("data/link")).unwrap();
        assert_eq!(
            resolve(&root, Path::new("data/link/../x")),
            root.join("deep/x")
        );
    }

    #[test]
    fn a_symlink_loop_ends() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::os::unix::fs::symlink(root.join("b"), root.join("a")).unwrap();
        std::os::unix::fs::symlink(root.join("a"), root.join("b")).unwrap();
        let _ = resolve(&root, Path::new("a/x"));
    }
}
