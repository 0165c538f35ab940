#!/usr/bin/env bash
# The paper's Figure 4 on a converged proposal: posteriors over strings for 4 clean, 4 noisy
# (white noise sigma 5, the paper's shift) and 4 real Wikipedia captchas, with the paper's pixel
# likelihood and with the letter-count likelihood (width fitted on held-aside synthetic captchas).
# Usage: bash scripts/figure4.sh [CHECKPOINT] [REAL_DIR] [OUT]   (seeds fixed below)
set -euo pipefail
ckpt=${1:-results/zoo/wikipedia-plain-crnn_ctc-cpu-s0}
real=${2:-../shared/data/wikipedia-sample}
out=${3:-results/posterior/figure4}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/synthgap generate --style wikipedia -n 4 --seed 4242 --out "$work/clean" >/dev/null
.venv/bin/synthgap generate --style wikipedia -n 4 --seed 4243 --set noise_sigma=5 --out "$work/noise5" >/dev/null
for set in clean noise5; do  # name each image by its set and true text, as the real ones are
    tail -n +2 "$work/$set/labels.csv" | cut -d, -f1,2 | while IFS=, read -r file text; do
        mv "$work/$set/$file" "$work/$set/$set-$text.png"
    done
done
mapfile -t reals < <(find "$real" -maxdepth 1 -name '*.png' | sort | head -4)
images=("$work"/clean/*.png "$work"/noise5/*.png "${reals[@]}")
rm -rf "$out"
mkdir -p "$out"
for lik in pixels letters; do
    .venv/bin/synthgap posterior "$ckpt" "${images[@]}" -M 100 --seed 0 --likelihood "$lik" --top-k 5 \
        --out "$out/$lik"
done
