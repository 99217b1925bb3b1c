//! Promoting a checkpoint set (the database, its `.sha256`, `parquet/` and `SCHEMA.md`) as one
//! unit, and recovering from a promotion that a kill interrupted.
//!
//! Every new member is first written completely under a temporary name in the checkpoint's
//! directory and flushed to disk. Then a journal (`.<db>.promote`) listing each temporary
//! name and its final name is written atomically: that is the commit point. The renames
//! follow, then the journal is removed. A process killed before the journal leaves only
//! temporary files, which the next writer sweeps away; one killed after it leaves a journal,
//! which the next writer rolls forward, so the set is either wholly old or wholly new.
//! Directories are flushed after each stage. Only the holder of the project's lock may call
//! [`recover`], since it removes temporary files.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::base::fault;
use crate::fsx;

/// One member of the set: a temporary name and the final name, both in the set's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// File or directory name of the finished temporary copy.
    pub temporary: String,
    /// The name it takes.
    pub target: String,
}

/// The journal of a promotion in `dir` for the database named `db_name`.
pub fn journal_path(dir: &Path, db_name: &str) -> PathBuf {
    dir.join(format!(".{db_name}.promote"))
}

/// Promotes `members` (all in `dir`) as one unit: journal, renames, journal removed.
pub fn promote(dir: &Path, db_name: &str, members: &[Member]) -> Result<()> {
    sync_dir(dir)?;
    fault::pause_point("extract", "before-journal");
    let journal = journal_path(dir, db_name);
    let text: String = members
        .iter()
        .map(|m| format!("{}\t{}\n", m.temporary, m.target))
        .collect();
    fsx::write_atomic(&journal, text.as_bytes())?;
    sync_dir(dir)?;
    fault::pause_point("extract", "after-journal");
    roll_forward(dir, members)?;
    remove_journal(dir, &journal)
}

/// Finishes an interrupted promotion in `dir` (if its journal is there) and removes the
/// temporary files that interrupted writers left; returns whether a promotion was finished.
pub fn recover(dir: &Path, db_name: &str) -> Result<bool> {
    let journal = journal_path(dir, db_name);
    let finished = match std::fs::read_to_string(&journal) {
        Ok(text) => {
            let members = parse_journal(&text, &journal)?;
            roll_forward(dir, &members)?;
            remove_journal(dir, &journal)?;
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => {
            return Err(anyhow::Error::from(e).context(format!(
                "cannot read the promotion journal `{}`",
                journal.display()
            )))
        }
    };
    sweep(dir, db_name)?;
    Ok(finished)
}

fn parse_journal(text: &str, journal: &Path) -> Result<Vec<Member>> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|line| {
            let (temporary, target) = line.split_once('\t').unwrap_or((line, ""));
            let plain = |n: &str| {
                !n.is_empty() && !n.contains('/') && n != "." && n != ".." && !n.contains('\0')
            };
            if !plain(temporary) || !plain(target) {
                bail!(
                    "the promotion journal `{}` is damaged; remove it and run `mlrepro extract --force`",
                    journal.display()
                );
            }
            Ok(Member {
                temporary: temporary.to_string(),
                target: target.to_string(),
            })
        })
        .collect()
}

/// Renames each member whose temporary copy still exists onto its target; a directory target
/// is moved aside first. Idempotent, so a kill inside it is finished by the next call.
fn roll_forward(dir: &Path, members: &[Member]) -> Result<()> {
    for (i, m) in members.iter().enumerate() {
        let from = dir.join(&m.temporary);
        let to = dir.join(&m.target);
        if std::fs::symlink_metadata(&from).is_err() {
            continue;
        }
        if from.is_dir() {
            let aside = dir.join(format!("{}.old", m.target));
            fsx::remove_dir_all_if_exists(&aside)?;
            if to.exists() {
                std::fs::rename(&to, &aside)
                    .with_context(|| format!("cannot move `{}` aside", to.display()))?;
            }
            std::fs::rename(&from, &to)
                .with_context(|| format!("cannot move the new `{}` into place", to.display()))?;
            fsx::remove_dir_all_if_exists(&aside)?;
        } else {
            std::fs::rename(&from, &to)
                .with_context(|| format!("cannot move the new `{}` into place", to.display()))?;
        }
        fault::pause_point("extract", &format!("after-promotion-{}", i + 1));
    }
    sync_dir(dir)
}

