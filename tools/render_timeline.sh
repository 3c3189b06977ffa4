#!/usr/bin/env bash
# Renders a procscript --timeline SVG to PNG in headless Chromium, to see it as a browser shows it.
#   tools/render_timeline.sh run.svg run.png
# Needs Debian's chromium (apt-get install chromium).
set -euo pipefail
svg=$(realpath "$1")
png=$(realpath -m "$2")
width=$(grep -o 'width="[0-9.]*"' "$svg" | head -1 | tr -dc '0-9.')
height=$(grep -o 'height="[0-9.]*"' "$svg" | head -1 | tr -dc '0-9.')
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --hide-scrollbars \
    --window-size="${width%.*},${height%.*}" --screenshot="$png" "file://$svg" 2>/dev/null
echo "wrote $png"
