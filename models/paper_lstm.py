"""The proposal network of Le, Baydin, Zinkov & Wood (2017): CNN features feeding a 2-layer LSTM.

The LSTM runs one step per latent, T = 1 + K + max_len: the length L, then the style's other
declared discrete latents (font, size, kerning, ...), then the letters. Step t sees
[CNN(y), embedding of the value chosen at step t-1, one-hot of t] and a softmax head of its own
gives the distribution of latent t. Training uses teacher forcing (the true previous value);
prediction and sampling run step by step on their own choices (arg-max or ancestral sampling).
Letter steps past the chosen L are computed but ignored (no loss, no log q).

``paper``: six 3x3 convs 64,64,64,128,128,128, 2x2 max-pool after conv 2, 5 and 6, two FC 1024,
LSTM 2x512, Adam 1e-4, on the full 50x200 image. ``cpu``: the same shape narrowed (16..48
channels, first conv strided, FC 256, LSTM 2x128) on 32x128, and Adam 1e-3 so a 10-minute run learns.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from synthgap.errors import UsageError
from synthgap.models import register_model
from synthgap.models.base import Recognizer

# conv channels, first conv stride, FC width, LSTM units, value-embedding width
ARCH = {
    "cpu": ((16, 16, 32, 32, 48, 48), 2, 256, 128, 32),
    "paper": ((64, 64, 64, 128, 128, 128), 1, 1024, 512, 64),
}
POOL_AFTER = (1, 4, 5)  # 0-based: after conv 2, 5 and 6


@register_model("paper_lstm")
class PaperLstm(Recognizer):
    default_lr = {"cpu": 1e-3, "paper": 1e-4}
    needs_latents = True

    def __init__(self, charset: str, max_len: int, size: str = "cpu", latents=None, input_hw=None) -> None:
        latents = latents or {"L": list(range(1, max_len + 1))}
        if next(iter(latents)) != "L":
            raise UsageError("latents: the first declared latent must be L", field="latents")
        if max(latents["L"]) > max_len or min(latents["L"]) < 1:
            raise UsageError(f"latents: L support {latents['L']} outside 1..{max_len}", field="latents")
        super().__init__(charset, max_len, size, latents, input_hw)
        chans, stride, fc, hidden, emb = ARCH[size]
        layers: list[nn.Module] = []
        c_in = 1
        for i, c in enumerate(chans):
            layers += [nn.Conv2d(c_in, c, 3, stride if i == 0 else 1, 1), nn.ReLU(True)]
            if i in POOL_AFTER:
                layers.append(nn.MaxPool2d(2))
            c_in = c
        self.cnn = nn.Sequential(*layers, nn.Flatten())
        with torch.no_grad():
            flat = self.cnn(torch.zeros(1, 1, *self.input_hw)).shape[1]
        self.fc = nn.Sequential(nn.Linear(flat, fc), nn.ReLU(True), nn.Linear(fc, fc), nn.ReLU(True))
        # step t predicts latent t: the declared latents, then one head per letter position
        self.supports = [len(v) for v in self.latents.values()] + [len(charset)] * max_len
        self.steps = len(self.supports)
        k = len(self.latents)
        # token of value v chosen at step t = offset[t] + v; token 0 = "start"; letters share tokens
        offsets = np.concatenate([[1], 1 + np.cumsum(self.supports[:k])])
        self.register_buffer("offset", torch.tensor(list(offsets[:k]) + [offsets[k]] * max_len), False)
        self.embed = nn.Embedding(int(offsets[k]) + len(charset), emb)
        self.lstm = nn.LSTM(fc + emb + self.steps, hidden, num_layers=2, batch_first=True)
        self.heads = nn.ModuleList(nn.Linear(hidden, s) for s in self.supports)

    def _inputs(self, feat: torch.Tensor, tokens: torch.Tensor, t0: int) -> torch.Tensor:
        """Step inputs for steps t0.. : [features, embedded previous tokens, one-hot of the step]."""
        n, s = tokens.shape
        which = F.one_hot(torch.arange(t0, t0 + s, device=feat.device), self.steps).float()
        return torch.cat([feat.unsqueeze(1).expand(n, s, -1), self.embed(tokens), which.expand(n, s, -1)], -1)

    def targets(self, texts: Sequence[str], latent_idx: np.ndarray | None = None) -> dict[str, torch.Tensor]:
        if latent_idx is None:
            raise UsageError("paper_lstm trains on synthetic latents; use --style, not --real", field="model")
        k = len(self.latents)
        y = torch.full((len(texts), self.steps), -100, dtype=torch.long)
        y[:, :k] = torch.as_tensor(np.asarray(latent_idx)[:, :k], dtype=torch.long)
        for i, t in enumerate(texts):
            y[i, k : k + len(t)] = torch.tensor(self.encode_text(t), dtype=torch.long)
        return {"y": y}

    def loss(self, x, targets):
        y = targets["y"].to(x.device)
        feat = self.fc(self.cnn(x))
        prev = (self.offset[:-1] + y[:, :-1]).clamp(min=0)  # ignored (-100) positions never feed a loss step
        tokens = torch.cat([torch.zeros_like(y[:, :1]), prev], 1)
        h, _ = self.lstm(self._inputs(feat, tokens, 0))
        total, best = 0.0, []
        for t, head in enumerate(self.heads):
            logits = head(h[:, t])
            total = total + F.cross_entropy(logits, y[:, t], ignore_index=-100, reduction="sum")
            best.append(logits.argmax(-1))
        return total / len(x), torch.stack(best, 1)

    def _run(self, x: torch.Tensor, choose: Callable[[int, torch.Tensor], torch.Tensor], repeat: int = 1):
        """Step by step: ``choose(t, log_probs)`` picks each value; returns (ids (n, T), log_probs list).
        ``repeat`` runs each image that many times (its CNN features computed once)."""
        feat = self.fc(self.cnn(x)).repeat_interleave(repeat, dim=0)
        token = torch.zeros(len(feat), 1, dtype=torch.long, device=x.device)
        state, ids, logps = None, [], []
        for t, head in enumerate(self.heads):
            h, state = self.lstm(self._inputs(feat, token, t), state)
            logp = head(h[:, 0]).log_softmax(-1)
            v = choose(t, logp)
            ids.append(v)
            logps.append(logp.gather(1, v[:, None])[:, 0])
            token = (self.offset[t] + v)[:, None]
        return torch.stack(ids, 1), torch.stack(logps, 1)

    def infer(self, x):
        return self._run(x, lambda t, logp: logp.argmax(-1))[0]

    def _lengths(self, ids: torch.Tensor) -> np.ndarray:
        return np.asarray(self.latents["L"])[ids[:, 0].cpu().numpy()]

    def decode(self, outputs: torch.Tensor) -> list[str]:
        k, ids = len(self.latents), outputs.cpu().numpy()
        return [
            "".join(self.charset[i] for i in row[k : k + n])
            for row, n in zip(ids, self._lengths(outputs), strict=True)
        ]

    def _used(self, ids: torch.Tensor) -> torch.Tensor:
        """(n, T) mask of the steps a path uses: the declared latents and its first L letters."""
        lengths = torch.as_tensor(self._lengths(ids), device=ids.device)
        return torch.arange(self.steps, device=ids.device)[None] < len(self.latents) + lengths[:, None]

    def text_log_prob(self, x, texts, chunk: int = 32):
        """log q(text | image), summed over every value of the latents between L and the letters
        (font, size, kerning, ...): exact enumeration, teacher-forced, ``chunk`` images at a time."""
        k, supports = len(self.latents), self.supports
        combos = torch.tensor(list(itertools.product(*(range(s) for s in supports[1:k]))), dtype=torch.long)
        combos = combos.reshape(len(combos), k - 1).to(x.device)
        lengths = list(self.latents["L"])
        out = torch.full((len(texts),), -torch.inf, device=x.device)
        ok = [i for i, t in enumerate(texts) if len(t) in lengths]
        for start in range(0, len(ok), chunk):
            rows = ok[start : start + chunk]
            y = torch.full((len(rows), self.steps), -100, dtype=torch.long)
            for r, i in enumerate(rows):
                y[r, 0] = lengths.index(len(texts[i]))
                y[r, k : k + len(texts[i])] = torch.tensor(self.encode_text(texts[i]), dtype=torch.long)
            y = y.to(x.device).repeat_interleave(len(combos), 0)
            y[:, 1:k] = combos.repeat(len(rows), 1)
            feat = self.fc(self.cnn(x[rows])).repeat_interleave(len(combos), 0)
            prev = (self.offset[:-1] + y[:, :-1]).clamp(min=0)
            h, _ = self.lstm(self._inputs(feat, torch.cat([torch.zeros_like(y[:, :1]), prev], 1), 0))
            total = torch.zeros(len(y), device=x.device)
            for t, head in enumerate(self.heads):
                lp = head(h[:, t]).log_softmax(-1).gather(1, y[:, t : t + 1].clamp(min=0))[:, 0]
                total = total + lp.masked_fill(y[:, t] < 0, 0.0)
            out[rows] = total.reshape(len(rows), len(combos)).logsumexp(1)
        return out

    @torch.inference_mode()
    def sample(self, images, m, rng) -> tuple[list[list[dict[str, Any]]], np.ndarray]:
        """Ancestral draws of every declared latent and the letters; log q over the steps used."""
        self.eval()
        x = self.preprocess(images)
        g = self.torch_generator(rng)
        ids, lp = self._run(x, lambda t, logp: torch.multinomial(logp.exp(), 1, generator=g)[:, 0], m)
        log_q = (lp * self._used(ids)).sum(1).reshape(-1, m).cpu().numpy()
        texts, ids_np = self.decode(ids), ids.cpu().numpy()
        draws = [
            {**{name: vals[row[j]] for j, (name, vals) in enumerate(self.latents.items())}, "text": s}
            for row, s in zip(ids_np, texts, strict=True)
        ]
        return [draws[i * m : (i + 1) * m] for i in range(len(draws) // m)], log_q
