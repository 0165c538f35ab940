"""Multi-head CNN: a conv body and one softmax per character position, as in the fastai captcha blog.

Each of the ``max_len`` heads predicts a character or the end/pad class (index ``len(charset)``),
so variable lengths work: a string ends at its first end/pad. Two variants, as in the blog:
``multihead_cnn`` flattens the last feature map (keeps where things are) and
``multihead_cnn_avgpool`` global-average-pools it first (throws position away, so heads must
recover order from channel content alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from synthgap.errors import UsageError
from synthgap.models import register_model
from synthgap.models.base import Recognizer
from synthgap.models.crnn_ctc import ARCH as CRNN_ARCH
from synthgap.models.crnn_ctc import conv_body

# (channels, stride) per 3x3 conv, hidden units of the head. ``cpu``: crnn_ctc's body, which keeps
# 32 feature columns (a letter's position survives the flattening at 4 px) and costs less than
# ``cpu-v1``'s (family version 1: 8 columns, a stride-1 conv at 48 channels), with a wider head.
ARCHS = {
    "cpu": (list(CRNN_ARCH["cpu"][0]), 512),
    "cpu-v1": ([(32, 2), (48, 1), (64, 2), (96, 2), (128, 2)], 256),
    "paper": ([(64, 1), (64, 2), (128, 1), (128, 2), (256, 1), (256, 2), (256, 2)], 512),
}


@register_model("multihead_cnn")
class MultiheadCnn(Recognizer):
    version = 2  # v2: the cpu arch reads 32 columns of crnn_ctc's body into a 512-wide head
    # with crnn_ctc's body, as for crnn_ctc: batch 64 trains as many samples/s as 128 on one CPU
    # thread (the renderer sets the pace) and makes twice the updates
    default_batch = {"cpu": 64, "paper": 128}
    avgpool: ClassVar[bool] = False
    default_arch: ClassVar[dict[str, str]] = {"cpu": "cpu", "paper": "paper"}

    def __init__(self, charset: str, max_len: int, size: str = "cpu", latents=None, input_hw=None,
                 arch: str | None = None) -> None:  # fmt: skip
        super().__init__(charset, max_len, size, latents, input_hw)
        self.arch = arch or self.default_arch[size]
        if self.arch not in ARCHS:
            raise UsageError(f"arch: must be one of {', '.join(ARCHS)}, got {self.arch!r}", field="arch")
        convs, hidden = ARCHS[self.arch]
        self.body = conv_body(convs)
        with torch.no_grad():
            _, c, h, w = self.body(torch.zeros(1, 1, *self.input_hw)).shape
        self.end = len(charset)
        self.pool = nn.AdaptiveAvgPool2d(1) if self.avgpool else nn.Identity()
        features = c if self.avgpool else c * h * w
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(0.2),
            nn.Linear(features, hidden),
            nn.ReLU(True),
            nn.Linear(hidden, max_len * (len(charset) + 1)),
        )

    def hparams(self) -> dict[str, Any]:
        return {**super().hparams(), "arch": self.arch}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(n, 1, h, w) -> log-probabilities (n, max_len, |charset| + 1), last class = end/pad."""
        logits = self.head(self.pool(self.body(x)))
        return logits.reshape(-1, self.max_len, self.end + 1).log_softmax(-1)

    def targets(self, texts: Sequence[str], latent_idx=None) -> dict[str, torch.Tensor]:
        y = torch.full((len(texts), self.max_len), self.end, dtype=torch.long)
        for i, t in enumerate(texts):
            if len(t) > self.max_len:
                raise ValueError(f"text {t!r} is longer than max_len={self.max_len}")
            y[i, : len(t)] = torch.tensor(self.encode_text(t), dtype=torch.long)
        return {"y": y}

    def loss(self, x, targets):
        logp = self(x)
        y = targets["y"].to(logp.device)
        return nn.functional.nll_loss(logp.reshape(-1, self.end + 1), y.reshape(-1)), logp

    def head_accuracy(self, outputs: torch.Tensor, targets: dict[str, torch.Tensor]) -> dict[str, float]:
        """Accuracy of each position's head (a letter or the end class)."""
        hits = (outputs.argmax(-1) == targets["y"].to(outputs.device)).float().mean(0)
        return {f"acc_c{i + 1}": v for i, v in enumerate(hits.tolist())}

    def _strings(self, ids: np.ndarray) -> list[str]:
        out = []
        for row in ids:
            stop = np.flatnonzero(row == self.end)
            out.append("".join(self.charset[i] for i in row[: stop[0] if len(stop) else len(row)]))
        return out

    def decode(self, outputs: torch.Tensor) -> list[str]:
        return self._strings(outputs.argmax(-1).cpu().numpy())

    def expected_counts(self, x):
        """Exact: a position counts while no end came before it."""
        p = self(x).exp()
        alive = torch.cumprod(torch.cat([torch.ones_like(p[:, :1, 0]), 1 - p[:, :-1, self.end]], 1), 1)
        return (alive[:, :, None] * p[:, :, : self.end]).sum(1)

    def text_log_prob(self, x, texts):
        """Each letter at its position, then the end (the positions after it do not matter)."""
        y = self.targets(texts)["y"].to(x.device)
        lp = self(x).gather(-1, y.unsqueeze(-1)).squeeze(-1)
        after_end = (
            torch.arange(self.max_len, device=x.device)[None]
            > torch.tensor([len(t) for t in texts], device=x.device)[:, None]
        )
        return lp.masked_fill(after_end, 0.0).sum(-1)

    @torch.inference_mode()
    def sample(self, images, m, rng):
        """Positions drawn independently; a string stops at its first end, which log q includes."""
        logp, ids = self.column_draws(images, m, rng)  # ids: (n, m, t)
        n, t, k = logp.shape
        lp = logp.unsqueeze(1).expand(n, m, t, k).gather(-1, ids.unsqueeze(-1)).squeeze(-1)
        ended_before = torch.cumsum((ids == self.end).int(), -1) - (ids == self.end).int() > 0
        log_q = lp.masked_fill(ended_before, 0.0).sum(-1)
        texts = self._strings(ids.reshape(n * m, t).cpu().numpy())
        return [[{"text": s} for s in texts[i * m : (i + 1) * m]] for i in range(n)], log_q.cpu().numpy()


@register_model("multihead_cnn_avgpool")
class MultiheadCnnAvgpool(MultiheadCnn):
    avgpool = True
    # pooled away, the columns do not help; what is left is channels, of which cpu-v1 has twice as many
    default_arch = {"cpu": "cpu-v1", "paper": "paper"}
