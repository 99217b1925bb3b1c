#!/usr/bin/env bash
# Extraction of N full-size runs, side by side in one run: the reference pipeline's own
# exporter (StreamingDuckDBExporter from a checkout of petteriTeikari/foundation_PLR, run
# unchanged by reference_export.py) and `mlrepro extract` cold (empty cache: every input is
# hashed and every run parsed) at 1, 2, 4, … jobs up to the number of cores.
#
#   scripts/bench/extract.sh STORE_DIR N WORKDIR
#   REFERENCE_REPO=DIR   the reference checkout (without it, the reference is not run)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[[ $# -eq 3 ]] || die "usage: $0 STORE_DIR N WORKDIR"
exp=$(only_experiment "$1")
mapfile -t runs < <(runs_of "$exp" | head -n "$2")
n=${#runs[@]}
(( n == $2 )) || die "$1 holds $n runs, fewer than $2"
work="$3"
store="$work/extract-store"
substore "$exp" "$store" "${runs[@]}"
mb=$(du -sbL "$store" | awk '{printf "%.0f", $1 / 1e6}')
warm "$store"

t_ref=""
if [[ -n "${REFERENCE_REPO:-}" ]]; then
    py=$("$bench_root/scripts/bench/reference_env.sh")
    say "reference exporter on $n runs"
    out=$("$py" "$bench_root/scripts/bench/reference_export.py" --reference-repo "$REFERENCE_REPO" \
        --mlruns "$store" --out "$work/reference.duckdb" --overwrite 2>"$work/reference.log") \
        || { tail -n 20 "$work/reference.log" >&2; die "the reference exporter failed (log: $work/reference.log)"; }
    [[ "$out" == "runs=$n "* ]] || die "the reference exporter extracted ${out%% *}, not runs=$n"
    t_ref="${out##*seconds=}"
else
    say "REFERENCE_REPO is not set: the reference exporter is not run (set it to a checkout of petteriTeikari/foundation_PLR)"
fi

jobs=(1)
for j in 2 4 8 16; do (( j <= $(nproc) )) && jobs+=("$j"); done
declare -A t_ml
for j in "${jobs[@]}"; do
    project="$work/extract-j$j"
    rm -rf "$project" && mkdir -p "$project"
    bench_config "$project" "$store"
    say "mlrepro extract -j $j on $n runs"
    t_ml[$j]=$(cd "$project" && timed json err "$mlrepro" -c bench.yaml --no-progress extract -j "$j" --json)
    parsed=$(step_field "$project/json" extract runs_parsed)
    (( parsed == n )) || die "mlrepro -j $j parsed $parsed runs, not $n"
done

printf '\nExtract: %d full-size runs (%s MB), cold, warm page cache, %d cores\n' "$n" "$mb" "$(nproc)"
printf '%-40s %9s %9s %12s %12s\n' "extractor" "total s" "runs / s" "vs -j 1" "vs reference"
row() {
    awk -v name="$1" -v t="$2" -v n="$n" -v one="$3" -v ref="$t_ref" 'BEGIN {
        vs_ref = ref == "" ? "-" : sprintf("%.1fx", ref / t)
        vs_one = one == "" ? "-" : sprintf("%.2fx", one / t)
        printf "%-40s %9.2f %9.1f %12s %12s\n", name, t, n / t, vs_one, vs_ref }'
}
if [[ -n "$t_ref" ]]; then row "reference StreamingDuckDBExporter" "$t_ref" ""; fi
for j in "${jobs[@]}"; do
    row "mlrepro extract -j $j" "${t_ml[$j]}" "${t_ml[1]}"
done
