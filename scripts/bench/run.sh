#!/usr/bin/env bash
# make bench: decoding speed of full-size metrics pickles, measured side by side in one run:
# `cat` of the bytes (the read limit), Python's pickle.load, and mlrepro's reader (selective
# decode of what extraction needs, and a full decode).
#
#   BENCH_RUNS=N      pickles in the corpus (default 8)
#   BENCH_CORPUS=DIR  where the corpus lives (default bench-corpus/decode; made if absent)
# Needs the fixture venv (`make fixtures` creates it) to make the corpus and run pickle.load.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
runs="${BENCH_RUNS:-8}"
corpus="${BENCH_CORPUS:-$root/bench-corpus/decode}"
py="$root/.venv-fixtures/bin/python"
[[ -x "$py" ]] || { echo "error: $py is missing; run \`make fixtures\` first" >&2; exit 1; }
if ! find "$corpus" -name 'metrics_*.pickle' 2>/dev/null | grep -q .; then
    scripts/fixtures/regenerate.sh bench-corpus --out "$corpus" --runs "$runs"
fi
mapfile -t files < <(find "$corpus" -name 'metrics_*.pickle' | sort | head -n "$runs")
n=${#files[@]}
mb=$(du -cb "${files[@]}" | tail -n 1 | awk '{printf "%.1f", $1 / 1e6}')
cargo build --release --locked -p numpickle --example decode_bench >/dev/null 2>&1
bench="${CARGO_TARGET_DIR:-$root/target}/release/examples/decode_bench"

cat "${files[@]}" >/dev/null   # warm the page cache: every tool reads the same cached bytes
t_cat=$( { /usr/bin/time -f %e cat "${files[@]}" >/dev/null; } 2>&1 )
t_py=$("$py" - "${files[@]}" <<'PY'
import pickle, sys, time
t = time.perf_counter()
for f in sys.argv[1:]:
    with open(f, "rb") as fh:
        pickle.load(fh)
print(f"{time.perf_counter() - t:.3f}")
PY
)
read -r t_sel t_full < <(BENCH_RUNS=1 "$bench" --totals "${files[@]}")
printf '\n%d pickles, %s MB, one core, warm page cache\n' "$n" "$mb"
printf '%-34s %9s %12s %10s\n' "reader" "total s" "ms / pickle" "vs pickle"
for row in "cat (read limit):$t_cat" "Python pickle.load:$t_py" "mlrepro selective decode:$t_sel" "mlrepro full decode:$t_full"; do
    name="${row%%:*}"; t="${row##*:}"
    awk -v n="$n" -v t="$t" -v py="$t_py" -v name="$name" 'BEGIN { printf "%-34s %9.3f %12.2f %9.1fx\n", name, t, 1000 * t / n, py / t }'
done
