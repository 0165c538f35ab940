#!/usr/bin/env bash
# Training samples/s of crnn_ctc --bf16 on wikipedia: one process (the measured split of render
# processes and torch threads) against --processes 2 (data-parallel), in ABBA order so that a
# machine that speeds up or slows down during the runs favours neither. Each run trains MINUTES
# (default 1.5) from seed 0 and prints: batch size, processes, samples/s, where the time went.
# Usage: bash scripts/train_speed.sh OUT_DIR [MINUTES]
set -euo pipefail
out=${1:?usage: bash scripts/train_speed.sh OUT_DIR [MINUTES]}
minutes=${2:-1.5}
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
k=0
for spec in 128-1 128-2 256-1 256-2 256-2 256-1 128-2 128-1; do
  b=${spec%-*}; p=${spec#*-}; k=$((k + 1))
  run="$out/run$k-batch$b-processes$p"
  rm -rf "$run"
  "$here/.venv/bin/synthgap" train --style wikipedia --model crnn_ctc --bf16 --minutes "$minutes" \
    --batch-size "$b" --processes "$p" --seed 0 --out "$run" > "$run.log" 2>&1
  "$here/.venv/bin/python" -c "
import json, sys
c = json.load(open(sys.argv[1] + '/config.json'))
print(sys.argv[2], sys.argv[3], c['samples_per_s'], json.dumps(c['time_s']), flush=True)" "$run" "$b" "$p"
done
