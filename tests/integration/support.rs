//! Shared helpers: the binary under test, the repository root, temporary projects.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The repository root (where `configs/` and `tests/fixtures/` live): cargo's run-time
/// `CARGO_MANIFEST_DIR` first, since a test binary compiled in another checkout that shares
/// the target directory (a clean clone's acceptance run) can be reused here and carries that
/// checkout's compile-time path.
pub fn repo_root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

/// The `mlrepro` binary, run in `dir`, with a clean environment for MLflow variables.
pub fn mlrepro(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("mlrepro").expect("the mlrepro binary is built");
    cmd.current_dir(dir).env_remove("MLFLOW_TRACKING_URI");
    cmd
}

/// Runs `mlrepro ARGS` in `dir`, requires exit 0 (showing its stderr otherwise) and returns
/// its output.
pub fn run_ok(dir: &Path, args: &[&str]) -> std::process::Output {
    let out = mlrepro(dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "mlrepro {} failed:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The `mlrepro` binary as a plain process (for tests that spawn and kill it).
pub fn mlrepro_process(dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin!("mlrepro"));
    cmd.current_dir(dir)
        .env_remove("MLFLOW_TRACKING_URI")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    cmd
}

/// A new directory for a fixture that the tests share for the whole test run (held in a
/// static, which is never dropped): under the target directory's `tmp/`, where cargo lets
/// tests keep data; those older than an hour, left by earlier runs, are removed first.
pub fn shared_dir(name: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("shared-fixtures");
    std::fs::create_dir_all(&root).unwrap();
    let prefix = format!("{name}-");
    let stale = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for entry in std::fs::read_dir(&root).unwrap().flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t < stale);
        if old && entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    tempfile::Builder::new()
        .prefix(&prefix)
        .tempdir_in(&root)
        .unwrap()
        .keep()
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

/// Copies the directory tree `from` to `to` (files and directories only).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Whether the external `tool` runs (`tool ARG`); when it does not, a test that needs it is
/// skipped with a note, unless `MLREPRO_REQUIRE_ALL=1` (as in CI), which makes it fail.
pub fn tool_available(tool: &str, arg: &str) -> bool {
    let runs = std::process::Command::new(tool)
        .arg(arg)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !runs {
        assert!(
            std::env::var("MLREPRO_REQUIRE_ALL").as_deref() != Ok("1"),
            "`{tool}` is required (MLREPRO_REQUIRE_ALL=1) but does not run"
        );
        eprintln!("note: `{tool}` is not installed; this test's check with it is skipped");
    }
    runs
}

/// Whether pdflatex and the LaTeX packages the generated tables need (booktabs, siunitx,
/// tabularx) are installed; like [`tool_available`], a test skips its LaTeX check when they
/// are not, and fails under `MLREPRO_REQUIRE_ALL=1`.
pub fn latex_available() -> bool {
    tool_available("pdflatex", "--version")
        && ["booktabs.sty", "siunitx.sty", "tabularx.sty"]
            .iter()
            .all(|sty| tool_available("kpsewhich", sty))
}

/// Compiles the LaTeX file `tex` alone in a plain A4 `article` (default margins) with the
/// packages its `% Needs \usepackage{…}` header line names, followed by `text`; panics when
/// pdflatex fails, and returns its log.
pub fn compile_on_a4(tex: &Path, text: &str) -> String {
    let body = std::fs::read_to_string(tex).unwrap();
    let packages = body
        .lines()
        .find_map(|l| l.strip_prefix("% Needs \\usepackage{"))
        .and_then(|l| l.split('}').next())
        .map(|p| format!("\\usepackage{{{p}}}\n"))
        .unwrap_or_default();
    let doc = format!(
        "\\documentclass[a4paper]{{article}}\n\\usepackage[T1]{{fontenc}}\n\\usepackage[utf8]{{inputenc}}\n\
         {packages}\\begin{{document}}\n\\input{{{}}}\n{text}\n\\end{{document}}\n",
        tex.display()
    );
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "wrapper.tex", &doc);
    let out = std::process::Command::new("pdflatex")
        .args(["-interaction=nonstopmode", "-halt-on-error", "wrapper.tex"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pdflatex failed on `{}`:\n{}",
        tex.display(),
        String::from_utf8_lossy(&out.stdout)
    );
    std::fs::read_to_string(dir.path().join("wrapper.log")).unwrap()
}

/// A temporary project's config, built from the few parts that tests vary: which store it
/// reads (the bundled demo, a copy of the fixture file store, or any other), the secret, the
/// demo subjects, `selection.max_failed_runs`, the output directories and `analysis` keys.
///
/// ```text
/// let dir = ProjectConfig::demo().subjects().analysis("png_dpi: 72").write();
/// ```
pub struct ProjectConfig {
    tracking_uri: String,
    copy_store: Option<PathBuf>,
    secret: Option<PathBuf>,
    subjects: bool,
    max_failed_runs: Option<usize>,
    cache_dir: String,
    figures_and_outputs: bool,
    analysis: Vec<String>,
    extra: String,
}

impl ProjectConfig {
    fn new(tracking_uri: String, secret: Option<PathBuf>) -> Self {
        Self {
            tracking_uri,
            copy_store: None,
            secret,
            subjects: false,
            max_failed_runs: None,
            cache_dir: "cache".into(),
            figures_and_outputs: false,
            analysis: Vec::new(),
            extra: String::new(),
        }
    }

    /// The bundled demo store (`data/demo/mlruns`, read in place) with the demo's secret.
    pub fn demo() -> Self {
        let demo = repo_root().join("data/demo");
        Self::new(
            demo.join("mlruns").display().to_string(),
            Some(demo.join("anonymization_secret")),
        )
    }

    /// A copy of the fixture file store in the project's `mlruns/` (so a test may change it),
    /// with the fixture's secret.
    pub fn fixture_store_copy() -> Self {
        let fixture = repo_root().join("tests/fixtures/filestore");
        let mut config = Self::new("mlruns".into(), Some(fixture.join("anonymization_secret")));
        config.copy_store = Some(fixture.join("mlruns"));
        config
    }

    /// Another store, at `tracking_uri`, with no secret of its own.
    pub fn store(tracking_uri: impl std::fmt::Display) -> Self {
        Self::new(tracking_uri.to_string(), None)
    }

    /// Anonymizes with the secret in `path`.
    pub fn secret(mut self, path: &Path) -> Self {
        self.secret = Some(path.to_path_buf());
        self
    }

    /// Adds the demo's subjects database and its two demo subjects (for the traces figure).
    pub fn subjects(mut self) -> Self {
        self.subjects = true;
        self
    }

    /// Sets `selection.max_failed_runs`.
    pub fn max_failed_runs(mut self, n: usize) -> Self {
        self.max_failed_runs = Some(n);
        self
    }

    /// Sets `outputs.cache_dir` (`cache` otherwise).
    pub fn cache_dir(mut self, dir: &str) -> Self {
        self.cache_dir = dir.into();
        self
    }

    /// Sets `outputs.figures_dir` and `outputs.outputs_dir` to `figures` and `outputs`.
    pub fn figures_and_outputs(mut self) -> Self {
        self.figures_and_outputs = true;
        self
    }

    /// Adds one `key: value` line under `analysis:`.
    pub fn analysis(mut self, line: &str) -> Self {
        self.analysis.push(line.into());
        self
    }

    /// Appends `yaml` (whole top-level sections) to the config.
    pub fn extra(mut self, yaml: &str) -> Self {
        self.extra.push_str(yaml);
        self
    }

    /// The config's YAML text.
    pub fn yaml(&self) -> String {
        let mut y = format!(
            "store:\n  tracking_uri: '{}'\n  experiment: PLR_Classification\n",
            self.tracking_uri
        );
        if let Some(secret) = &self.secret {
            y += &format!("anonymization:\n  secret_file: '{}'\n", secret.display());
        }
        if self.subjects {
            y += &format!(
                "subjects:\n  database: '{}'\n  demo_subjects: [H001, G001]\n",
                repo_root().join("data/demo/subjects.duckdb").display()
            );
        }
        if let Some(n) = self.max_failed_runs {
            y += &format!("selection:\n  max_failed_runs: {n}\n");
        }
        y += &format!(
            "outputs:\n  db: public/results.duckdb\n  private_dir: private\n  cache_dir: {}\n",
            self.cache_dir
        );
        if self.figures_and_outputs {
            y += "  figures_dir: figures\n  outputs_dir: outputs\n";
        }
        if !self.analysis.is_empty() {
            y += "analysis:\n";
            for line in &self.analysis {
                y += &format!("  {line}\n");
            }
        }
        y + &self.extra
    }

    /// Writes the config as `dir/name` (copying the fixture store into `dir` first, when the
    /// config reads a copy) and returns its path.
    pub fn write_in(&self, dir: &Path, name: &str) -> PathBuf {
        if let Some(store) = &self.copy_store {
            if !dir.join("mlruns").exists() {
                copy_dir(store, &dir.join("mlruns"));
            }
        }
        write_file(dir, name, &self.yaml())
    }

    /// A new temporary project holding the config as `config.yaml`.
    pub fn write(&self) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        self.write_in(dir.path(), "config.yaml");
        dir
    }
}

