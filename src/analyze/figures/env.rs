//! What a figure reads and where it writes, and what drawing it produced.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::super::frames::Checkpoint;
use super::super::render;
use super::super::sidecar::{self, Provenance};
use crate::config::Config;

/// What a figure reads and where it writes.
pub struct Env<'a> {
    /// The checkpoint's frames.
    pub ckpt: &'a Checkpoint,
    /// The whole config (`analysis`, `methods`, `outputs`).
    pub config: &'a Config,
    /// Version and digest for the sidecar.
    pub prov: &'a Provenance,
}

impl Env<'_> {
    /// The figures directory.
    pub fn dir(&self) -> &Path {
        &self.config.outputs.figures_dir
    }

    /// Renders `fig` in every configured format and writes its sidecar; returns all paths.
    pub fn emit(&self, fig: &impl render::Figure, data: serde_json::Value) -> Result<Vec<PathBuf>> {
        let mut out = render::write(fig, self.dir(), &self.config.analysis)?;
        out.push(sidecar::write(self.dir(), fig.name(), self.prov, data)?);
        Ok(out)
    }
}

/// What drawing a figure produced.
#[derive(Debug)]
pub enum Drawn {
    /// The files written.
    Files(Vec<PathBuf>),
    /// Not drawn, on purpose, with the reason.
    Skipped(String),
}
