#!/usr/bin/env bash
# How wikipedia crnn_ctc's learning rate and batch were chosen: 4-minute CPU trainings (seed 0),
# compared on their validation set (512 captchas of the validation stream, never the seed-100 test
# set of results/models). Each config.json goes to results/models/wikipedia-crnn_ctc-choice/.
# Usage: scripts/wikipedia_choice.sh [LR:BATCH ...]   (default: the grid below; one training at a time)
set -euo pipefail
cd "$(dirname "$0")/.."
dest=results/models/wikipedia-crnn_ctc-choice
mkdir -p "$dest"
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=(2e-3:64 3e-3:64 5e-3:64 2e-3:32 3e-3:32)
for spec in "${specs[@]}"; do
    lr=${spec%%:*} batch=${spec#*:}
    ck=out/choice/wikipedia-lr$lr-b$batch
    rm -rf "$ck"
    .venv/bin/synthgap train --style wikipedia --model crnn_ctc --lr "$lr" --batch-size "$batch" --minutes 4 \
        --seed 0 --out "$ck"
    cp "$ck/config.json" "$dest/config-lr$lr-b$batch.json"
done
.venv/bin/python - "$dest" <<'PY'
import json, sys
from pathlib import Path
for p in sorted(Path(sys.argv[1]).glob("config-*.json")):
    c = json.loads(p.read_text())
    print(f"{p.stem:24s} lr {c['lr']:<7g} batch {c['batch_size']:<4d} steps {c['steps']:<6d} "
          f"{c['samples_per_s']:6.0f} samples/s  validation {c['val']['recognition_rate']:.3f}")
PY
