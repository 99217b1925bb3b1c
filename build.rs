//! Records the git commit the binary is built from, for `mlrepro --version`.
//!
//! Sets `MLREPRO_GIT_COMMIT` to `git rev-parse --short=12 HEAD`, or to `unknown` outside a git
//! checkout (a crate tarball, an sdist) or without git. A value already set in the environment
//! wins, so a packager can pass the commit in. Only the `mlrepro` crate depends on this script:
//! no dependency is rebuilt when the commit changes.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=MLREPRO_GIT_COMMIT");
    let commit = match std::env::var("MLREPRO_GIT_COMMIT") {
        Ok(given) if !given.trim().is_empty() => given.trim().to_string(),
        _ => git_commit().unwrap_or_else(|| "unknown".to_string()),
    };
    println!("cargo:rustc-env=MLREPRO_GIT_COMMIT={commit}");
}

/// The short HEAD commit, after asking cargo to rerun this script when HEAD moves.
fn git_commit() -> Option<String> {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR")?);
    // Only a checkout of this very crate counts: a crate unpacked inside some other repository
    // must not report that repository's commit.
    let top = git(&root, &["rev-parse", "--show-toplevel"])?;
    if !same_dir(Path::new(&top), &root) {
        return None;
    }
    // `--git-path` resolves the files wherever they live: in a worktree, `.git` is a file and
    // HEAD sits in `.git/worktrees/NAME/` while the branch refs sit in the main `.git/`.
    let mut watched = vec!["HEAD".to_string(), "packed-refs".to_string()];
    if let Some(branch) = git(&root, &["symbolic-ref", "-q", "HEAD"]) {
        watched.push(branch);
    }
    for name in &watched {
        if let Some(path) = git(&root, &["rev-parse", "--git-path", name]) {
            let path = root.join(path);
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    git(&root, &["rev-parse", "--short=12", "HEAD"])
}

/// Runs `git ARGS` in `dir` and returns its trimmed stdout, or `None` if it fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}

/// Whether `a` and `b` name the same directory (after resolving links).
fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
