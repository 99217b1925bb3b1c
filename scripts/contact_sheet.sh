#!/usr/bin/env bash
# Contact sheet: one PNG page of every figure in a figures directory, each tile labelled with
# its file name, for the README (ImageMagick's `montage` and `convert`).
#
#   scripts/contact_sheet.sh [FIGURES_DIR] [OUT]     default: figures → assets/figures.png
#
# Run it after `make reproduce` (with the traces figure, which needs the private demo
# subjects) and commit the result.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-figures}
out=${2:-assets/figures.png}
for tool in montage convert; do
  command -v "$tool" >/dev/null || { echo "contact_sheet: ImageMagick's $tool is required" >&2; exit 2; }
done
shopt -s nullglob
pngs=("$dir"/*.png)
if [ ${#pngs[@]} -eq 0 ]; then
  echo "contact_sheet: no PNG figure in $dir (run make reproduce first)" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Every figure at the same scale (40 %: 120 dpi from the default 300), so the page shows
# their printed sizes side by side; labelled with the embedded font.
mkdir "$tmp/tiles"
tiles=()
for png in "${pngs[@]}"; do
  tile="$tmp/tiles/$(basename "$png")"
  convert "$png" -resize 40% "$tile.small.png"
  montage -label "$(basename "$png" .png)" -font "$repo/assets/fonts/DejaVuSans.ttf" \
    -pointsize 24 "$tile.small.png" -geometry '+16+16' -background white "$tile"
  tiles+=("$tile")
done
# Three tiles a row, top-aligned; the rows stacked, left-aligned.
rows=()
for ((i = 0; i < ${#tiles[@]}; i += 3)); do
  row="$tmp/row$i.png"
  convert -background white -gravity north "${tiles[@]:i:3}" +append "$row"
  rows+=("$row")
done
convert -background white -gravity west "${rows[@]}" -append "$tmp/sheet.png"
convert "$tmp/sheet.png" -strip -colors 128 "PNG8:$tmp/small.png"
mkdir -p "$(dirname "$out")"
mv "$tmp/small.png" "$out"
echo "contact_sheet: ${#pngs[@]} figures → $out ($(du -h "$out" | cut -f1))"
