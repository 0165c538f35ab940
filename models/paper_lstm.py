"""The proposal network of Le, Baydin, Zinkov & Wood (2017): CNN features feeding a 2-layer LSTM.

The LSTM runs one step per latent, T = 1 + K + max_len: the length L, then the style's other
declared discrete latents (font, size, kerning, ...), then the letters. Step t sees
[CNN(y), embedding of the value chosen at step t-1, one-hot of t] and a softmax head of its own
gives the distribution of latent t. Training uses teacher forcing (the true previous value);
prediction and sampling run step by step on their own choices (arg-max or ancestral sampling).
Letter steps past the chosen L are computed but ignored (no loss, no log q).

``paper`` (arch ``paper``): six 3x3 convs 64,64,64,128,128,128, 2x2 max-pool after conv 2, 5 and 6,
two FC 1024, LSTM 2x512, Adam 1e-4, on the full 50x200 image, one global feature vector.

``cpu`` (arch ``cpu``): what the paper's shape needed to learn in CPU minutes (measured in
results/models/paper_lstm/, ``scripts/arch_study.py``). The paper's shape narrowed
(arch ``cpu-v1``: 16..48 channels, FC 256, LSTM 2x128, on 32x128) stayed at chance on Wikipedia:
every letter head must find its letter's position in one flattened vector. Two changes:
batch-normalised strided convs (crnn_ctc's body) that keep 32 feature columns, and an attention
read-out: at every step the LSTM state queries the columns (dot product over the columns plus a
learned position embedding) and the head reads [state, attended columns]. The latent heads
(L, font, ...) read the same way; the step input's CNN(y) is the mean of the columns through the FC.
The study's other shapes stay selectable: ``cpu-v1-bn`` (``cpu-v1`` with batch norm, global
read-out) separates the two changes, and ``cpu-feed`` also feeds the attended vector into the next
step (input feeding; family version 2's cpu size). Without feeding, the LSTM runs all steps in one
call: faster per sample (200 against 146 samples/s), and the letter heads learned far faster
(0.63-0.82 against 0.14-0.41 after 8 minutes on wikipedia).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from synthgap.errors import UsageError
from synthgap.models import register_model
from synthgap.models.base import Recognizer
from synthgap.models.crnn_ctc import ARCH as CRNN_ARCH
from synthgap.models.crnn_ctc import conv_body


@dataclass(frozen=True)
class Arch:
    """One network shape: 3x3 convs (channels, stride), max-pool after the convs in ``pool_after``
    (0-based), batch norm or not, FC width, LSTM units, value-embedding width, read-out."""

    convs: tuple[tuple[int, Any], ...]
    pool_after: tuple[int, ...]
    norm: bool
    fc: int
    hidden: int
    emb: int
    readout: str  # "global": one flattened vector; "attention": per-step attention over columns
    feed: bool = True  # attention: the vector read at step t is an input of step t + 1


ARCHS = {
    "paper": Arch(
        ((64, 1), (64, 1), (64, 1), (128, 1), (128, 1), (128, 1)), (1, 4, 5), False, 1024, 512, 64, "global"
    ),
    "cpu-v1": Arch(
        ((16, 2), (16, 1), (32, 1), (32, 1), (48, 1), (48, 1)), (1, 4, 5), False, 256, 128, 32, "global"
    ),
    "cpu-v1-bn": Arch(
        ((16, 2), (16, 1), (32, 1), (32, 1), (48, 1), (48, 1)), (1, 4, 5), True, 256, 128, 32, "global"
    ),
    "cpu": Arch(tuple(CRNN_ARCH["cpu"][0]), (), True, 256, 128, 32, "attention", feed=False),
    "cpu-feed": Arch(tuple(CRNN_ARCH["cpu"][0]), (), True, 256, 128, 32, "attention"),
}


def conv_stack(arch: Arch) -> nn.Sequential:
    if not arch.pool_after:
        return conv_body(list(arch.convs))
    layers: list[nn.Module] = []
    c_in = 1
    for i, (c, stride) in enumerate(arch.convs):
        layers.append(nn.Conv2d(c_in, c, 3, stride, 1, bias=not arch.norm))
        layers += [nn.BatchNorm2d(c), nn.ReLU(True)] if arch.norm else [nn.ReLU(True)]
        if i in arch.pool_after:
            layers.append(nn.MaxPool2d(2))
        c_in = c
    return nn.Sequential(*layers)


@register_model("paper_lstm")
class PaperLstm(Recognizer):
    # v2: the cpu size's attention read-out over batch-normalised conv columns; v3: without input feeding
    version = 3
    default_lr = {"cpu": 1e-3, "paper": 1e-4}
    needs_latents = True
    archs: ClassVar[dict[str, Arch]] = ARCHS

    def __init__(self, charset: str, max_len: int, size: str = "cpu", latents=None, input_hw=None,
                 arch: str | None = None) -> None:  # fmt: skip
        latents = latents or {"L": list(range(1, max_len + 1))}
        if next(iter(latents)) != "L":
            raise UsageError("latents: the first declared latent must be L", field="latents")
        if max(latents["L"]) > max_len or min(latents["L"]) < 1:
            raise UsageError(f"latents: L support {latents['L']} outside 1..{max_len}", field="latents")
        super().__init__(charset, max_len, size, latents, input_hw)
        self.arch = arch or size
        if self.arch not in ARCHS:
            raise UsageError(f"arch: must be one of {', '.join(ARCHS)}, got {self.arch!r}", field="arch")
        a = ARCHS[self.arch]
        self.attend, self.feed = a.readout == "attention", a.readout == "attention" and a.feed
        self.cnn = conv_stack(a)
        with torch.no_grad():
            _, c, h, w = self.cnn(torch.zeros(1, 1, *self.input_hw)).shape
        if self.attend:  # columns -> memory of width `hidden`, with a learned position per column
            self.proj = nn.Linear(c * h, a.hidden)
            self.pos = nn.Parameter(torch.randn(w, a.hidden) * 0.1)
            self.query = nn.Linear(a.hidden, a.hidden)
            flat = a.hidden
        else:
            flat = c * h * w
        self.fc = nn.Sequential(nn.Linear(flat, a.fc), nn.ReLU(True), nn.Linear(a.fc, a.fc), nn.ReLU(True))
        # step t predicts latent t: the declared latents, then one head per letter position
        self.supports = [len(v) for v in self.latents.values()] + [len(charset)] * max_len
        self.steps = len(self.supports)
        k = len(self.latents)
        # token of value v chosen at step t = offset[t] + v; token 0 = "start"; letters share tokens
        offsets = np.concatenate([[1], 1 + np.cumsum(self.supports[:k])])
        self.register_buffer("offset", torch.tensor(list(offsets[:k]) + [offsets[k]] * max_len), False)
        self.embed = nn.Embedding(int(offsets[k]) + len(charset), a.emb)
        read = a.hidden if self.attend else 0
        fed = read if self.feed else 0
        self.lstm = nn.LSTM(a.fc + a.emb + self.steps + fed, a.hidden, num_layers=2, batch_first=True)
        self.heads = nn.ModuleList(nn.Linear(a.hidden + read, s) for s in self.supports)

    def hparams(self) -> dict[str, Any]:
        return {**super().hparams(), "arch": self.arch}

    def encode(self, x: torch.Tensor, repeat: int = 1) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Image -> (the step input's feature vector, the attention memory (n, columns, d) or None),
        each row repeated ``repeat`` times (the CNN runs once per image)."""
        f = self.cnn(x)
        if not self.attend:
            return self.fc(f.flatten(1)).repeat_interleave(repeat, 0), None
        mem = self.proj(f.flatten(1, 2).transpose(1, 2)) + self.pos
        return self.fc(mem.mean(1)).repeat_interleave(repeat, 0), mem.repeat_interleave(repeat, 0)

    def _read(self, mem: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """Attention of LSTM states ``h`` (n, d) or (n, s, d) over the columns: the vectors read."""
        weights = torch.einsum("nwd,n...d->n...w", mem, self.query(h)) / math.sqrt(mem.shape[-1])
        return torch.einsum("n...w,nwd->n...d", weights.softmax(-1), mem)

    def _inputs(self, feat: torch.Tensor, tokens: torch.Tensor, t0: int) -> torch.Tensor:
        """Step inputs for steps t0.. : [features, embedded previous tokens, one-hot of the step]."""
        n, s = tokens.shape
        which = F.one_hot(torch.arange(t0, t0 + s, device=feat.device), self.steps).float()
        return torch.cat([feat.unsqueeze(1).expand(n, s, -1), self.embed(tokens), which.expand(n, s, -1)], -1)

    def _steps(self, feat, mem, tokens: torch.Tensor, t0: int = 0, carry=None):
        """Logits of steps t0.. given the previous tokens (n, s); ``carry`` is what the next call
        continues from (LSTM state, last attended vector). Without input feeding all steps run at once."""
        if not self.feed:
            h, state = self.lstm(self._inputs(feat, tokens, t0), carry)
            if mem is not None:  # every step's attention in one go
                h = torch.cat([h, self._read(mem, h)], -1)
            return [self.heads[t0 + i](h[:, i]) for i in range(tokens.shape[1])], state
        state, read = carry if carry is not None else (None, torch.zeros_like(mem[:, 0]))
        logits = []
        for i in range(tokens.shape[1]):
            inp = torch.cat([self._inputs(feat, tokens[:, i : i + 1], t0 + i), read[:, None]], -1)
            h, state = self.lstm(inp, state)
            h = h[:, 0]
            read = self._read(mem, h)
            logits.append(self.heads[t0 + i](torch.cat([h, read], -1)))
        return logits, (state, read)

    def _teacher(self, x: torch.Tensor, y: torch.Tensor, repeat: int = 1) -> list[torch.Tensor]:
        """Teacher-forced logits of every step for targets ``y`` (n * repeat, T), ``x`` (n, ...)."""
        feat, mem = self.encode(x, repeat)
        prev = (self.offset[:-1] + y[:, :-1]).clamp(min=0)  # ignored (-100) positions never feed a loss step
        return self._steps(feat, mem, torch.cat([torch.zeros_like(y[:, :1]), prev], 1))[0]

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
        logits = self._teacher(x, y)
        total = sum(
            F.cross_entropy(lg, y[:, t], ignore_index=-100, reduction="sum") for t, lg in enumerate(logits)
        )
        return total / len(x), torch.stack([lg.argmax(-1) for lg in logits], 1)

    def step_names(self) -> list[str]:
        return list(self.latents) + [f"c{i + 1}" for i in range(self.max_len)]

    def head_accuracy(self, outputs: torch.Tensor, targets: dict[str, torch.Tensor]) -> dict[str, float]:
        """Teacher-forced accuracy of each step's head (the steps a target uses)."""
        y = targets["y"].to(outputs.device)
        used = y >= 0
        hits = ((outputs == y) & used).sum(0).float() / used.sum(0).clamp(min=1)
        steps = zip(self.step_names(), hits.tolist(), used.any(0).tolist(), strict=True)
        return {f"acc_{name}": v for name, v, u in steps if u}

    def _decoder(self, feat: torch.Tensor, mem: torch.Tensor | None):
        """One step at a time without input feeding: ``step(t, token, state) -> (logits, state)``.

        At batch 1 each nn.LSTM call costs more than its arithmetic (oneDNN set-up per call), so
        the two layers run here as cells, with what is fixed per image computed once: the layer-1
        gates of the features, of every token embedding and of every step's one-hot, and the
        attention keys (mem . query(h) = (mem W) . h + mem . b). Same function as ``_steps``."""
        lstm, d = self.lstm, self.lstm.hidden_size
        widths = [feat.shape[1], self.embed.embedding_dim, self.steps]
        w_feat, w_tok, w_step = lstm.weight_ih_l0.split(widths, 1)
        base = F.linear(feat, w_feat, lstm.bias_ih_l0 + lstm.bias_hh_l0)
        tok_gates, step_gates = F.linear(self.embed.weight, w_tok), w_step.T
        bias_l1 = lstm.bias_ih_l1 + lstm.bias_hh_l1
        if mem is not None:
            keys, key_bias = mem @ self.query.weight, mem @ self.query.bias

        def cell(gates, h, c, w_hh):
            i, f, g, o = (gates + F.linear(h, w_hh)).chunk(4, 1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            return torch.sigmoid(o) * torch.tanh(c), c

        def step(t: int, token: torch.Tensor, state):
            h1, c1, h2, c2 = state if state is not None else [torch.zeros_like(base[:, :d])] * 4
            h1, c1 = cell(base + tok_gates[token] + step_gates[t], h1, c1, lstm.weight_hh_l0)
            h2, c2 = cell(F.linear(h1, lstm.weight_ih_l1, bias_l1), h2, c2, lstm.weight_hh_l1)
            out = h2
            if mem is not None:
                weights = ((keys @ h2[:, :, None])[..., 0] + key_bias) / math.sqrt(d)
                out = torch.cat([h2, (weights.softmax(-1)[:, None] @ mem)[:, 0]], -1)
            return self.heads[t](out), (h1, c1, h2, c2)

        return step

    def _run(self, x: torch.Tensor, choose: Callable[[int, torch.Tensor], torch.Tensor], repeat: int = 1):
        """Step by step: ``choose(t, log_probs)`` picks each value; returns (ids (n, T), log_probs list).
        ``repeat`` runs each image that many times (its CNN features computed once)."""
        feat, mem = self.encode(x, repeat)
        token = torch.zeros_like(feat[:, 0], dtype=torch.long)  # shape-traced: ONNX keeps the batch free
        step = None if self.feed else self._decoder(feat, mem)
        carry, ids, logps = None, [], []
        for t in range(self.steps):
            if step is None:
                (logits,), carry = self._steps(feat, mem, token[:, None], t, carry)
            else:
                logits, carry = step(t, token, carry)
            logp = logits.log_softmax(-1)
            v = choose(t, logp)
            ids.append(v)
            logps.append(logp.gather(1, v[:, None])[:, 0])
            token = self.offset[t] + v
        return torch.stack(ids, 1), torch.stack(logps, 1)

    def infer(self, x):
        return self._run(x, lambda t, logp: logp.argmax(-1))[0]

    def expected_counts(self, x):
        """Along the arg-max path (the exact expectation would sum over every path): the letter
        distributions of its first L steps, L weighted by the length head."""
        k, dists = len(self.latents), []

        def choose(t: int, logp: torch.Tensor) -> torch.Tensor:
            dists.append(logp.exp())
            return logp.argmax(-1)

        self._run(x, choose)
        lengths = torch.as_tensor(self.latents["L"], device=x.device)
        # P(L >= i + 1) for every letter position i, from the length head
        reach = (
            dists[0][:, :, None] * (lengths[None, :, None] > torch.arange(self.max_len, device=x.device))
        ).sum(1)
        return sum(reach[:, i, None] * d for i, d in enumerate(dists[k:]))

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

    def text_log_prob(self, x, texts, chunk: int = 32, rtol: float = 1e-5):
        """log q(text | image), summed over the values of the latents between L and the letters
        (font, size, kerning, ...): ``_sum_paths``, ``chunk`` images at a time."""
        lengths = list(self.latents["L"])
        out = torch.full((len(texts),), -torch.inf, device=x.device)
        ok = [i for i, t in enumerate(texts) if len(t) in lengths]
        for start in range(0, len(ok), chunk):
            rows = ok[start : start + chunk]
            out[rows] = self._sum_paths(x[rows], [texts[i] for i in rows], rtol)
        return out

    def _latent_paths(self, feat, mem, length_idx: torch.Tensor):
        """Every path through the latent steps at each image's given L: log q of L and the values
        (n, C), and the next step's token and the carry after the last latent step (n * C rows,
        image-major). A step runs once per distinct prefix, not once per path."""
        n, dev = len(feat), feat.device
        rows = torch.arange(n, device=dev)  # the image of each prefix
        token, carry = torch.zeros(n, dtype=torch.long, device=dev), None
        lq = torch.zeros(n, device=dev)
        for t in range(len(self.latents)):
            at = None if mem is None else mem[rows]
            (logits,), carry = self._steps(feat[rows], at, token[:, None], t, carry)
            logp = logits.log_softmax(-1)
            if t == 0:  # L is the text's
                lq, token = logp.gather(1, length_idx[:, None])[:, 0], self.offset[0] + length_idx
                continue
            s = logp.shape[1]
            expand = torch.arange(len(rows), device=dev).repeat_interleave(s)
            values = torch.arange(s, device=dev).repeat(len(rows))
            lq, rows = lq[expand] + logp.reshape(-1), rows[expand]
            token, carry = self.offset[t] + values, self._select(carry, expand)
        return lq.reshape(n, -1), token, carry

    def _select(self, carry, idx: torch.Tensor):
        """Rows ``idx`` of a ``_steps`` carry: the LSTM state ((layers, n, d) twice) and, with input
        feeding, the vector read last (n, d)."""
        if self.feed:
            (h, c), read = carry
            return (h[:, idx], c[:, idx]), read[idx]
        h, c = carry
        return h[:, idx], c[:, idx]

    def _sum_paths(self, x, texts, rtol: float) -> torch.Tensor:
        """log of the sum over latent paths of q(L, values) q(letters | L, values).

        Exact enumeration of the letters costs C = 210 paths a text on captcha_v2, so the letters
        run for the paths in order of their mass q(L, values | image), in growing blocks, and an
        image stops once the mass left (an upper bound on what it could add, as q(letters | ...)
        <= 1) is at most ``rtol`` of its sum so far: never above the exact value and within a
        factor 1 + rtol of it; ``rtol=0`` runs every path."""
        dev, k, n = x.device, len(self.latents), len(texts)
        feat, mem = self.encode(x)
        length_idx = torch.tensor([list(self.latents["L"]).index(len(t)) for t in texts], device=dev)
        lq, token, carry = self._latent_paths(feat, mem, length_idx)
        c, width = lq.shape[1], max(map(len, texts))
        letters = torch.full((n, width), -1, dtype=torch.long)
        for i, t in enumerate(texts):
            letters[i, : len(t)] = torch.tensor(self.encode_text(t), dtype=torch.long)
        letters = letters.to(dev)
        order = lq.argsort(1, descending=True)
        left = lq.gather(1, order).flip(1).logcumsumexp(1).flip(1)  # log mass of the paths from j on
        left = torch.cat([left, torch.full((n, 1), -torch.inf, device=dev)], 1)
        floor = math.log(rtol) if rtol > 0 else -math.inf
        total = torch.full((n,), -torch.inf, device=dev)
        active, j, block = torch.arange(n, device=dev), 0, 4
        while len(active) and j < c:
            take = order[active, j : j + block]
            img, path = active.repeat_interleave(take.shape[1]), take.reshape(-1)
            flat = img * c + path
            prev = torch.cat([token[flat, None], self.offset[k] + letters[img, :-1].clamp(min=0)], 1)
            at = None if mem is None else mem[img]
            logits, _ = self._steps(feat[img], at, prev, k, self._select(carry, flat))
            lp = lq[img, path]
            for i, lg in enumerate(logits):
                y = letters[img, i]
                lp = lp + lg.log_softmax(-1).gather(1, y.clamp(min=0)[:, None])[:, 0].masked_fill(y < 0, 0.0)
            total[active] = torch.logaddexp(total[active], lp.reshape(len(active), -1).logsumexp(1))
            j, block = j + take.shape[1], block * 2
            active = active[left[active, j] > floor + total[active]]
        return total

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
