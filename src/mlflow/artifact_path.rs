//! The path of a run's metrics pickle, checked: a run name is text from the store, and
//! substituted into `store.metrics_pickle` it must not lead out of the run's artifact
//! directory ([`Run::pickle_relative`]).

use std::path::{Component, Path};

use super::Run;

/// A metrics-pickle path that a run's name would take out of its artifact directory.
#[derive(Debug, thiserror::Error)]
#[error(
    "the name of run `{run_id}` makes `store.metrics_pickle` a path that {why}; \
     the run's pickle is not read"
)]
pub struct UnsafePicklePath {
    /// The run.
    pub run_id: String,
    /// What is wrong with the path, after "a path that".
    pub why: &'static str,
}

/// Why `relative` is not a path inside an artifact directory, if it is not: empty, absolute,
/// with a `..` component or with a NUL byte.
pub fn check_artifact_path(relative: &str) -> Result<(), &'static str> {
    if relative.is_empty() {
        return Err("is empty");
    }
    if relative.contains('\0') {
        return Err("has a NUL byte");
    }
    for component in Path::new(relative).components() {
        match component {
            Component::RootDir | Component::Prefix(_) => return Err("is absolute"),
            Component::ParentDir => return Err("has a `..` component"),
            Component::CurDir | Component::Normal(_) => {}
        }
    }
    Ok(())
}

impl Run {
    /// The metrics pickle's path relative to the run's artifact directory: `pattern`
    /// (`store.metrics_pickle`) with `{run_name}` replaced by the run's name. Refused when
    /// the result is absolute, has a `..` component or a NUL byte, or, where it exists, leads
    /// out of the artifact directory through a symbolic link.
    pub fn pickle_relative(&self, pattern: &str) -> Result<String, UnsafePicklePath> {
        pickle_relative(
            &self.run_id,
            &self.run_name,
            self.artifact_dir.as_deref(),
            pattern,
        )
    }
}

/// [`Run::pickle_relative`] of the run `run_id` named `run_name`.
fn pickle_relative(
    run_id: &str,
    run_name: &str,
    artifact_dir: Option<&Path>,
    pattern: &str,
) -> Result<String, UnsafePicklePath> {
    let refuse = |why| UnsafePicklePath {
        run_id: run_id.to_string(),
        why,
    };
    let relative = pattern.replace("{run_name}", run_name);
    check_artifact_path(&relative).map_err(refuse)?;
    if let Some(dir) = artifact_dir {
        if !stays_inside(dir, &relative) {
            return Err(refuse(
                "leads out of the run's artifact directory through a symbolic link",
            ));
        }
    }
    Ok(relative)
}

/// Whether `relative` (checked by [`check_artifact_path`]) leads to a place inside `dir`, or
/// to nothing. Without a symbolic link among its components it cannot leave `dir`, which
/// costs one `lstat` per component; only a path through a link is resolved in full.
fn stays_inside(dir: &Path, relative: &str) -> bool {
    let mut current = dir.to_path_buf();
    for component in Path::new(relative).components() {
        current.push(component);
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return match (dir.join(relative).canonicalize(), dir.canonicalize()) {
                    (Ok(file), Ok(dir)) => file.starts_with(dir),
                    _ => true,
                };
            }
            Ok(_) => {}
            Err(_) => return true,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATTERN: &str = "metrics/metrics_{run_name}.pickle";

    fn of(
        name: &str,
        artifact_dir: Option<&Path>,
        pattern: &str,
    ) -> Result<String, UnsafePicklePath> {
        pickle_relative("0123456789abcdef", name, artifact_dir, pattern)
    }

    #[test]
    fn an_ordinary_name_gives_the_pattern_filled_in() {
        assert_eq!(
            of("CATBOOST_eval-auc__a__b__c", None, PATTERN).unwrap(),
            "metrics/metrics_CATBOOST_eval-auc__a__b__c.pickle"
        );
    }

    #[test]
    fn a_name_that_climbs_out_of_the_artifacts_is_refused_without_being_repeated() {
        for (name, pattern, why) in [
            ("x/../../../../etc/x", PATTERN, "has a `..` component"),
            ("..", "{run_name}/m.pickle", "has a `..` component"),
            ("/etc/passwd", "{run_name}", "is absolute"),
            ("a\0b", PATTERN, "has a NUL byte"),
            ("", "{run_name}", "is empty"),
        ] {
            let err = of(name, None, pattern).unwrap_err();
            assert_eq!(err.why, why, "{name:?}");
            let msg = err.to_string();
            assert!(
                msg.contains("`0123456789abcdef`") && msg.contains("`store.metrics_pickle`"),
                "{msg}"
            );
            assert!(name.len() <= 2 || !msg.contains(name), "{msg}");
        }
    }

    #[test]
    fn a_symbolic_link_out_of_the_artifacts_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let artifacts = dir.path().join("run/artifacts");
        std::fs::create_dir_all(artifacts.join("metrics")).unwrap();
        std::fs::write(dir.path().join("secret.pickle"), b"x").unwrap();
        std::os::unix::fs::symlink(
            dir.path().join("secret.pickle"),
            artifacts.join("metrics/metrics_r.pickle"),
        )
        .unwrap();
        let err = of("r", Some(&artifacts), PATTERN).unwrap_err();
        assert!(err.why.contains("symbolic link"), "{err}");
        // A link that stays inside is followed.
        std::fs::write(artifacts.join("real.pickle"), b"x").unwrap();
        std::os::unix::fs::symlink(
            artifacts.join("real.pickle"),
            artifacts.join("metrics/metrics_s.pickle"),
        )
        .unwrap();
        of("s", Some(&artifacts), PATTERN).unwrap();
    }

    #[test]
    fn a_linked_directory_out_of_the_artifacts_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("metrics_r.pickle"), b"x").unwrap();
        let artifacts = dir.path().join("run/artifacts");
        std::fs::create_dir_all(&artifacts).unwrap();
        std::os::unix::fs::symlink(&outside, artifacts.join("metrics")).unwrap();
        let err = of("r", Some(&artifacts), PATTERN).unwrap_err();
        assert!(err.why.contains("symbolic link"), "{err}");
        // A pickle that does not exist yet is not refused: there is nothing to follow.
        std::fs::remove_file(artifacts.join("metrics")).unwrap();
        of("r", Some(&artifacts), PATTERN).unwrap();
    }
}
