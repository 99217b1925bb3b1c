//! The committed demo checkpoint: re-derivable from the demo store, and readable by an older
//! DuckDB (the one readers of a paper have).

use std::process::Command;

use crate::extract::{logical_digest, query};
use crate::support::{mlrepro, repo_root, run_ok, ProjectConfig};

fn committed_digest() -> String {
    logical_digest(&repo_root().join("data/public/results.duckdb"))
}

#[test]
fn demo_store_re_extracts_to_the_committed_checkpoint() {
    let root = repo_root();
    let dir = ProjectConfig::demo().write();
    let out = run_ok(dir.path(), &["-c", "config.yaml", "extract", "--json"]);
    let details = crate::extract::extract_details(&out.stdout);
    assert_eq!(
        details["logical_digest"].as_str().unwrap(),
        committed_digest(),
        "the committed demo checkpoint is stale: run `make extract` and commit data/public"
    );
    mlrepro(&root).args(["verify"]).assert().success();
}

/// Python with the `duckdb` package, if any.
fn python_with_duckdb() -> Option<String> {
    let candidates = [
        repo_root()
            .join(".venv-fixtures/bin/python")
            .display()
            .to_string(),
        "python3".to_string(),
    ];
    candidates.into_iter().find(|py| {
        Command::new(py)
            .args(["-c", "import duckdb"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    })
}

#[test]
fn checkpoint_opens_in_an_older_duckdb() {
    let Some(python) = python_with_duckdb() else {
        assert!(
            std::env::var_os("MLREPRO_REQUIRE_ALL").is_none(),
            "MLREPRO_REQUIRE_ALL is set but Python's duckdb is missing"
        );
        eprintln!("skipped: no Python with the duckdb package (pip install duckdb==1.1.3)");
        return;
    };
    let db = repo_root().join("data/public/results.duckdb");
    let script = "import duckdb, sys\n\
                  c = duckdb.connect(sys.argv[1], read_only=True)\n\
                  n = c.execute('SELECT count(*) FROM essential_metrics').fetchone()[0]\n\
                  v = c.execute(\"SELECT value FROM metadata WHERE key = 'schema_version'\").fetchone()[0]\n\
                  print(duckdb.__version__, n, v)\n";
    let out = Command::new(&python)
        .args(["-c", script, &db.display().to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let fields: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(fields[2], "1", "{text}");
    let rows = query(&db, "SELECT count(*)::VARCHAR FROM essential_metrics");
    assert_eq!(
        rows[0][0],
        duckdb::types::Value::Text(fields[1].to_string()),
        "{text}"
    );
}
