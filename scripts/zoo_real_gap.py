"""results/real_gap/zoo/: the zoo's crnn_ctc entries on the real samples, the paper's styles against
the better-specified ones, each decoded as letters and (Wikipedia) under the word-pair prior.

Usage: .venv/bin/python scripts/zoo_real_gap.py REAL_DATA_DIR [--zoo results/zoo] [--out results/real_gap/zoo]
           [--readme README.md]   (also copies the tables between README's zoo-real-gap markers)

The gap splits two ways. Letters vs words, same network: prior misspecification (the paper's
Wikipedia generator draws random letters, the real captchas are two English words). Paper style vs
ConfirmEdit / facebook_look style, same decoding: rendering misspecification (glyphs, distortion,
noise). Every current zoo entry of those styles is scored on every image of the real folder (no
tuning happened on them: they are the look of the style); an entry that is missing or stale is
listed as such, with no numbers. Intervals: Wilson 95 %. Deterministic: no random draw.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd
import torch

from synthgap import __version__, versions
from synthgap.io import atomic_write_bytes
from synthgap.metrics import wilson_interval
from synthgap.models.checkpoint import load_checkpoint
from synthgap.models.evaluation import evaluate
from synthgap.models.lexicon import apply_prior
from synthgap.testsets import Real
from synthgap.zoo import load_zoo, status

#: (real folder, style trained on, what the style is, decodings as (name, --prior of synthgap eval))
ROWS = [
    ("wikipedia-sample", "wikipedia", "paper", (("letters", "none"), ("words", "wikipedia_confirmedit"))),
    ("wikipedia-sample", "wikipedia_confirmedit", "ConfirmEdit", (("letters", "none"), ("words", "own"))),
    ("facebook-sample", "facebook", "paper", (("letters", "none"),)),
    ("facebook-sample", "facebook_look", "samples' look", (("letters", "none"),)),
]
VARIANTS = ("plain", "elastic")
MODEL = "crnn_ctc"


def score(folder: Path, real: Path, prior_of: str) -> dict:
    model = load_checkpoint(folder)
    decoder = apply_prior(model, prior_of)
    test = Real.for_model(real, model).build(workers=0)
    result = evaluate(model, test.images, test.texts, test.case_sensitive, timing=False)
    n = len(test.texts)
    k = round(result["recognition_rate"] * n)
    lo, hi = wilson_interval(k, n)
    return {"decoder": decoder, "n": n, "skipped": test.skipped, "correct": k,
            "recognition": result["recognition_rate"], "ci_lo": lo, "ci_hi": hi,
            "char_accuracy": result["char_accuracy"]}  # fmt: skip


def cell(r: pd.Series) -> str:
    if pd.isna(r["recognition"]):
        return r["state"]
    return f"{100 * r['recognition']:.0f} [{100 * r['ci_lo']:.0f}, {100 * r['ci_hi']:.0f}]"


def markdown(df: pd.DataFrame, command: str) -> str:
    lines = [
        "# Real samples: the paper's styles against the better-specified ones, letters vs words",
        "",
        f"Made by `{command}` (zoo crnn_ctc entries; no random draw). Recognition (%) with the Wilson "
        "95 % interval; n = every labelled image of the folder. Synthetic: the entry's clean "
        "recognition on 1000 fresh captchas of its own style and variant (results/zoo/index.csv), decoded "
        "as it decodes by default (wikipedia_confirmedit: under its word prior).",
        "",
    ]
    for real, part in df.groupby("real_set", sort=False):
        n = part["n"].dropna()
        lines += [f"## {real} (n = {int(n.iloc[0]) if len(n) else '?'})", ""]
        keys = ["style", "kind", "variant"]
        part = part.assign(cell=part.apply(cell, axis=1))
        first = part.drop_duplicates(keys)  # one row per entry, in ROWS order
        table = part.pivot(index=keys, columns="decoding", values="cell")
        table = table.reindex(pd.MultiIndex.from_frame(first[keys]))[list(part["decoding"].unique())]
        table = table.reset_index()
        table.insert(3, "synthetic", [f"{100 * v:.1f}" if pd.notna(v) else "" for v in first["synthetic"]])
        lines += [table.fillna("").to_markdown(index=False), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("real_data", type=Path, help="folder holding wikipedia-sample/ and facebook-sample/")
    ap.add_argument("--zoo", type=Path, default=Path("results/zoo"))
    ap.add_argument("--out", type=Path, default=Path("results/real_gap/zoo"))
    ap.add_argument("--readme", type=Path, help="README to copy the tables into, between their markers")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    zoo = load_zoo(args.zoo)
    index = pd.read_csv(args.zoo / "index.csv").set_index("name")
    rows = []
    for real, style, kind, decodings in ROWS:
        folder = args.real_data / real
        if not folder.is_dir():
            print(f"zoo_real_gap: error: {folder} is not a folder", file=sys.stderr)
            return 2
        for variant in VARIANTS:
            entry = next((e for e in zoo.entries if (e.style, e.variant, e.model) == (style, variant, MODEL)),
                         None)  # fmt: skip
            st = status(zoo, entry) if entry else None
            state = st.state if st else "not in zoo.toml"
            name = entry.name if entry else f"{style}-{variant}-{MODEL}"
            synthetic = index.loc[name, "clean_recognition"] if state == "current" else float("nan")
            for decoding, prior_of in decodings:
                row = {"real_set": real, "style": style, "kind": kind, "variant": variant,
                       "decoding": decoding, "entry": name, "state": state,
                       "synthetic": synthetic}  # fmt: skip
                if state == "current":
                    row |= score(st.folder, folder, prior_of)
                    row["fingerprint"] = st.record["fingerprint"]
                    print(f"{name} on {real}, {decoding}: {row['correct']}/{row['n']}", file=sys.stderr)
                rows.append(row)
    df = pd.DataFrame(rows)
    command = ".venv/bin/python scripts/zoo_real_gap.py " + " ".join(sys.argv[1:] if argv is None else argv)
    meta = {"command": command, "synthgap_version": __version__, "versions": versions(), "model": MODEL,
            "zoo": str(args.zoo)}  # fmt: skip
    atomic_write_bytes(args.out / "real_gap.csv", df.to_csv(index=False, float_format="%.4f").encode())
    atomic_write_bytes(args.out / "real_gap.md", markdown(df, command).encode())
    atomic_write_bytes(args.out / "meta.json", (json.dumps(meta, indent=2) + "\n").encode())
    if args.readme is not None:
        from readme_headline import fill  # scripts/ is on the path of a script run from it

        body = markdown(df, command).split("\n", 2)[2].replace("\n## ", "\n#### ")  # no title
        atomic_write_bytes(args.readme, fill(args.readme.read_text(), "zoo-gap", body).encode())
    print(markdown(df, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
