//! Hashing every layer uses: lower-case hex, the SHA-256 of a file, and the SHA-256 of
//! source texts (the code digests that key figures, tables and extraction).

use std::fs::File;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

/// Lower-case hex of a byte string.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of `parts`, each prefixed by its length (so that moving text from one part to the
/// next changes the digest), hex-encoded.
pub fn sha256_parts<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut h = Sha256::new();
    for text in parts {
        h.update((text.len() as u64).to_le_bytes());
        h.update(text.as_bytes());
    }
    hex(&h.finalize())
}

/// Files at least this large are hashed through a memory map, which spares copying every
/// byte out of the page cache; smaller ones are read.
const MAP_AT: u64 = 1 << 20;

/// SHA-256 of a file's bytes, hex-encoded (the `sha2` crate uses the CPU's SHA instructions
/// where present).
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = File::open(path).with_context(|| format!("cannot open `{}`", path.display()))?;
    let size = file
        .metadata()
        .with_context(|| format!("cannot read `{}`", path.display()))?
        .len();
    let mut hasher = Sha256::new();
    if size >= MAP_AT {
        // SAFETY: the file is opened read-only and only read through the map, as extraction
        // reads pickles. MLflow writes an artifact once and never truncates it; a file
        // rewritten while it is hashed changes its ctime, so the stamp taken before hashing
        // no longer matches and the next run hashes it again.
        let map = unsafe { memmap2::MmapOptions::new().populate().map(&file) }
            .with_context(|| format!("cannot map `{}`", path.display()))?;
        hasher.update(&map[..]);
    } else {
        let mut buf = Vec::with_capacity(size as usize);
        file.read_to_end(&mut buf)
            .with_context(|| format!("cannot read `{}`", path.display()))?;
        hasher.update(&buf);
    }
    Ok(hex(&hasher.finalize()))
}
