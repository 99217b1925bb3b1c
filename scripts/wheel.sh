#!/usr/bin/env bash
# The Python wheel that carries the `mlrepro` binary (maturin, `bindings = "bin"`).
#
#   scripts/wheel.sh build   builds dist/mlrepro-VERSION-py3-none-PLATFORM.whl
#   scripts/wheel.sh check   builds it, then installs it with `pip install --no-index` into a
#                            fresh venv and, from that venv: `mlrepro --version`, `ldd` (only
#                            system libraries), `mlrepro reproduce --from-checkpoint` on a copy
#                            of the committed checkpoint alone (configs/ and data/public/).
#
# maturin (pinned below) lives in .venv-wheel/. It builds with the release profile in the
# same CARGO_TARGET_DIR as `make build` and adds `-C strip=symbols` to the final binary only,
# so no dependency is rebuilt: on a warm cache the wheel costs one link of mlrepro.
set -euo pipefail

MATURIN_VERSION=1.16.0
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/mlrepro/target}"
venv="$repo/.venv-wheel"

fail() {
  echo "wheel: FAILED: $*" >&2
  exit 1
}

now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$(now)"; }

build() {
  if ! "$venv/bin/maturin" --version 2>/dev/null | grep -qx "maturin $MATURIN_VERSION"; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "maturin==$MATURIN_VERSION"
  fi
  rm -f dist/mlrepro-*.whl
  local start
  start=$(now)
  # Release profile, Cargo.lock as committed; `strip` and `bindings` come from pyproject.toml.
  "$venv/bin/maturin" build --release --locked --out dist
  wheel=$(ls dist/mlrepro-*.whl)
  echo "wheel: built $wheel in $(since "$start") s, $(du -m "$wheel" | cut -f1) MiB ($(stat -c %s "$wheel") bytes)"
}

check() {
  build
  local start
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT

  python3 -m venv "$work/venv"
  start=$(now)
  "$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index "$wheel"
  echo "wheel: pip install --no-index took $(since "$start") s"
  bin="$work/venv/bin/mlrepro"
  [ -x "$bin" ] || fail "the wheel installed no \`mlrepro\` into the venv's bin/"

  "$bin" --version
  "$bin" --version | grep -q "DuckDB v" || fail "\`mlrepro --version\` does not name DuckDB"

  # DuckDB is linked statically: only the C and C++ runtimes may come from shared libraries.
  if command -v ldd >/dev/null; then
    ldd "$bin" | sed 's/^/  ldd: /'
    if ldd "$bin" | grep -E 'not found|duckdb|=> /(work|home|tmp|opt|root)/'; then
      fail "the installed binary needs a library that is not a system library (see ldd above)"
    fi
  fi

  # Only what `--from-checkpoint` reads: the config and the public checkpoint.
  mkdir -p "$work/project/data"
  cp -R configs "$work/project/"
  cp -R data/public "$work/project/data/"
  rm -f "$work/project/data/public/.mlrepro.lock"
  start=$(now)
  (cd "$work/project" && "$bin" reproduce --from-checkpoint --no-progress -q)
  echo "wheel: reproduce --from-checkpoint from the installed wheel took $(since "$start") s"
  python3 -c 'import json, sys; sys.exit(json.load(open(sys.argv[1]))["status"] != "success")' \
    "$work/project/outputs/analysis_report.json" \
    || fail "outputs/analysis_report.json is missing or does not say success"
  echo "wheel: check passed"
}

case "${1:-}" in
  build) build ;;
  check) check ;;
  *) echo "usage: scripts/wheel.sh build|check" >&2; exit 2 ;;
esac
