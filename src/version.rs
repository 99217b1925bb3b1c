//! What `mlrepro --version` reports: the package version, the git commit the binary was built
//! from (`build.rs` records it) and the DuckDB library linked into it.
//!
//! `-V` prints the short form (`mlrepro 0.1.0`); `--version` adds the commit and DuckDB, which
//! together say which code wrote a checkpoint.

use std::ffi::CStr;
use std::sync::OnceLock;

/// The package version (`Cargo.toml`).
pub const PACKAGE: &str = env!("CARGO_PKG_VERSION");

/// The short git commit of the build, or `unknown` when it was built outside a git checkout.
pub const GIT_COMMIT: &str = env!("MLREPRO_GIT_COMMIT");

/// The version of the DuckDB library compiled into this binary (e.g. `v1.2.0`).
pub fn duckdb() -> &'static str {
    // SAFETY: `duckdb_library_version` takes no arguments and returns a pointer to a static,
    // NUL-terminated string owned by the library; it is never freed.
    let version = unsafe { CStr::from_ptr(duckdb::ffi::duckdb_library_version()) };
    version.to_str().unwrap_or("unknown")
}

/// The text after `mlrepro ` in `mlrepro --version`: version, commit and DuckDB version.
pub fn long() -> &'static str {
    static LONG: OnceLock<String> = OnceLock::new();
    LONG.get_or_init(|| format!("{PACKAGE} (commit {GIT_COMMIT}, DuckDB {})", duckdb()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_version_names_package_commit_and_duckdb() {
        let long = long();
        assert!(long.starts_with(PACKAGE), "{long}");
        assert!(long.contains(GIT_COMMIT), "{long}");
        assert!(duckdb().starts_with('v'), "DuckDB version {}", duckdb());
        assert!(long.contains("DuckDB v"), "{long}");
    }
}
