# Helpers shared by the `make bench` sections (sourced, not run).

bench_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$bench_root/target}"
mlrepro="$target_dir/release/mlrepro"
fixtures_py="$bench_root/.venv-fixtures/bin/python"

say() { echo "[bench] $*" >&2; }
die() { echo "[bench] error: $*" >&2; exit 1; }

# Creates or refreshes a virtual environment from a pinned requirements file. It is rebuilt
# only when the file's sha256 differs from the stamp, which is written after a complete
# install (so an interrupted one is redone). PYTHON selects the base interpreter.
#   make_venv DIR REQUIREMENTS
make_venv() {
    local dir="$1" req="$2" stamp want
    stamp="$dir/.requirements.sha256"
    want="$(sha256sum "$req" | cut -d' ' -f1)"
    if [[ -x "$dir/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        return 0
    fi
    say "creating $dir from $(basename "$req")"
    rm -f "$stamp"
    "${PYTHON:-python3}" -m venv --clear "$dir"
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
    echo "$want" >"$stamp"
}

# Seconds since the epoch, to the nanosecond.
now() { date +%s.%N; }

# Wall-clock seconds of a command; its stdout and stderr go to the given files.
#   timed OUT ERR cmd...
timed() {
    local out="$1" err="$2" start end
    shift 2
    start=$(now)
    "$@" >"$out" 2>"$err" || { cat "$err" >&2; die "failed: $*"; }
    end=$(now)
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }'
}

# Wall-clock seconds and peak RSS in MiB of a command (wait4 of the child), printed as
# "SECONDS MIB"; its stdout and stderr go to the given files.
#   timed_rss OUT ERR cmd...
timed_rss() {
    local out="$1" err="$2"
    shift 2
    "$fixtures_py" - "$out" "$err" "$@" <<'PY'
import os, sys, time
out, err, *cmd = sys.argv[1:]
with open(out, "wb") as o, open(err, "wb") as e:
    start = time.monotonic()
    pid = os.posix_spawnp(cmd[0], cmd, os.environ, file_actions=[
        (os.POSIX_SPAWN_DUP2, o.fileno(), 1), (os.POSIX_SPAWN_DUP2, e.fileno(), 2)])
    _, status, usage = os.wait4(pid, 0)
    seconds = time.monotonic() - start
code = os.waitstatus_to_exitcode(status)
if code != 0:
    sys.stderr.write(open(err, errors="replace").read())
    sys.exit(f"[bench] error: failed ({code}): {' '.join(cmd)}")
print(f"{seconds:.3f} {usage.ru_maxrss / 1024:.1f}")
PY
}

# The experiment directories of a file store (those with a meta.yaml naming an experiment).
experiments() {
    local d
    for d in "$1"/*/; do
        [[ -f "$d/meta.yaml" ]] && grep -q '^experiment_id:' "$d/meta.yaml" && echo "${d%/}"
    done
    return 0
}

# The run directories of an experiment directory, sorted.
runs_of() {
    local d
    for d in "$1"/*/; do
        [[ -f "$d/meta.yaml" ]] && grep -q '^run_id:' "$d/meta.yaml" && echo "${d%/}"
    done | sort
}

# The experiment directory of a store that holds runs; fails if there is not exactly one.
only_experiment() {
    local found=() d
    while read -r d; do
        [[ -n "$(runs_of "$d")" ]] && found+=("$d")
    done < <(experiments "$1")
    [[ ${#found[@]} -eq 1 ]] || die "$1: expected one experiment with runs, found ${#found[@]}"
    echo "${found[0]}"
}

# The run directory with the latest start_time in an experiment directory.
newest_run() {
    local d t best="" best_t=-1
    while read -r d; do
        t=$(awk '/^start_time:/ { print $2 }' "$d/meta.yaml")
        if [[ -n "$t" ]] && (( t > best_t )); then best_t=$t; best=$d; fi
    done < <(runs_of "$1")
    [[ -n "$best" ]] || die "$1: no run with a start_time"
    echo "$best"
}

# A store at DST with the experiment of SRC and the given run directories of it, hard-linked
# (a copy where DST is on another filesystem). Store readers see an ordinary file store.
#   substore SRC_EXPERIMENT_DIR DST run_dir...
substore() {
    local exp="$1" dst="$2" name
    shift 2
    name="$(basename "$exp")"
    rm -rf "$dst"
    mkdir -p "$dst/$name"
    cp "$exp/meta.yaml" "$dst/$name/meta.yaml"
    [[ $# -eq 0 ]] || link_into "$dst/$name" "$@"
}

# Hard-links directories into DIR (copies them where DIR is on another filesystem).
#   link_into DIR path...
link_into() {
    local dir="$1"
    shift
    cp -al "$@" "$dir/" 2>/dev/null || cp -a "$@" "$dir/"
}

# Reads every file under the given paths once, so each tool starts from the same warm page
# cache.
warm() { find "$@" -type f -print0 | xargs -0 cat >/dev/null; }

# A config for a bench project directory: the store, and every output inside the directory.
#   bench_config DIR STORE
bench_config() {
    cat >"$1/bench.yaml" <<EOF
store:
  tracking_uri: $(cd "$2" && pwd -P)
outputs:
  db: public/results.duckdb
  private_dir: private
  figures_dir: figures
  outputs_dir: outputs
  cache_dir: .mlrepro
EOF
}

# A field of the first step named STEP in a `--json` summary.
#   step_field FILE STEP FIELD   (FIELD: seconds, or a key of details such as runs_parsed)
step_field() {
    "$fixtures_py" - "$@" <<'PY'
import json, sys
path, step, field = sys.argv[1:]
for s in json.load(open(path))["steps"]:
    if s["step"] == step:
        value = s[field] if field in s else (s.get("details") or {}).get(field)
        print(value)
        break
else:
    sys.exit(f"no step {step} in {path}")
PY
}

# Ratio a / b to one decimal.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
