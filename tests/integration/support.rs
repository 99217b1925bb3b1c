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
