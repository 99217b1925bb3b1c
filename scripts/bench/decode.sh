#!/usr/bin/env bash
# Decoding speed of full-size metrics pickles, on one core, side by side in one run: `cat` of
# the bytes (the read limit), Python's pickle.load, and mlrepro: extraction's own read path
# (memory map, selective decode of what extraction needs, validation), the same selective
# decode from bytes read into a buffer, and a full decode.
#
#   scripts/bench/decode.sh STORE_DIR N     (the first N pickles of the store, by run id)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[[ $# -eq 2 ]] || die "usage: $0 STORE_DIR N"
mapfile -t files < <(find "$1" -path '*/artifacts/metrics/metrics_*.pickle' | sort | head -n "$2")
n=${#files[@]}
(( n > 0 )) || die "$1 holds no metrics pickles"
mb=$(du -cb "${files[@]}" | tail -n 1 | awk '{printf "%.1f", $1 / 1e6}')
cargo build --release --locked --example read_bench >&2
bench="$target_dir/release/examples/read_bench"

warm "${files[@]}"
t_cat=$( { /usr/bin/time -f %e taskset -c 0 cat "${files[@]}" >/dev/null; } 2>&1 )
t_py=$(taskset -c 0 "$fixtures_py" - "${files[@]}" <<'PY'
import pickle, sys, time
t = time.perf_counter()
for f in sys.argv[1:]:
    with open(f, "rb") as fh:
        pickle.load(fh)
print(f"{time.perf_counter() - t:.3f}")
PY
)
read -r t_map t_sel t_full < <(taskset -c 0 "$bench" "${files[@]}")
printf '\nDecode: %d pickles, %s MB, one core, warm page cache\n' "$n" "$mb"
printf '%-44s %9s %12s %10s\n' "reader" "total s" "ms / pickle" "vs pickle"
for row in "cat (read limit):$t_cat" "Python pickle.load:$t_py" \
    "mlrepro, extraction's read path (mmap):$t_map" "mlrepro selective decode (read + decode):$t_sel" \
    "mlrepro full decode (read + decode):$t_full"; do
    name="${row%%:*}"; t="${row##*:}"
    awk -v n="$n" -v t="$t" -v py="$t_py" -v name="$name" \
        'BEGIN { printf "%-44s %9.3f %12.2f %9.1fx\n", name, t, 1000 * t / n, py / t }'
done
