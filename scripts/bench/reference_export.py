#!/usr/bin/env python3
"""Run the reference pipeline's own Block-1 exporter over an MLflow file store, and time it.

    reference_export.py --reference-repo DIR --mlruns STORE_DIR --out DB_PATH
                        [--experiment NAME] [--overwrite] [--no-subject-mapping]

DIR is a user-supplied checkout of petteriTeikari/foundation_PLR. Nothing of it is copied
here: this script puts DIR on sys.path and imports
`src.data_io.streaming_duckdb_export.StreamingDuckDBExporter` from it, unchanged, then calls it
the way the reference's extraction flow does (`extract_with_streaming_exporter`):

    StreamingDuckDBExporter(mlruns_dir, output_path, experiment_id=..., memory_threshold_gb=12.0,
                            subject_mapping=...).export()

Stdout gets exactly one line, `runs=<N> seconds=<float>`: N runs extracted, and the wall time of
`export()` alone (after all imports, including the modules the exporter imports lazily on its
first run). Everything else (the exporter's loguru log, per-run time, table row counts) goes to
stderr. Exit status: 0 on success; 2 for bad arguments or a repository copy without the
exporter; 3 when the export ran but some run failed (the exporter itself swallows per-run
errors, so this script checks its `extraction_checkpoints` table and fails loudly instead).

The experiment: with --experiment NAME, the experiment directory whose meta.yaml `name` is NAME
(an experiment id is accepted too); without it, the exporter's own choice (the experiment with
the most runs). The subject mapping: the reference flow passes PLRxxxx -> Hxxx/Gxxx from its
private SERI database (class_label, ordered by label then code). That database is not part of
a store, so by default this script rebuilds the same kind of mapping from the runs'
`params/codes_train` and `params/codes_test` (label from the code: PLR1xxx control, PLR4xxx
glaucoma), before the timer starts; --no-subject-mapping passes none, like the module's CLI.
"""

import argparse
import ast
import os
import sys
import time
from pathlib import Path

EXPORTER_REL = Path("src") / "data_io" / "streaming_duckdb_export.py"
EXPORTER_MODULE = "src.data_io.streaming_duckdb_export"


def die(code, msg):
    print(f"reference_export: error: {msg}", file=sys.stderr)
    sys.exit(code)


def read_yaml_field(path, key):
    """Top-level scalar of a small meta.yaml without needing yaml yet."""
    import yaml

    try:
        with open(path) as fh:
            data = yaml.safe_load(fh) or {}
    except Exception:
        return None
    value = data.get(key)
    return None if value is None else str(value)


def resolve_experiment(mlruns, name):
    """Experiment id (directory name) for an experiment name or id, or die."""
    candidates = []
    for d in sorted(mlruns.iterdir()):
        if not d.is_dir() or d.name in (".trash", "models"):
            continue
        meta = d / "meta.yaml"
        if not meta.exists():
            continue
        exp_name = read_yaml_field(meta, "name")
        candidates.append((d.name, exp_name))
        if exp_name == name or d.name == name:
            return d.name
    known = ", ".join(f"{n!r} (id {i})" for i, n in candidates) or "none"
    die(2, f"no experiment named {name!r} in {mlruns}; experiments there: {known}")


def run_dirs(exp_dir):
    """What the exporter's _get_run_dirs walks: sub-directories with a meta.yaml."""
    return sorted(d for d in exp_dir.iterdir() if d.is_dir() and (d / "meta.yaml").exists())


def build_subject_mapping(runs):
    """PLRxxxx -> Hxxx/Gxxx as extraction_flow.generate_subject_mapping numbers them
    (ORDER BY class_label, subject_code; control -> H001.., glaucoma -> G001..), with the
    codes taken from the runs' codes_train/codes_test params."""
    codes = set()
    for run in runs:
        for param in ("codes_train", "codes_test"):
            p = run / "params" / param
            if p.exists():
                try:
                    codes.update(str(c) for c in ast.literal_eval(p.read_text().strip()))
                except (ValueError, SyntaxError) as e:
                    print(f"reference_export: warning: cannot parse {p}: {e}", file=sys.stderr)
    labelled = []
    for code in codes:
        if code.startswith("PLR1"):
            labelled.append(("control", code))
        elif code.startswith("PLR4"):
            labelled.append(("glaucoma", code))
    mapping, h, g = {}, 0, 0
    for label, code in sorted(labelled):
        if label == "control":
            h += 1
            mapping[code] = f"H{h:03d}"
        else:
            g += 1
            mapping[code] = f"G{g:03d}"
    return mapping


