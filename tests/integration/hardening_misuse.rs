//! Misuse, as a careless or hostile user would try it: `clean` pointed at what it must not
//! delete, two mlrepros on one checkpoint, and run names written to break LaTeX, the terminal
//! or the artifact directory. This module holds what they share: a project on its own copy
//! of the fixture store, and `stderr` as text.

mod clean;
mod locks;
mod run_names;

use std::fs::File;
use std::path::Path;
use std::process::Output;

use crate::support::{mlrepro, ProjectConfig};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A project reading its own copy of the fixture file store; `cache_dir` is the config's.
struct StoreProject {
    dir: tempfile::TempDir,
}

impl StoreProject {
    fn new() -> Self {
        let p = StoreProject {
            dir: tempfile::tempdir().unwrap(),
        };
        p.config("c.yaml", "cache");
        p
    }

    /// Writes a config `name` whose cache directory is `cache_dir`.
    fn config(&self, name: &str, cache_dir: &str) {
        ProjectConfig::fixture_store_copy()
            .max_failed_runs(10)
            .cache_dir(cache_dir)
            .write_in(self.path(), name);
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut full = vec!["-c", "c.yaml"];
        full.extend_from_slice(args);
        mlrepro(self.path()).args(&full).output().unwrap()
    }

    /// Holds the checkpoint's lock file as another process would (shared or not).
    fn hold_checkpoint_lock(&self, shared: bool) -> File {
        let file = File::options()
            .read(true)
            .write(true)
            .open(self.path().join("public/.mlrepro.lock"))
            .expect("the extraction created the checkpoint's lock file");
        if shared {
            file.lock_shared().unwrap();
        } else {
            file.lock().unwrap();
        }
        file
    }
}
