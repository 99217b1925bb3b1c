#!/usr/bin/env bash
# Makes sure the bench corpus holds at least N full-size runs (n_test 63, B 1000, curves
# 200 × 1000, full train/val preds_dict; about 42 MB each), generating or appending the missing
# ones with the fixture generator (about 3 s per run per core). Prints the store's path.
#
#   scripts/bench/corpus.sh STORE_DIR N
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[[ $# -eq 2 ]] || die "usage: $0 STORE_DIR N"
store="$1" want="$2"
have=0
if [[ -d "$store" ]] && [[ -n "$(ls -A "$store")" ]]; then
    have=$(runs_of "$(only_experiment "$store")" | wc -l)
fi
if (( have < want )); then
    say "bench corpus $store: $have runs, generating $((want - have)) more (about $(( (want - have) * 3 / $(nproc) + 1 )) s)"
    if (( have == 0 )); then
        "$bench_root/scripts/fixtures/regenerate.sh" bench-corpus --out "$store" --runs "$want" >&2
    else
        "$bench_root/scripts/fixtures/regenerate.sh" bench-corpus --out "$store" --runs "$((want - have))" --append >&2
    fi
fi
cd "$store" && pwd -P