def import_exporter(repo):
    src_file = repo / EXPORTER_REL
    if not src_file.is_file():
        die(
            2,
            f"{repo} is not a foundation_PLR checkout with the streaming exporter: "
            f"{src_file} does not exist",
        )
    sys.path.insert(0, str(repo))
    try:
        import importlib

        module = importlib.import_module(EXPORTER_MODULE)
    except ImportError as e:
        die(2, f"cannot import {EXPORTER_MODULE} from {repo}: {e} "
               f"(run scripts/bench/reference_env.sh and use .venv-bench/bin/python)")
    loaded_from = Path(module.__file__).resolve()
    if loaded_from != src_file.resolve():
        die(2, f"{EXPORTER_MODULE} was imported from {loaded_from}, not from {src_file}")
    exporter = getattr(module, "StreamingDuckDBExporter", None)
    if exporter is None:
        die(2, f"{src_file} has no StreamingDuckDBExporter")
    # The exporter imports these lazily inside its first run (src.stats pulls in scipy,
    # statsmodels, pandas and sklearn): import them now so the timer measures the export only.
    for lazy in ("yaml", "sklearn.metrics", "src.stats.clinical_utility",
                 "src.stats.calibration_extended"):
        try:
            importlib.import_module(lazy)
        except ImportError as e:
            die(2, f"the exporter's dependency {lazy} does not import: {e}")
    return module, exporter


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reference-repo", required=True, type=Path,
                    help="checkout of petteriTeikari/foundation_PLR")
    ap.add_argument("--mlruns", required=True, type=Path, help="MLflow file store (mlruns root)")
    ap.add_argument("--out", required=True, type=Path, help="DuckDB file to write")
    ap.add_argument("--experiment", help="experiment name (or id); default: the exporter's choice")
    ap.add_argument("--overwrite", action="store_true",
                    help="delete an existing --out first (else: error, since the exporter would "
                         "resume from its checkpoint and skip every run already done)")
    ap.add_argument("--no-subject-mapping", action="store_true",
                    help="pass no PLRxxxx -> Hxxx/Gxxx mapping (like the module's own CLI)")
    a = ap.parse_args()

    repo = a.reference_repo.resolve()
    mlruns = a.mlruns.resolve()
    out = a.out.resolve()
    if not repo.is_dir():
        die(2, f"--reference-repo {repo} is not a directory")
    if not mlruns.is_dir():
        die(2, f"--mlruns {mlruns} is not a directory")

    module, Exporter = import_exporter(repo)
    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level=os.environ.get("REFERENCE_LOG_LEVEL", "INFO"))

    for p in (out, Path(str(out) + ".wal")):
        if p.exists():
            if not a.overwrite:
                die(2, f"{p} exists (pass --overwrite to replace it)")
            p.unlink()
    out.parent.mkdir(parents=True, exist_ok=True)

    experiment_id = resolve_experiment(mlruns, a.experiment) if a.experiment else None
    if experiment_id is None:
        # The exporter's own auto-detection (constructing it touches nothing on disk here).
        experiment_id = Exporter(mlruns_dir=mlruns, output_path=out).experiment_id
    runs = run_dirs(mlruns / experiment_id)
    if not runs:
        die(2, f"experiment {experiment_id} in {mlruns} has no runs")
    mapping = None if a.no_subject_mapping else build_subject_mapping(runs)
    exporter = Exporter(
        mlruns_dir=mlruns,
        output_path=out,
        experiment_id=experiment_id,
        memory_threshold_gb=12.0,
        subject_mapping=mapping,
    )
    print(
        f"reference_export: exporter {module.__file__}; experiment {exporter.experiment_id} "
        f"({len(runs)} runs); subject mapping: {len(exporter.subject_mapping)} codes; "
        f"out {out}",
        file=sys.stderr,
    )

    t0 = time.perf_counter()
    stats = exporter.export()
    seconds = time.perf_counter() - t0

    import duckdb

    with duckdb.connect(str(out), read_only=True) as con:
        failures = con.execute(
            "SELECT run_id, status, error_message FROM extraction_checkpoints "
            "WHERE status <> 'completed' ORDER BY run_id"
        ).fetchall()
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables ORDER BY table_name").fetchall()]
        counts = {t: con.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}

    n = stats["completed"]
    print(f"reference_export: stats {stats}; {seconds:.3f} s, "
          f"{seconds / max(len(runs), 1):.3f} s per run", file=sys.stderr)
    print("reference_export: rows " + ", ".join(f"{t}={c}" for t, c in counts.items()),
          file=sys.stderr)
    print(f"runs={n} seconds={seconds:.6f}")
    sys.stdout.flush()

    if failures or n != len(runs):
        for run_id, status, err in failures:
            print(f"reference_export: run {run_id} {status}: {err}", file=sys.stderr)
        die(3, f"{len(runs) - n} of {len(runs)} runs were not extracted by the reference "
               f"exporter (it logs and skips them; the failures are listed above)")


if __name__ == "__main__":
    main()
