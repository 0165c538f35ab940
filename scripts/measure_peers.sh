#!/usr/bin/env bash
# results/peers/: off-the-shelf solvers (ddddocr, tesseract) on the real sets, zero-shot ("open")
# and restricted to the style's charset ("restricted"). Deterministic (no seeds: the peers are
# fixed pretrained programs). Tesseract is not timed: its timing pass alone (1380 reads at
# ~0.15 s) would take minutes per set. Usage: bash scripts/measure_peers.sh [REAL_DATA_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
REAL=${1:-../shared/data}
OUT=results/peers
for pair in captcha_v2:captcha_images_v2 wikipedia:wikipedia-sample facebook:facebook-sample; do
    style=${pair%%:*}; folder=$REAL/${pair#*:}
    for restrict in "" --restrict; do
        .venv/bin/synthgap eval-peer ddddocr --real "$folder" --style "$style" $restrict --out $OUT
        .venv/bin/synthgap eval-peer tesseract --real "$folder" --style "$style" $restrict --no-timing --out $OUT
    done
done
.venv/bin/python scripts/peers_table.py "$OUT"
