#!/usr/bin/env bash
# make bench: every measurement side by side in one run, printed as tables of ratios.
#
#   decode   one core: cat, Python pickle.load and mlrepro's readers on full-size pickles (#4)
#   extract  the reference exporter vs `mlrepro extract` cold at 1…nproc jobs (#5)
#   runner   `reproduce` cold / no-op / one run added, and DVC and Snakemake no-ops, on the demo
#            store and on the full corpus (#6)
#
# Variables:
#   BENCH_ONLY="decode extract runner"   which sections to run (default all)
#   BENCH_CORPUS=DIR      the full-size corpus (default bench-corpus/mlruns; made or extended
#                         with the fixture generator, about 3 s per run per core)
#   BENCH_CORPUS_RUNS=N   runs in the corpus (default 401: 400, and one to add)
#   BENCH_DECODE_RUNS=N   pickles decoded (default 8)
#   BENCH_EXTRACT_RUNS=N  runs extracted (default 100)
#   BENCH_REPEAT=N        cold extractions per binary and job count (default 3; the median counts)
#   BENCH_BASELINE=BIN    another mlrepro binary, its extractions timed beside this one's
#   REFERENCE_REPO=DIR    a checkout of petteriTeikari/foundation_PLR, for the reference exporter
# Needs the fixture venv (`make fixtures` creates it); the reference and peer tools get their
# own venvs (.venv-bench, .venv-peers), made on first use.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$bench_root"
[[ -x "$fixtures_py" ]] || die "$fixtures_py is missing; run \`make fixtures\` first"
[[ -x "$mlrepro" ]] || die "$mlrepro is missing; run \`make build\` first"
only="${BENCH_ONLY:-decode extract runner}"
corpus="${BENCH_CORPUS:-$bench_root/bench-corpus/mlruns}"
corpus=$(scripts/bench/corpus.sh "$corpus" "${BENCH_CORPUS_RUNS:-401}")
work="$(dirname "$corpus")/work"
peers_work="$(mktemp -d "${TMPDIR:-/tmp}/mlrepro-bench-peers.XXXXXX")"
trap 'rm -rf "$work" "$peers_work"' EXIT
mkdir -p "$work"
for section in $only; do
    case "$section" in
        decode) scripts/bench/decode.sh "$corpus" "${BENCH_DECODE_RUNS:-8}" ;;
        extract) scripts/bench/extract.sh "$corpus" "${BENCH_EXTRACT_RUNS:-100}" "$work" ;;
        runner)
            scripts/bench/runner.sh demo "$bench_root/data/demo/mlruns" "$work" "$peers_work"
            scripts/bench/runner.sh corpus "$corpus" "$work" "$peers_work"
            ;;
        *) die "unknown section \`$section\` in BENCH_ONLY (decode, extract, runner)" ;;
    esac
done
