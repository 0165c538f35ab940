"""How long crnn_ctc sits on the CTC all-blank plateau for a given initial blank bias.

    python scripts/ctc_plateau.py --style captcha_v2 --blank-bias -4 --steps 1000

Trains the ``cpu`` crnn_ctc at a constant rate (50-step linear warm-up, no decay) on fresh samples
of the training stream of seed 0 and prints the running loss and validation on 300 captchas of the
validation stream every 100 steps. This is the experiment behind ``BLANK_BIAS`` in
models/crnn_ctc.py (results/models/README.md).
"""

from __future__ import annotations

import argparse
import time

import torch

from synthgap.generators import create_generator
from synthgap.models import create_model
from synthgap.models.crnn_ctc import BLANK
from synthgap.models.training import VALID, SyntheticBatches, stream_seed, validate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--style", default="captcha_v2")
    ap.add_argument("--blank-bias", type=float, required=True)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    gen = create_generator(args.style)
    net = create_model("crnn_ctc", charset=gen.config.charset, max_len=gen.config.lengths[1], size="cpu")
    with torch.no_grad():
        net.head.bias[BLANK] = args.blank_bias
    val_images, val_lats = gen.generate(300, stream_seed(args.seed, VALID), workers=1)
    val_texts = [lat.text for lat in val_lats]
    source = SyntheticBatches(gen, args.seed, 64, net.input_hw, workers=1)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    t0, running = time.time(), None
    try:
        for step in range(1, args.steps + 1):
            for group in opt.param_groups:
                group["lr"] = args.lr * min(1.0, step / 50)
            images, texts, _ = source.batch(step)
            loss, _ = net.loss(net.preprocess(images), net.targets(texts))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            opt.step()
            running = loss.item() if running is None else 0.9 * running + 0.1 * loss.item()
            if step % 100 == 0:
                net.eval()
                val = validate(net, val_images, val_texts, gen.case_sensitive)
                net.train()
                rate, chars = val["recognition_rate"], val["char_accuracy"]
                print(f"step {step:5d}  {time.time() - t0:5.0f} s  loss {running:.3f}", end="  ")
                print(f"val {rate:.3f}  char {chars:.3f}", flush=True)
    finally:
        source.close()


if __name__ == "__main__":
    main()
