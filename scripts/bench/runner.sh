#!/usr/bin/env bash
# The step runner on one store, side by side in one run: `mlrepro reproduce` cold (empty
# cache), as a no-op (nothing changed; with and without the run report), and after one run is
# added to the store; then the no-op of DVC and Snakemake over the same inputs and step graph
# (peers.sh).
#
#   scripts/bench/runner.sh LABEL STORE_DIR WORKDIR PEERS_WORKDIR
#   BENCH_PEERS=0   skip the DVC and Snakemake no-ops (their venv is made on first use)
# The store's newest run is held back for the cold and no-op runs, then added.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[[ $# -eq 4 ]] || die "usage: $0 LABEL STORE_DIR WORKDIR PEERS_WORKDIR"
label="$1" work="$3" peers_work="$4"
exp=$(only_experiment "$2")
held=$(newest_run "$exp")
mapfile -t runs < <(runs_of "$exp" | grep -vxF "$held")
n=${#runs[@]}
store="$work/runner-$label-store"
project="$work/runner-$label"
substore "$exp" "$store" "${runs[@]}"
rm -rf "$project" && mkdir -p "$project"
bench_config "$project" "$store"
warm "$exp"
reproduce() { (cd "$project" && timed json err "$mlrepro" -c bench.yaml --no-progress reproduce --json "$@"); }

say "$label: cold reproduce of $n runs"
t_cold=$(reproduce)
x_cold=$(step_field "$project/json" extract seconds)
# The no-op, alternated with the same no-op without the run report, to measure the report's
# cost under the same noise.
t_noop="" t_noop_bare=""
for _ in 1 2 3 4 5; do
    t=$(reproduce --no-report)
    t_noop_bare=$(awk -v a="$t" -v b="$t_noop_bare" 'BEGIN { print (b == "" || a < b) ? a : b }')
    t=$(reproduce)
    grep -q '"status": "ran"' "$project/json" && die "$label: the no-op reproduce ran a step"
    t_noop=$(awk -v a="$t" -v b="$t_noop" 'BEGIN { print (b == "" || a < b) ? a : b }')
done
link_into "$store/$(basename "$exp")" "$held"
say "$label: reproduce after adding run $(basename "$held")"
t_add=$(reproduce)
x_add=$(step_field "$project/json" extract seconds)
parsed=$(step_field "$project/json" extract runs_parsed)
(( parsed == 1 )) || die "$label: adding one run re-parsed $parsed runs"

dvc="" smk=""
if [[ "${BENCH_PEERS:-1}" != 0 ]]; then
    say "$label: DVC and Snakemake no-ops"
    peers=$("$bench_root/scripts/bench/peers.sh" "$store" "$peers_work/$label")
    dvc=$(sed -n 's/^dvc_noop_s=//p' <<<"$peers")
    smk=$(sed -n 's/^snakemake_noop_s=//p' <<<"$peers")
fi

printf '\nRunner on %s: %d runs, then 1 added; %d cores, warm page cache\n' "$label" "$n" "$(nproc)"
printf '%-44s %10s %12s\n' "pipeline" "wall s" "extract s"
printf '%-44s %10.3f %12.3f\n' "mlrepro reproduce, cold" "$t_cold" "$x_cold"
printf '%-44s %10.3f %12s\n' "mlrepro reproduce, no-op (best of 5)" "$t_noop" "-"
awk -v a="$t_noop" -v b="$t_noop_bare" 'BEGIN {
    printf "%-44s %10.3f %12s  (the report adds %.0f ms)\n", "mlrepro reproduce, no-op, --no-report", b, "-", 1000 * (a - b) }'

awk -v t="$t_add" -v x="$x_add" -v c="$x_cold" 'BEGIN {
    printf "%-44s %10.3f %12.3f  (%.1f%% of cold extract)\n", "mlrepro reproduce, one run added", t, x, 100 * x / c }'
if [[ -n "$dvc" ]]; then
    printf '%-44s %10.3f %12s\n' "DVC dvc repro, no-op (best of 3)" "$dvc" "-"
    printf '%-44s %10.3f %12s\n' "Snakemake, no-op (best of 3)" "$smk" "-"
fi
