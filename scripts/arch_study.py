"""Architectures of one model family side by side: the same training budget for each candidate change.

    python scripts/arch_study.py --model paper_lstm --style wikipedia --minutes 8 \
        --run cpu-v1 --run cpu-v1-bn --run cpu-feed --run cpu --run cpu:lr=2e-3

Each ``--run ARCH[:lr=RATE][:batch=B]`` trains ``--model`` of that arch (the family's ``ARCHS``)
for ``--minutes`` of wall clock with training seed ``--seed`` (same training and
validation streams for every run), then scores it on ``--test-n`` fresh captchas of the test
stream ``stream_seed(seed, TEST)``. Checkpoints go under ``--work``; what is committed goes to
``--out``/STYLE-RUN/: the learning curve (validation loss, recognition, character accuracy and the
teacher-forced accuracy of every head: L, each other latent, each letter position) and
``run.json`` (command, seeds, steps, samples/s, test scores). A run whose ``run.json`` exists is
skipped, so an interrupted study resumes. Finally ``--out``/STUDY-STYLE.md tabulates the runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import pandas as pd
import torch

from synthgap import metrics
from synthgap.generators import create_generator
from synthgap.models.checkpoint import load_checkpoint
from synthgap.models.training import TEST, stream_seed, train


def parse_run(text: str) -> tuple[str, dict]:
    arch, *opts = text.split(":")
    run: dict = {"arch": arch}
    for opt in opts:
        key, _, value = opt.partition("=")
        if key not in ("lr", "batch") or not value:
            raise SystemExit(f"--run {text}: options are lr=RATE and batch=B")
        run[key] = float(value) if key == "lr" else int(value)
    return text.replace(":", "-").replace("=", ""), run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="paper_lstm", choices=["paper_lstm", "multihead_cnn"])
    ap.add_argument("--style", default="wikipedia")
    ap.add_argument("--minutes", type=float, default=8.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--run", action="append", required=True, help="ARCH[:lr=RATE][:batch=B]")
    ap.add_argument("--val-every", type=int, default=100)
    ap.add_argument("--test-n", type=int, default=1000)
    ap.add_argument("--work", type=Path, help="checkpoints (default out/MODEL_study)")
    ap.add_argument("--out", type=Path, help="what is committed (default results/models/MODEL)")
    args = ap.parse_args()
    args.work = args.work or Path(f"out/{args.model}_study")
    args.out = args.out or Path(f"results/models/{args.model}")
    gen = create_generator(args.style)
    test_seed = stream_seed(args.seed, TEST)
    test_images, test_lats = gen.generate(args.test_n, test_seed, workers=1)
    test_texts = [lat.text for lat in test_lats]
    rows = []
    for text in args.run:
        name, run = parse_run(text)
        folder = args.out / f"{args.style}-{name}"
        record = folder / "run.json"
        if not record.exists():
            ck = args.work / f"{args.style}-{name}"
            if ck.exists():
                shutil.rmtree(ck)  # an interrupted run starts again
            train(ck, model=args.model, size="cpu", model_args={"arch": run["arch"]}, style=args.style,
                  minutes=args.minutes, seed=args.seed, lr=run.get("lr"), batch_size=run.get("batch"),
                  val_n=500, val_every=args.val_every, workers=1)  # fmt: skip
            torch.set_num_threads(1)
            net = load_checkpoint(ck)
            pred = net.predict(test_images)
            meta = net.meta
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copy(ck / "curve.csv", folder / "curve.csv")
            record.write_text(json.dumps({
                "command": "python scripts/arch_study.py " + " ".join(sys.argv[1:]),
                "model": args.model, "style": args.style, "arch": run["arch"], "lr": meta["lr"],
                "batch_size": meta["batch_size"],
                "seed": args.seed, "minutes": args.minutes, "steps": meta["steps"],
                "samples_per_s": meta["samples_per_s"], "test_seed": test_seed, "test_n": args.test_n,
                "test_recognition": metrics.recognition_rate(pred, test_texts, gen.case_sensitive),
                "test_char_accuracy": metrics.mean_char_accuracy(pred, test_texts, gen.case_sensitive),
                "versions": meta["versions"],
            }, indent=1) + "\n")  # fmt: skip
        rec = json.loads(record.read_text())
        curve = pd.read_csv(folder / "curve.csv")
        heads = [c for c in curve.columns if c.startswith("acc_")]
        last = curve.iloc[-1] if len(curve) else dict.fromkeys(heads, float("nan"))
        rows.append({"run": name, "arch": rec["arch"], "lr": rec["lr"], "batch": rec["batch_size"],
                     "steps": rec["steps"], "samples/s": rec["samples_per_s"],
                     "test recognition": round(rec["test_recognition"], 3),
                     "test char acc": round(rec["test_char_accuracy"], 3),
                     **{h.removeprefix("acc_"): round(last[h], 3) for h in heads}})  # fmt: skip
    table = pd.DataFrame(rows)
    note = (f"{args.model} on {args.style}, {args.minutes:g} minutes each, training seed {args.seed}; test: "
            f"{args.test_n} captchas of seed {test_seed}; per-head columns: teacher-forced validation "
            "accuracy at the last validation.")  # fmt: skip
    (args.out / f"STUDY-{args.style}.md").write_text(note + "\n\n" + table.to_markdown(index=False) + "\n")
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
