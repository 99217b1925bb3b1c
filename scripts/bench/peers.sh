#!/usr/bin/env bash
# The no-op time of two peer pipeline tools, DVC and Snakemake, over the same inputs and the
# same step graph as `mlrepro reproduce`, for comparison with mlrepro's no-op in `make bench`.
#
#   scripts/bench/peers.sh STORE_DIR WORKDIR
#
# STORE_DIR  an MLflow file store (the directory holding the experiment directories).
# WORKDIR    where the two projects are built: WORKDIR/dvc (git + DVC) and WORKDIR/smk
#            (Snakefile). Must lie outside this repository; made if absent; a non-empty
#            WORKDIR is only reused if an earlier run of this script made it. Left in place.
#
# The graph, as in mlrepro: extract (every file under the store + the config) -> the checkpoint
# and its companions; verify (the checkpoint); 14 figure steps and a tables step (the checkpoint
# + the config); the report (every figure sidecar and table). Each step's command is a cheap
# stand-in that writes the declared outputs: only the no-op is timed. The store is a dependency
# only, never an output, so neither tool copies or caches it.
#
# Each tool runs once cold (timed, reported on stderr), then its no-op (`dvc repro`,
# `snakemake --cores 1`) is timed best of PEERS_REPEAT (default 3), wall clock. A no-op that
# runs any step fails the script. stdout carries exactly two lines:
#   dvc_noop_s=<float>
#   snakemake_noop_s=<float>
# Everything else goes to stderr.
#
# Creates the git-ignored virtual environment .venv-peers/ next to the repository root from
# requirements-peers.txt (refreshed when that file changes). PYTHON selects the base
# interpreter (default python3, 3.11).
set -euo pipefail
export LC_ALL=C

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
repeat="${PEERS_REPEAT:-3}"

source "$here/lib.sh"   # make_venv
say() { echo "[peers] $*" >&2; }
die() { echo "[peers] error: $*" >&2; exit 1; }

