//! The tracking store a flag, the config or the environment names, before it is opened.

use std::fmt;
use std::path::PathBuf;

/// The tracking store as given by a flag, the config or the environment, before it is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingUri {
    /// The text as the user gave it.
    pub raw: String,
    /// Where it came from, for messages.
    pub origin: Origin,
}

impl TrackingUri {
    /// The store's path on disk (a directory, or an SQLite file), when the URI names a local
    /// one: a plain path, `file://PATH`, `file:PATH` or `sqlite:///PATH`.
    pub fn local_path(&self) -> Option<PathBuf> {
        let raw = self.raw.trim();
        let path = ["sqlite:///", "file://", "file:"]
            .iter()
            .find_map(|scheme| raw.strip_prefix(scheme))
            .or((!raw.contains("://")).then_some(raw))?;
        Some(PathBuf::from(path))
    }
}

/// Where the tracking URI came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A command-line flag.
    Flag,
    /// The config file.
    Config,
    /// An environment variable.
    Env,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Flag => "--tracking-uri",
            Origin::Config => "store.tracking_uri in the config",
            Origin::Env => "$MLFLOW_TRACKING_URI",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_tracking_uri_names_its_path() {
        let uri = |raw: &str| TrackingUri {
            raw: raw.into(),
            origin: Origin::Flag,
        };
        for (raw, path) in [
            ("mlruns", Some("mlruns")),
            ("file:///data/mlruns", Some("/data/mlruns")),
            ("file:mlruns", Some("mlruns")),
            ("sqlite:///store/mlflow.db", Some("store/mlflow.db")),
            ("sqlite:////abs/mlflow.db", Some("/abs/mlflow.db")),
            ("https://server", None),
        ] {
            assert_eq!(uri(raw).local_path(), path.map(PathBuf::from), "{raw}");
        }
    }
}
