#!/usr/bin/env bash
# Acceptance: the README's walkthrough, exactly as a new user runs it, on a clean clone of
# HEAD in a temporary directory.
#
#   1. `make reproduce`: builds, extracts the demo store, analyzes it; exit 0, every listed
#      output present, the report says success, and git sees no change (the committed demo
#      checkpoint is re-derived bit for bit and not rewritten).
#   2. `make reproduce` again: a no-op that says so.
#   3. The demo store, the private dir, the cache and every output deleted, then
#      `make reproduce-from-checkpoint`: verifies the committed checkpoint and renders
#      everything again.
#
# Uses the persistent CARGO_TARGET_DIR (see the Makefile), so only mlrepro itself is rebuilt.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/mlrepro/target}"

fail() {
  echo "acceptance: FAILED: $*" >&2
  exit 1
}

step() {
  echo
  echo "== acceptance: $*"
}

# Every file the report lists exists and is non-empty, and the report says success.
check_report() {
  python3 - "$@" <<'PY'
import json, os, sys
report = json.load(open("outputs/analysis_report.json"))
if report["status"] != "success":
    sys.exit(f"analysis_report.json says {report['status']}: {json.dumps(report, indent=1)}")
expect_skipped = set(sys.argv[1:])
for e in report["figures"]:
    if e["name"] in expect_skipped:
        if e["status"] != "skipped":
            sys.exit(f"figure {e['name']} should be skipped, is {e['status']}")
        continue
    if e["status"] != "generated":
        sys.exit(f"figure {e['name']} is {e['status']}")
    for f in e["files"]:
        path = os.path.join("figures", "data" if f.endswith(".json") else "", f)
        if not os.path.isfile(path) or os.path.getsize(path) == 0:
            sys.exit(f"missing or empty: {path}")
for e in report["tables"]:
    if e["status"] != "generated":
        sys.exit(f"table {e['name']} is {e['status']}")
    for f in e["files"]:
        path = os.path.join("outputs", f)
        if not os.path.isfile(path) or os.path.getsize(path) == 0:
            sys.exit(f"missing or empty: {path}")
print(f"report: success, {len(report['figures'])} figures, {len(report['tables'])} tables")
PY
}

require_files() {
  for f in "$@"; do
    [ -s "$f" ] || fail "missing or empty: $f"
  done
}

step "clone $repo into $work"
git clone --quiet "$repo" "$work/mlrepro"
cd "$work/mlrepro"

step "make reproduce"
make reproduce 2>&1 | tee "$work/first.log" || fail "make reproduce exited non-zero"
require_files data/public/results.duckdb data/public/results.duckdb.sha256 \
  data/public/SCHEMA.md data/private/subject_lookup.yaml \
  outputs/numbers.tex outputs/analysis_report.json outputs/report.html
check_report || fail "the report of make reproduce"
grep -q "checkpoint" "$work/first.log" || fail "make reproduce printed no summary of its outputs"
changes=$(git status --porcelain)
[ -z "$changes" ] || fail "make reproduce changed tracked files:
$changes"

step "make reproduce (again: a no-op)"
make reproduce 2>&1 | tee "$work/second.log" || fail "the second make reproduce exited non-zero"
grep -q "nothing to do" "$work/second.log" || fail "the second make reproduce was not a no-op"

step "delete the demo store, the private dir, the cache and the outputs"
rm -rf data/demo/mlruns data/private .mlrepro figures outputs

step "make reproduce-from-checkpoint"
make reproduce-from-checkpoint 2>&1 | tee "$work/third.log" ||
  fail "make reproduce-from-checkpoint exited non-zero"
check_report subject_traces || fail "the report of make reproduce-from-checkpoint"
changes=$(git status --porcelain | grep -v '^ D data/demo/mlruns/' || true)
[ -z "$changes" ] || fail "make reproduce-from-checkpoint changed tracked files:
$changes"

echo
echo "acceptance: passed"