[[ $# -eq 2 ]] || die "usage: $0 STORE_DIR WORKDIR"
[[ -d "$1" ]] || die "store \`$1\` is not a directory"
store="$(cd "$1" && pwd -P)"
work="$(realpath -m "$2")"
root_real="$(cd "$root" && pwd -P)"
case "$work/" in
    "$root_real"/*) die "WORKDIR \`$work\` lies inside the repository; put it elsewhere (e.g. under /tmp)" ;;
esac
case "$store/" in
    "$work"/*) die "the store must not lie inside WORKDIR" ;;
esac
case "$work/" in
    "$store"/*) die "WORKDIR must not lie inside the store" ;;
esac
case "$store" in
    # It is written into dvc.yaml (which interpolates \${…}) and the Snakefile (patterns {…}).
    *[\"\\\$\{\}$'\n']*) die "the store path must not hold any of \" \\ \$ { } or a newline" ;;
esac
mkdir -p "$work"
marker="$work/.mlrepro-peers"
if [[ ! -f "$marker" && -n "$(ls -A "$work")" ]]; then
    die "WORKDIR \`$work\` is not empty and was not made by this script"
fi
touch "$marker"

# --- the virtual environment ----------------------------------------------------------------
venv="$root/.venv-peers"
make_venv "$venv" "$here/requirements-peers.txt"
dvc="$venv/bin/dvc"
snakemake="$venv/bin/snakemake"
export DVC_NO_ANALYTICS=1
# DVC's state DB (inode, mtime, size -> hash) lives in WORKDIR, not under /var/tmp/dvc.
export DVC_SITE_CACHE_DIR="$work/dvc-site-cache"

# --- the step graph (names as in src/analyze/figures, src/analyze/tables.rs) -----------------
config=configs/bench.yaml
ckpt=data/public/results.duckdb
extract_outs=("$ckpt" "$ckpt.sha256" data/public/SCHEMA.md data/private/subject_lookup.yaml)
verify_out=data/public/.verified
figures=(factorial_design dashboard
         forest_outlier forest_imputation forest_classifier forest_featurization
         heatmap specification_curve mean_rank calibration_curves decision_curves
         probability_distributions retention_curves subject_traces)
formats=(png svg pdf json)
tables=(comparison_outlier.tex comparison_imputation.tex comparison_classifier.tex
        comparison_featurization.tex top_pipelines.tex stratos.tex anova.tex anova.json
        numbers.tex)
report=outputs/analysis_report.json
n_steps=$((4 + ${#figures[@]}))   # extract, verify, the figures, tables, report

n_files=$(find "$store" -type f | wc -l)
say "store $store: $n_files files, $(du -sh "$store" | cut -f1)"

# Files every project shares: the config (an input of extract, figures and tables) and the
# stand-in command.
common() {
    local dir="$1"
    mkdir -p "$dir/configs"
    cp "$root/configs/default.yaml" "$dir/$config"
    cat > "$dir/stand_in.sh" <<'SH'
#!/bin/sh
# Stand-in for an mlrepro step: writes each declared output.
step="$1"; shift
for f in "$@"; do
    mkdir -p "$(dirname "$f")"
    printf '%s %s\n' "$step" "$f" > "$f"
done
SH
}

yaml_list() { # indent, items...
    local pad="$1"; shift
    local x
    for x in "$@"; do printf '%s- "%s"\n' "$pad" "$x"; done
}

# --- (a) DVC ---------------------------------------------------------------------------------
build_dvc() {
    local d="$work/dvc"
    rm -rf "$d" "$DVC_SITE_CACHE_DIR"
    mkdir -p "$d"
    common "$d"
    (
        cd "$d"
        git init --quiet .
        "$dvc" init --quiet
        "$dvc" config core.analytics false
        "$dvc" config core.autostage false
        # Only the small stand-in outputs are cached; the store is a dependency, never an output.
        "$dvc" config cache.type symlink,copy
    ) >&2
    local f t fig_outs=() table_outs=() report_deps=()
    {
        echo "stages:"
        dvc_stage extract "$store" "$config" -- "${extract_outs[@]}"
        dvc_stage verify "$ckpt" "$ckpt.sha256" -- "$verify_out"
        for f in "${figures[@]}"; do
            fig_outs=()
            for t in "${formats[@]}"; do fig_outs+=("figures/$f.$t"); done
            report_deps+=("figures/$f.json")
            dvc_stage "figure_$f" "$ckpt" "$config" -- "${fig_outs[@]}"
        done
        for t in "${tables[@]}"; do table_outs+=("outputs/$t"); done
        report_deps+=("${table_outs[@]}")
        dvc_stage tables "$ckpt" "$config" -- "${table_outs[@]}"
        dvc_stage report "${report_deps[@]}" "$verify_out" -- "$report"
    } > "$d/dvc.yaml"
}

# One stage of dvc.yaml whose command is the stand-in writing its outputs.
#   dvc_stage NAME DEP... -- OUT...
dvc_stage() {
    local name="$1" deps=()
    shift
    while [[ "$1" != "--" ]]; do deps+=("$1"); shift; done
    shift
    echo "  $name:"
    echo "    cmd: sh stand_in.sh ${name#figure_} $*"
    echo "    deps:"
    yaml_list "      " "${deps[@]}"
    echo "    outs:"
    yaml_list "      " "$@"
}

# --- (b) Snakemake ---------------------------------------------------------------------------
py_list() { local x out=""; for x in "$@"; do out+="\"$x\", "; done; printf '[%s]' "${out%, }"; }

build_smk() {
    local d="$work/smk"
    rm -rf "$d"
    mkdir -p "$d"
    common "$d"
    cat > "$d/Snakefile" <<EOF
# The mlrepro step graph with stand-in commands (made by scripts/bench/peers.sh).
import glob
import os

STORE = "$store"
# extract's input: the explicit list of every file under the store.
STORE_FILES = sorted(
    f
    for f in glob.glob(os.path.join(glob.escape(STORE), "**"), recursive=True, include_hidden=True)
    if os.path.isfile(f)
)
CONFIG = "$config"
CKPT = "$ckpt"
FIGURES = $(py_list "${figures[@]}")
FORMATS = $(py_list "${formats[@]}")
TABLES = [f"outputs/{t}" for t in $(py_list "${tables[@]}")]


rule all:
    input:
        "$report",


rule extract:
    input:
        STORE_FILES,
        CONFIG,
    output:
        $(py_list "${extract_outs[@]}" | sed 's/^\[//; s/\]$//'),
    shell:
        "sh stand_in.sh extract {output}"


rule verify:
    input:
        CKPT,
        CKPT + ".sha256",
    output:
        "$verify_out",
    shell:
        "sh stand_in.sh verify {output}"


rule figure:
    input:
        CKPT,
        CONFIG,
    output:
        [f"figures/{{name}}.{ext}" for ext in FORMATS],
    wildcard_constraints:
        name="|".join(FIGURES),
    shell:
        "sh stand_in.sh {wildcards.name} {output}"


rule tables:
    input:
        CKPT,
        CONFIG,
    output:
        TABLES,
    shell:
        "sh stand_in.sh tables {output}"


rule report:
    input:
        [f"figures/{name}.json" for name in FIGURES],
        TABLES,
        "$verify_out",
    output:
        "$report",
    shell:
        "sh stand_in.sh report {output}"
EOF
}

# --- running and timing ----------------------------------------------------------------------
# timed LOG CMD...: runs CMD in the current directory, its output to LOG; prints the seconds.
timed() {
    local log="$1" t0 t1
    shift
    t0=$EPOCHREALTIME
    if ! "$@" > "$log" 2>&1; then
        cat "$log" >&2
        die "\`$*\` failed in $PWD"
    fi
    t1=$EPOCHREALTIME
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

min() { printf '%s\n' "$@" | sort -g | head -n 1; }

bench_dvc() {
    cd "$work/dvc"
    local t runs=() i
    t=$(timed cold.log "$dvc" repro)
    grep -c "^Running stage" cold.log | grep -qx "$n_steps" || { cat cold.log >&2; die "dvc's cold run did not run the $n_steps stages"; }
    say "dvc cold run ($n_steps stages, hashes the store): ${t}s"
    for ((i = 1; i <= repeat; i++)); do
        t=$(timed "noop$i.log" "$dvc" repro)
        if grep -q "Running stage" "noop$i.log" || ! grep -q "Data and pipelines are up to date" "noop$i.log"; then
            cat "noop$i.log" >&2
            die "dvc's no-op #$i was not a no-op"
        fi
        say "dvc no-op #$i: ${t}s"
        runs+=("$t")
    done
    "$dvc" status > status.log 2>&1 || { cat status.log >&2; die "dvc status failed"; }
    grep -q "Data and pipelines are up to date" status.log || { cat status.log >&2; die "dvc status: not up to date"; }
    echo "dvc_noop_s=$(min "${runs[@]}")"
}

bench_smk() {
    cd "$work/smk"
    local t runs=() i
    t=$(timed cold.log "$snakemake" --cores 1)
    local jobs=$((n_steps + 1))
    grep -q "$jobs of $jobs steps (100%) done" cold.log || { cat cold.log >&2; die "snakemake's cold run did not run the $n_steps steps and \`all\`"; }
    say "snakemake cold run ($n_steps jobs + all): ${t}s"
    for ((i = 1; i <= repeat; i++)); do
        t=$(timed "noop$i.log" "$snakemake" --cores 1)
        if ! grep -q "Nothing to be done" "noop$i.log" || grep -q "steps (100%) done" "noop$i.log"; then
            cat "noop$i.log" >&2
            die "snakemake's no-op #$i was not a no-op"
        fi
        say "snakemake no-op #$i: ${t}s"
        runs+=("$t")
    done
    echo "snakemake_noop_s=$(min "${runs[@]}")"
}

say "dvc $("$dvc" --version), snakemake $("$snakemake" --version); workdir $work"
build_dvc
build_smk
(bench_dvc)
(bench_smk)
