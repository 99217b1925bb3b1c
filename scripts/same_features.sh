#!/usr/bin/env bash
# Fails when `cargo test` would build a dependency of `cargo build` with other features.
#
# Cargo's resolver (version 2) unifies a dev-dependency's features into the shared
# dependencies only when tests are built, so a dev-dependency that turns on one more feature
# of, say, regex or arrow makes `make test` after `make reproduce` compile polars, arrow and
# DuckDB a second time (20-30 minutes on 2 cores). This compares the features `cargo tree`
# resolves for the two builds, package by package, and names each one that differs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
features() {
    cargo tree --locked --workspace --prefix none -f '{p} {f}' -e "$1" | sed 's/ (\*)$//' | sort -u
}
build=$(features normal,build)
test=$(features normal,build,dev)
# Each package of the build (name and version) whose feature lines differ in the test build.
differ=$(comm -3 <(echo "$build") <(echo "$test") | awk '{ print $1 " " $2 }' | sort -u |
    comm -12 - <(echo "$build" | awk '{ print $1 " " $2 }' | sort -u))
if [[ -n "$differ" ]]; then
    echo "error: \`cargo test\` builds these dependencies with other features than \`cargo build\`:" >&2
    while read -r package; do
        echo "  $package" >&2
        echo "    build: $(grep -F "$package " <<<"$build" | cut -d' ' -f3- | paste -sd'|')" >&2
        echo "    test:  $(grep -F "$package " <<<"$test" | cut -d' ' -f3- | paste -sd'|')" >&2
    done <<<"$differ"
    echo "hint: give the dependency the same features in [dependencies] (see regex-automata in Cargo.toml)" >&2
    exit 1
fi
echo "same features: \`cargo test\` reuses every dependency \`cargo build\` compiles ($(wc -l <<<"$build") package lines; the test build adds $(comm -13 <(echo "$build" | awk '{print $1}' | sort -u) <(echo "$test" | awk '{print $1}' | sort -u) | wc -l) test-only packages)"
