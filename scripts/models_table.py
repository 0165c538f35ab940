"""Collect the eval JSONs under results/models/ into models.csv + models.md (measure_models.sh calls it)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from synthgap.models.base import Recognizer

out = Path(sys.argv[1] if len(sys.argv) > 1 else "results/models")
rows = []
for path in sorted(out.glob("*/*.json")):
    r = json.loads(path.read_text())
    if "recognition_rate" not in r:  # e.g. the training configs kept for a learning-rate choice
        continue
    t = r.get("training") or {}
    minutes = t.get("wall_s") and t["wall_s"] / 60
    trained_on = t.get("style") or (t.get("real") and "real")
    # reports written before input_hw / precision were recorded come from float32 checkpoints at
    # their size's input
    hw = t.get("input_hw") or Recognizer.input_sizes[t.get("size") or "cpu"]
    rows.append({"run": path.parent.name, "model": r["model"], "trained_on": trained_on,
                 "variant": t.get("variant"), "input": "x".join(map(str, hw)),
                 "precision": t.get("precision") or "fp32", "minutes": minutes,
                 "steps": t.get("steps"),
                 "batch": t.get("batch_size"), "lr": t.get("lr"), "samples_per_s": t.get("samples_per_s"),
                 "eval_set": f"{Path(r['real']).name} held-out n={r['n']}" if "real" in r
                 else f"{r['style']} {r['variant']} n={r['n']} seed {r['seed']}",
                 "recognition": r["recognition_rate"], "char_accuracy": r["char_accuracy"],
                 "ms_batch1": r.get("ms_per_captcha_batch1"),
                 "ms_per_captcha_batch256": r.get("ms_per_captcha_batch256")})  # fmt: skip
df = pd.DataFrame(rows)
df.to_csv(out / "models.csv", index=False)
text = df.to_markdown(index=False, floatfmt=".3f")
(out / "models.md").write_text(text + "\n")
print(text)
