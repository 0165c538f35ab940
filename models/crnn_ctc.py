"""CRNN + CTC: a convolutional body reads columns, a BiLSTM mixes them, CTC aligns text to columns.

The ``cpu`` size was chosen by profiling on 2 cores: 32x128 input and only strided 3x3 convs (no
max-pool: PyTorch's CPU max-pool cost more than the convs it follows), 16-64 channels, one BiLSTM
of 64 units. It gives 32 columns, enough for CTC on 10 letters with repeats. The ``paper`` size
keeps the 50x200 input and is about 16x wider, for a GPU.
Decoding: greedy (best path), prefix beam search (``fast-ctc-decode``), or the best text under a
style's word-pair prior (``prior``, models/lexicon.py), which checkpoints of such styles turn on.
"""

from __future__ import annotations

from collections.abc import Sequence

import fast_ctc_decode
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from synthgap.models import register_model
from synthgap.models.base import Recognizer
from synthgap.models.lexicon import WordPairs

BLANK = 0
# Initial bias of the blank logit. At 0, CTC first learns "blank everywhere" and sat there ~1300 steps
# on 5-letter captcha_v2 (recognition 0); starting the blank at -4 (p ~ 0.001 vs the letters) left
# that plateau by ~700 steps and reached 0.93 validation at step 1000 (-2: 0.67; same seed, lr 1e-3).
BLANK_BIAS = -4.0
# (channels, stride) per 3x3 conv, LSTM units
ARCH = {
    "cpu": ([(16, 2), (32, 2), (48, 1), (64, (2, 1)), (64, (2, 1))], 64),
    "paper": ([(64, 1), (64, 2), (128, 1), (128, 2), (256, 1), (256, (2, 1)), (256, (2, 1))], 256),
}


def conv_body(arch: list[tuple[int, int | tuple[int, int]]], c_in: int = 1) -> nn.Sequential:
    layers: list[nn.Module] = []
    for c_out, stride in arch:
        layers += [nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True)]
        c_in = c_out
    return nn.Sequential(*layers)


def ctc_greedy(best: np.ndarray, charset: str) -> list[str]:
    """Best path (n, T) of class ids -> strings: merge repeats, drop blanks."""
    out = []
    for row in best:
        keep = row[(row != BLANK) & np.concatenate([[True], row[1:] != row[:-1]])]
        out.append("".join(charset[i - 1] for i in keep))
    return out


@register_model("crnn_ctc")
class CrnnCtc(Recognizer):
    # batch 64 trains as many samples/s as 128 on 1 CPU thread and makes twice the updates
    default_batch = {"cpu": 64, "paper": 128}

    def __init__(
        self, charset: str, max_len: int, size: str = "cpu", latents=None, input_hw=None, beam: int = 0
    ) -> None:
        super().__init__(charset, max_len, size, latents, input_hw)
        convs, hidden = ARCH[size]
        self.body = conv_body(convs)
        with torch.no_grad():
            _, c, h, w = self.body(torch.zeros(1, 1, *self.input_hw)).shape
        self.columns = w
        self.proj = nn.Linear(c * h, hidden)
        self.rnn = nn.LSTM(hidden, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, len(charset) + 1)
        with torch.no_grad():
            self.head.bias[BLANK] = BLANK_BIAS
        self.beam = int(beam)  # 0 = greedy; not a weight, so not in hparams
        self.prior: WordPairs | None = None  # decode as two words of a list (models/lexicon.py)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(n, 1, h, w) -> log-probabilities (n, T, 1 + |charset|), class 0 = blank."""
        f = self.body(x)
        n, c, h, w = f.shape
        f = F.relu(self.proj(f.permute(0, 3, 1, 2).reshape(n, w, c * h)))
        f, _ = self.rnn(f)
        return self.head(f).log_softmax(-1)

    def targets(self, texts: Sequence[str], latent_idx=None) -> dict[str, torch.Tensor]:
        ids = [[i + 1 for i in self.encode_text(t)] for t in texts]
        return {
            "labels": torch.tensor([i for row in ids for i in row], dtype=torch.long),
            "lengths": torch.tensor([len(row) for row in ids], dtype=torch.long),
        }

    def _ctc(self, logp: torch.Tensor, labels: torch.Tensor, lengths: torch.Tensor, reduction: str):
        n, t, _ = logp.shape
        frames = torch.full((n,), t, dtype=torch.long)
        # zero_infinity only in training: an impossible alignment must not blow up the mean loss
        return F.ctc_loss(
            logp.transpose(0, 1), labels.cpu(), frames, lengths.cpu(), BLANK, reduction, reduction == "mean"
        )

    def loss(self, x, targets):
        logp = self(x)
        return self._ctc(logp, targets["labels"], targets["lengths"], "mean"), logp

    def decode(self, outputs: torch.Tensor) -> list[str]:
        if self.prior is not None:
            logp = outputs.float().cpu().numpy()
            return [self.prior.decode(row)[0] for row in logp]
        if self.beam <= 1:
            return ctc_greedy(outputs.argmax(-1).cpu().numpy(), self.charset)
        return self.beam_decode(outputs, self.beam)

    def beam_decode(self, logp: torch.Tensor, beam: int) -> list[str]:
        """Prefix beam search per image; the blank symbol is a character outside the charset."""
        blank = next(c for c in "\x00#_~" if c not in self.charset)
        alphabet = blank + self.charset
        probs = logp.exp().float().cpu().numpy()
        return [
            fast_ctc_decode.beam_search(p, alphabet, beam_size=beam, beam_cut_threshold=1e-6)[0]
            for p in probs
        ]

    def expected_counts(self, x):
        """Exact under the columns' independent distributions: a character is counted where a
        column shows it and the column before does not (repeats merge), sum_t p_t(c) (1 - p_t-1(c))."""
        p = self(x).exp()[:, :, BLANK + 1 :]
        return p.sum(1) - (p[:, 1:] * p[:, :-1]).sum(1)

    def text_log_prob(self, x, texts):
        """CTC: the sum over every column path that collapses to the text."""
        tg = self.targets(texts)
        return -self._ctc(self(x), tg["labels"], tg["lengths"], "none")

    @torch.inference_mode()
    def sample(self, images, m, rng):
        """Strings drawn by sampling a path per column and collapsing it; log q sums over all paths."""
        logp, paths = self.column_draws(images, m, rng)
        n, t, _ = logp.shape
        paths = paths.reshape(n * m, t).cpu().numpy()
        texts = ctc_greedy(paths, self.charset)
        tg = self.targets(texts)
        rep = logp.repeat_interleave(m, dim=0)
        log_q = -self._ctc(rep, tg["labels"], tg["lengths"], "none").reshape(n, m)
        return [[{"text": s} for s in texts[i * m : (i + 1) * m]] for i in range(n)], log_q.cpu().numpy()