/// `text` with what changes from run to run replaced by stable placeholders, for snapshots:
/// the project directory `project` by `[TMP]`, the repository by `[REPO]`, pipeline run ids
/// by `[RUN_ID]`, process ids by `[PID]`, durations and times by `[TIME]`, and hexadecimal
/// digests (12 digits or more, a letter among them) by `[DIGEST]`.
pub fn redact(text: &str, project: &Path) -> String {
    static RULES: std::sync::LazyLock<Vec<(regex::Regex, &str)>> = std::sync::LazyLock::new(|| {
        [
            (r"\b\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{6}\b", "[RUN_ID]"),
            (
                r"\b\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?( UTC|Z)?",
                "[TIME]",
            ),
            (r"\b\d+(\.\d+)? m?s\b", "[TIME]"),
            // A table's column of seconds (`history`): right-aligned, so its padding goes too.
            (r"(?m) +\d+\.\d{2}( |$)", " [TIME]$1"),
            (r"\bpid \d+\b", "pid [PID]"),
        ]
        .into_iter()
        .map(|(pattern, placeholder)| (regex::Regex::new(pattern).unwrap(), placeholder))
        .collect()
    });
    let mut text = text
        .replace(&project.display().to_string(), "[TMP]")
        .replace(&repo_root().display().to_string(), "[REPO]");
    for (pattern, placeholder) in RULES.iter() {
        text = pattern.replace_all(&text, *placeholder).into_owned();
    }
    static HEX: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"\b[0-9a-f]{12,}\b").unwrap());
    HEX.replace_all(&text, |c: &regex::Captures| {
        if c[0].bytes().all(|b| b.is_ascii_digit()) {
            c[0].to_string()
        } else {
            "[DIGEST]".to_string()
        }
    })
    .into_owned()
}
