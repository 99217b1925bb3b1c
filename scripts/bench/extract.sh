#!/usr/bin/env bash
# Extraction of N full-size runs, side by side in one run: the reference pipeline's own
# exporter (StreamingDuckDBExporter from a checkout of petteriTeikari/foundation_PLR, run
# unchanged by reference_export.py) and `mlrepro extract` cold (empty cache: every pickle
# decoded and every run computed) at 1, 2, 4, … jobs up to the number of cores, with each
# process's peak RSS; then the peak RSS of `extract -j 2` on a larger corpus (memory must stay
# bounded by the jobs in flight, whatever the number of runs).
#
#   scripts/bench/extract.sh STORE_DIR N WORKDIR
#   REFERENCE_REPO=DIR     the reference checkout (without it, the reference is not run)
#   BENCH_BASELINE=BIN     another mlrepro binary (e.g. a build of an earlier commit), timed
#                          the same way beside this one
#   BENCH_RSS_RUNS="400"   the larger corpus sizes for the peak-RSS table ("" to skip)
#   BENCH_REPEAT=3         cold extractions per binary and job count, the baseline's and this
#                          binary's interleaved; the median time and the largest peak RSS count
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
baseline="${BENCH_BASELINE:-}"
[[ -z "$baseline" || -x "$baseline" ]] || die "BENCH_BASELINE=$baseline is not an executable"

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

# Times a cold extraction of STORE at J jobs by BIN, printing "SECONDS MIB".
#   cold_extract BIN STORE J TAG
cold_extract() {
    local bin="$1" st="$2" j="$3" tag="$4" project
    project="$work/extract-$tag-j$j"
    rm -rf "$project" && mkdir -p "$project"
    bench_config "$project" "$st"
    (cd "$project" && timed_rss json err "$bin" -c bench.yaml --no-progress extract -j "$j" --json)
    rm -rf "$project"
}

# The median of the times and the largest of the peak RSSs in lines of "SECONDS MIB".
median_and_peak() {
    sort -n | awk '{ t[NR] = $1; if ($2 > rss) rss = $2 }
        END { m = NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2; printf "%.3f %.1f\n", m, rss }'
}

repeat=${BENCH_REPEAT:-3}
(( repeat >= 1 )) || die "BENCH_REPEAT=$repeat: at least one extraction is needed"
jobs=(1)
for j in 2 4 8 16 32 64 128; do (( j <= $(nproc) )) && jobs+=("$j"); done
declare -A t_ml rss_ml t_base rss_base
for j in "${jobs[@]}"; do
    ours=() theirs=()
    for ((k = 1; k <= repeat; k++)); do
        if [[ -n "$baseline" ]]; then
            say "baseline $(basename "$baseline") extract -j $j on $n runs ($k of $repeat)"
            theirs+=("$(cold_extract "$baseline" "$store" "$j" base)")
        fi
        say "mlrepro extract -j $j on $n runs ($k of $repeat)"
        project="$work/extract-j$j"
        rm -rf "$project" && mkdir -p "$project"
        bench_config "$project" "$store"
        ours+=("$(cd "$project" && timed_rss json err "$mlrepro" -c bench.yaml --no-progress extract -j "$j" --json)")
        parsed=$(step_field "$project/json" extract runs_parsed)
        (( parsed == n )) || die "mlrepro -j $j parsed $parsed runs, not $n"
    done
    read -r "t_ml[$j]" "rss_ml[$j]" < <(printf '%s\n' "${ours[@]}" | median_and_peak)
    if [[ -n "$baseline" ]]; then
        read -r "t_base[$j]" "rss_base[$j]" < <(printf '%s\n' "${theirs[@]}" | median_and_peak)
    fi
done

printf '\nExtract: %d full-size runs (%s MB), cold, warm page cache, %d cores; median of %d\n' \
    "$n" "$mb" "$(nproc)" "$repeat"
printf '%-40s %9s %9s %9s %12s %12s %12s\n' "extractor" "total s" "runs / s" "vs -j 1" "vs reference" "vs baseline" "peak RSS MiB"
row() {
    awk -v name="$1" -v t="$2" -v n="$n" -v one="$3" -v ref="$t_ref" -v base="$4" -v rss="$5" 'BEGIN {
        vs_ref = ref == "" ? "-" : sprintf("%.1fx", ref / t)
        vs_one = one == "" ? "-" : sprintf("%.2fx", one / t)
        vs_base = base == "" ? "-" : sprintf("%.2fx", base / t)
        printf "%-40s %9.2f %9.1f %9s %12s %12s %12s\n", name, t, n / t, vs_one, vs_ref, vs_base, rss }'
}
if [[ -n "$t_ref" ]]; then row "reference StreamingDuckDBExporter" "$t_ref" "" "" "-"; fi
if [[ -n "$baseline" ]]; then
    for j in "${jobs[@]}"; do
        row "baseline extract -j $j" "${t_base[$j]}" "${t_base[1]}" "" "${rss_base[$j]}"
    done
fi
for j in "${jobs[@]}"; do
    row "mlrepro extract -j $j" "${t_ml[$j]}" "${t_ml[1]}" "${t_base[$j]:-}" "${rss_ml[$j]}"
done
printf '(runs / s is the scaling with jobs; the reference exporter'"'"'s peak RSS is not measured)\n'

# Peak RSS against corpus size: bounded by the jobs in flight, not by the number of runs.
j=$(( $(nproc) >= 2 ? 2 : 1 ))
sizes=("$n")
for m in ${BENCH_RSS_RUNS-400}; do
    have=$(runs_of "$exp" | wc -l)
    if (( m > have )); then say "the corpus holds $have runs, fewer than $m: skipped"; continue; fi
    sizes+=("$m")
done
declare -A t_big rss_big t_big_base rss_big_base
for m in "${sizes[@]}"; do
    if (( m == n )); then
        t_big[$m]=${t_ml[$j]} rss_big[$m]=${rss_ml[$j]}
        t_big_base[$m]=${t_base[$j]:-} rss_big_base[$m]=${rss_base[$j]:-}
        continue
    fi
    mapfile -t more < <(runs_of "$exp" | head -n "$m")
    big="$work/extract-store-$m"
    substore "$exp" "$big" "${more[@]}"
    warm "$big"
    if [[ -n "$baseline" ]]; then
        say "baseline extract -j $j on $m runs"
        r=$(cold_extract "$baseline" "$big" "$j" "base-$m")
        read -r "t_big_base[$m]" "rss_big_base[$m]" <<<"$r"
    fi
    say "mlrepro extract -j $j on $m runs"
    r=$(cold_extract "$mlrepro" "$big" "$j" "$m")
    read -r "t_big[$m]" "rss_big[$m]" <<<"$r"
    rm -rf "$big"
done
printf '\nPeak RSS of a cold extract -j %d, by corpus size\n' "$j"
printf '%-10s %14s %16s %14s %16s\n' "runs" "mlrepro s" "mlrepro MiB" "baseline s" "baseline MiB"
for m in "${sizes[@]}"; do
    printf '%-10s %14s %16s %14s %16s\n' "$m" "${t_big[$m]}" "${rss_big[$m]}" "${t_big_base[$m]:--}" "${rss_big_base[$m]:--}"
done
