"""Collect the eval-peer JSONs of a folder into peers.csv, print it, and copy the summary table into
the folder's README.md between its peers markers (used by measure_peers.sh)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from synthgap.io import atomic_write_bytes

out = Path(sys.argv[1] if len(sys.argv) > 1 else "results/peers")
rows = [json.loads(p.read_text()) for p in sorted(out.glob("*.json"))]
df = pd.DataFrame(rows)
df["restricted"] = df["charset"].notna()
cols = ["peer", "version", "real", "style", "restricted", "charset", "n", "skipped", "recognition_rate",
        "char_accuracy", "case_sensitive", "ms_per_captcha_batch1", "ms_per_captcha_batch256"]  # fmt: skip
df = df.reindex(columns=cols).sort_values(["real", "peer", "restricted"])
df.to_csv(out / "peers.csv", index=False)
print(df.drop(columns=["charset", "version"]).to_markdown(index=False, floatfmt=".4f"))
readme = out / "README.md"
if readme.exists():
    from readme_headline import fill  # scripts/ is on the path of a script run from it

    restricted = df["restricted"].map({True: "yes", False: "no"})
    table = pd.DataFrame({"peer": df["peer"], "real set": df["real"], "restricted": restricted,
                          "n": df["n"], "recognition": df["recognition_rate"],
                          "char accuracy": df["char_accuracy"]})  # fmt: skip
    atomic_write_bytes(
        readme, fill(readme.read_text(), "peers", table.to_markdown(index=False, floatfmt=".3f")).encode()
    )
