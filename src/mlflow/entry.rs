//! What a path in a tracking store is, found without ever blocking: [`resolve`] follows
//! symbolic links at most [`MAX_LINKS`] hops and refuses special files (FIFOs, sockets,
//! devices), since opening one can wait for ever; [`read_text`] opens only a regular file.

use std::fs::{File, Metadata};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The most symbolic links followed from one path.
pub const MAX_LINKS: usize = 8;

/// ELOOP on Linux: the kernel met too many links (a loop) while resolving a path.
const ELOOP: i32 = 40;

/// `O_NONBLOCK` on Linux: an open of a FIFO that has no writer returns at once. (It has no
/// effect on a regular file.)
#[cfg(all(
    target_os = "linux",
    any(
        target_arch = "x86",
        target_arch = "x86_64",
        target_arch = "arm",
        target_arch = "aarch64",
        target_arch = "riscv64"
    )
))]
const O_NONBLOCK: i32 = 0o4000;
/// Elsewhere the type check before opening is the only guard.
#[cfg(not(all(
    target_os = "linux",
    any(
        target_arch = "x86",
        target_arch = "x86_64",
        target_arch = "arm",
        target_arch = "aarch64",
        target_arch = "riscv64"
    )
)))]
const O_NONBLOCK: i32 = 0;

/// A path with its symbolic links followed.
#[derive(Debug)]
pub enum Entry {
    /// A regular file, at this path (links resolved).
    File(PathBuf),
    /// A directory, at this path (links resolved), with its device and inode.
    Dir(PathBuf, DirId),
    /// Nothing is there (or a link points nowhere).
    Missing,
    /// Something that must not be opened, and why (e.g. `is a FIFO`).
    Refused(String),
}

/// A directory's identity (device, inode), to notice a walk that comes back to where it was.
pub type DirId = (u64, u64);

/// What `path` is, following at most [`MAX_LINKS`] symbolic links; an I/O error other than
/// "not found" or a link loop is returned as it is.
pub fn resolve(path: &Path) -> std::io::Result<Entry> {
    let mut current = path.to_path_buf();
    for _ in 0..=MAX_LINKS {
        let meta = match std::fs::symlink_metadata(&current) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Entry::Missing),
            Err(e) if e.raw_os_error() == Some(ELOOP) => {
                return Ok(Entry::Refused("is inside a loop of symbolic links".into()))
            }
            Err(e) => return Err(e),
        };
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&current)?;
            current = match current.parent() {
                Some(parent) => parent.join(target),
                None => target,
            };
            continue;
        }
        return Ok(classify(current, &meta));
    }
    Ok(Entry::Refused(format!(
        "is a chain of more than {MAX_LINKS} symbolic links (a loop?)"
    )))
}

fn classify(path: PathBuf, meta: &Metadata) -> Entry {
    let t = meta.file_type();
    if t.is_file() {
        Entry::File(path)
    } else if t.is_dir() {
        Entry::Dir(path, (meta.dev(), meta.ino()))
    } else {
        Entry::Refused(special_kind(meta).into())
    }
}

/// `is a FIFO`, `is a socket`, … for a file that is neither regular nor a directory.
fn special_kind(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_fifo() {
        "is a FIFO, not a regular file"
    } else if t.is_socket() {
        "is a socket, not a regular file"
    } else if t.is_block_device() || t.is_char_device() {
        "is a device, not a regular file"
    } else {
        "is not a regular file"
    }
}

/// Reads a regular file as UTF-8 text; anything else is refused without waiting on it
/// (`InvalidInput`, saying what it is).
///
/// A store holds thousands of small files, so this makes as few system calls as it can: the
/// size from the type check sizes the buffer, and the file is read through `Take`, which (unlike
/// `File` itself) asks for no further `fstat` or `lseek` to size it.
pub fn read_text(path: &Path) -> std::io::Result<String> {
    let (file, meta) = open_regular_with_metadata(path)?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0) + 1);
    file.take(u64::MAX).read_to_end(&mut bytes)?;
    String::from_utf8(bytes).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

/// Opens a regular file for reading; a FIFO, socket or device is refused without blocking
/// (`InvalidInput`, saying what it is).
pub fn open_regular(path: &Path) -> std::io::Result<File> {
    open_regular_with_metadata(path).map(|(file, _)| file)
}

/// [`open_regular`], with the metadata its type check read.
fn open_regular_with_metadata(path: &Path) -> std::io::Result<(File, Metadata)> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            special_kind(&meta),
        ));
    }
    Ok((file, meta))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mkfifo(path: &Path) {
        let status = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .expect("mkfifo runs");
        assert!(status.success());
    }

    #[test]
    fn a_fifo_is_refused_without_opening_it() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        mkfifo(&fifo);
        assert!(matches!(resolve(&fifo).unwrap(), Entry::Refused(r) if r.contains("FIFO")));
        let err = read_text(&fifo).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("FIFO"), "{err}");
    }

    #[test]
    fn links_are_followed_a_bounded_number_of_times() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "x").unwrap();
        std::os::unix::fs::symlink("file", dir.path().join("one")).unwrap();
        assert!(matches!(resolve(&dir.path().join("one")).unwrap(), Entry::File(p) if p == file));
        std::os::unix::fs::symlink("b", dir.path().join("a")).unwrap();
        std::os::unix::fs::symlink("a", dir.path().join("b")).unwrap();
        assert!(
            matches!(resolve(&dir.path().join("a")).unwrap(), Entry::Refused(r) if r.contains("symbolic links"))
        );
        std::os::unix::fs::symlink("nowhere", dir.path().join("dangling")).unwrap();
        assert!(matches!(
            resolve(&dir.path().join("dangling")).unwrap(),
            Entry::Missing
        ));
    }
}
