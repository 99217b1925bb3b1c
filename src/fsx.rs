//! Filesystem helpers whose errors always carry the path, and atomic writes.
//!
//! A bare `io::Error` ("No such file or directory") never reaches a user: every call here
//! names the file it was working on. Outputs are written to a temporary file in the target's
//! directory and renamed into place, so a reader never sees a half-written file.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Reads a whole file, naming it in the error.
pub fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).with_context(|| format!("cannot read `{}`", path.display()))
}

/// Reads a whole UTF-8 file, naming it in the error.
pub fn read_to_string(path: &Path) -> Result<String> {
    fs::read_to_string(path).with_context(|| format!("cannot read `{}`", path.display()))
}

/// Creates a directory and its parents, naming it in the error.
pub fn create_dir_all(path: &Path) -> Result<()> {
    fs::create_dir_all(path)
        .with_context(|| format!("cannot create directory `{}`", path.display()))
}

/// Lists a directory's entries sorted by file name, naming it in the error.
pub fn read_dir_sorted(path: &Path) -> Result<Vec<fs::DirEntry>> {
    let entries =
        fs::read_dir(path).with_context(|| format!("cannot list `{}`", path.display()))?;
    let mut out = entries
        .collect::<std::io::Result<Vec<_>>>()
        .with_context(|| format!("cannot list `{}`", path.display()))?;
    out.sort_by_key(|e| e.file_name());
    Ok(out)
}

/// Removes a file if it exists; a missing file is not an error.
pub fn remove_file_if_exists(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove `{}`", path.display()))
        }
        _ => Ok(()),
    }
}

/// Removes a directory tree if it exists; a missing directory is not an error.
pub fn remove_dir_all_if_exists(path: &Path) -> Result<()> {
    match fs::remove_dir_all(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove `{}`", path.display()))
        }
        _ => Ok(()),
    }
}

/// A temporary file beside `target`, to be filled and then [`promote`]d onto `target`.
pub fn temp_beside(target: &Path) -> Result<tempfile::NamedTempFile> {
    let dir = parent_dir(target);
    create_dir_all(&dir)?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(&dir)
        .with_context(|| format!("cannot create a temporary file in `{}`", dir.display()))
}

/// Flushes a filled temporary file to disk and renames it onto `target` atomically.
pub fn promote(tmp: tempfile::NamedTempFile, target: &Path) -> Result<()> {
    tmp.as_file()
        .sync_all()
        .with_context(|| format!("cannot flush the new `{}`", target.display()))?;
    persist(tmp, target)
}

/// Renames a temporary file onto `target` atomically.
fn persist(tmp: tempfile::NamedTempFile, target: &Path) -> Result<()> {
    tmp.persist(target).map_err(|e| e.error).with_context(|| {
        format!(
            "cannot move the new file into place at `{}`",
            target.display()
        )
    })?;
    Ok(())
}

/// Writes `bytes` to `path` atomically: a reader sees the old file or the new one, never a mix.
/// The file is readable by everyone (0644), as public outputs must be.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_mode(path, bytes, 0o644)
}

/// Like [`write_atomic`] with the given permission bits, set before the file appears under
/// its name (0600 for private files).
pub fn write_atomic_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut tmp = temp_beside(path)?;
    tmp.as_file()
        .set_permissions(fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set permissions of the new `{}`", path.display()))?;
    tmp.write_all(bytes)
        .with_context(|| format!("cannot write the new `{}`", path.display()))?;
    promote(tmp, path)
}

/// Like [`write_atomic`], readable by its owner only and without flushing the data to disk
/// first: after a crash the file may be missing, empty or hold garbage under its name, so only
/// files that readers verify and can do without (checksummed cache entries) are written this
/// way.
pub fn write_atomic_unflushed(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = temp_beside(path)?;
    tmp.write_all(bytes)
        .with_context(|| format!("cannot write the new `{}`", path.display()))?;
    persist(tmp, path)
}

/// Sets Unix permission bits (e.g. `0o600` for private files), naming the path in the error.
pub fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set permissions of `{}`", path.display()))
}

/// The directory that holds `path` (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_replaces_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/out.txt");
        write_atomic(&p, b"first").unwrap();
        write_atomic(&p, b"second").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"second");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o644
        );
        let leftovers: Vec<_> = fs::read_dir(p.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn read_error_names_the_path() {
        let err = read(Path::new("/nonexistent/x.yaml")).unwrap_err();
        assert!(format!("{err:#}").contains("`/nonexistent/x.yaml`"));
    }
}