fn remove_journal(dir: &Path, journal: &Path) -> Result<()> {
    fsx::remove_file_if_exists(journal)?;
    sync_dir(dir)
}

/// Removes what interrupted writers of the checkpoint `db_name` left in `dir`: temporary
/// databases and their write-ahead logs, temporary `.sha256` and `SCHEMA.md` files, a journal
/// killed while it was being written, and temporary or set-aside Parquet directories.
fn sweep(dir: &Path, db_name: &str) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    let db_prefix = format!(".{db_name}.");
    let journal_prefix = format!("..{db_name}.promote.");
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let leftover = (name.starts_with(&db_prefix)
            && (name.ends_with(".tmp") || name.ends_with(".tmp.wal")))
            || (name.starts_with(".SCHEMA.md.") && name.ends_with(".tmp"))
            || (name.starts_with(&journal_prefix) && name.ends_with(".tmp"))
            || name.starts_with(".parquet.")
            || name == "parquet.old";
        if !leftover {
            continue;
        }
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            fsx::remove_dir_all_if_exists(&path)?;
        } else {
            fsx::remove_file_if_exists(&path)?;
        }
    }
    Ok(())
}

/// Flushes every file in `dir` (not recursively) and `dir` itself to disk.
pub fn sync_tree(dir: &Path) -> Result<()> {
    for entry in fsx::read_dir_sorted(dir)? {
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            sync_file(&entry.path())?;
        }
    }
    sync_dir(dir)
}

/// Flushes one file to disk.
pub fn sync_file(path: &Path) -> Result<()> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot flush `{}` to disk", path.display()))
}

/// Flushes a directory's entries (new names, renames) to disk.
pub fn sync_dir(dir: &Path) -> Result<()> {
    sync_file(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    fn members() -> Vec<Member> {
        vec![
            Member {
                temporary: ".parquet.x1".into(),
                target: "parquet".into(),
            },
            Member {
                temporary: ".db.1.2.tmp".into(),
                target: "db".into(),
            },
        ]
    }

    #[test]
    fn a_journal_left_by_a_kill_is_rolled_forward() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("parquet")).unwrap();
        std::fs::write(d.join("parquet/old.parquet"), "old").unwrap();
        std::fs::write(d.join("db"), "old").unwrap();
        std::fs::create_dir(d.join(".parquet.x1")).unwrap();
        std::fs::write(d.join(".parquet.x1/new.parquet"), "new").unwrap();
        std::fs::write(d.join(".db.1.2.tmp"), "new").unwrap();
        // Killed after the journal and the first rename.
        let text: String = members()
            .iter()
            .map(|m| format!("{}\t{}\n", m.temporary, m.target))
            .collect();
        std::fs::write(journal_path(d, "db"), text).unwrap();
        roll_forward(d, &members()[..1]).unwrap();
        assert!(recover(d, "db").unwrap());
        assert_eq!(names(d), ["db", "parquet"]);
        assert_eq!(std::fs::read_to_string(d.join("db")).unwrap(), "new");
        assert_eq!(names(&d.join("parquet")), ["new.parquet"]);
        assert!(!recover(d, "db").unwrap(), "nothing left to finish");
    }

    #[test]
    fn temporary_files_without_a_journal_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for f in [
            "db",
            ".db.77.123.tmp",
            ".db.77.123.tmp.wal",
            ".db.sha256.abc.tmp",
            ".SCHEMA.md.abc.tmp",
            "..db.promote.abc.tmp",
            "keep.txt",
        ] {
            std::fs::write(d.join(f), "x").unwrap();
        }
        std::fs::create_dir(d.join(".parquet.abc")).unwrap();
        std::fs::create_dir(d.join("parquet.old")).unwrap();
        assert!(!recover(d, "db").unwrap());
        assert_eq!(names(d), ["db", "keep.txt"]);
    }

    #[test]
    fn a_damaged_journal_is_refused_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(journal_path(dir.path(), "db"), "../../etc/passwd\tdb\n").unwrap();
        let err = recover(dir.path(), "db").unwrap_err().to_string();
        assert!(err.contains("damaged"), "{err}");
    }
}
