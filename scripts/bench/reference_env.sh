#!/usr/bin/env bash
# Create or refresh the git-ignored venv .venv-bench/ that runs the reference pipeline's exporter
# (scripts/bench/reference_export.py), from scripts/bench/requirements-reference.txt.
#
#   scripts/bench/reference_env.sh        prints the venv's python on stdout, progress on stderr
#
# Idempotent: the venv is rebuilt (from scratch) only when it is missing, broken, or the sha256 of
# the requirements differs from the stamp .venv-bench/.requirements.sha256, which is written last,
# so an interrupted install is redone next time. PYTHON selects the base interpreter (default
# python3; must be 3.11, the reference's .python-version, for which every pin has wheels).
# BENCH_VENV overrides the venv directory.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python3}"
venv="${BENCH_VENV:-$root/.venv-bench}"
req="$here/requirements-reference.txt"

command -v "$python" >/dev/null || { echo "error: base interpreter '$python' not found (set PYTHON)" >&2; exit 1; }
ver="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [[ "$ver" != "3.11" ]]; then
    echo "error: $python is Python $ver; the reference benchmark venv needs 3.11 (set PYTHON)" >&2
    exit 1
fi
source "$here/lib.sh"
PYTHON="$python" make_venv "$venv" "$req"
echo "$venv/bin/python"
