"""Log prior of a generator latent's discrete part: text, length, font, size and kerning.

Each style draws L uniform over its length range, then L characters i.i.d. from the charset
(weighted by ``config.char_weights``), a font uniformly, a size and a kerning uniformly over their
ranges (``Generator.sample_latent``). Everything else in a latent (the style's ``params``, the
elastic strength, the per-pixel noise seed) is ignored here: the proposal is expected to draw those
from the prior, so their prior density and proposal density are the same factor and cancel in the
importance weight p(x) p(y | x) / q(x | y). A proposal that predicts them must add their log prior
and log proposal itself.
"""

from __future__ import annotations

import numpy as np

from synthgap.generators import Generator, Latent


def log_prior(gen: Generator, latent: Latent) -> float:
    """log p(text, L, font, size, kerning) under ``gen``'s prior; -inf outside its support."""
    c = gen.config
    support = gen.discrete_latents()
    if latent.L not in support["L"] or latent.font not in support["font"]:
        return -np.inf
    if latent.size not in support["size"] or latent.kerning not in support["kerning"]:
        return -np.inf
    weights = c.char_weights or {}
    total = sum(float(weights.get(ch, 1.0)) for ch in c.charset)
    if any(ch not in c.charset for ch in latent.text):
        return -np.inf
    char_p = np.array([float(weights.get(ch, 1.0)) / total for ch in latent.text])
    with np.errstate(divide="ignore"):  # a zero-weight character gives -inf, as it should
        log_text = float(np.sum(np.log(char_p)))
    return log_text - float(sum(np.log(len(support[k])) for k in ("L", "font", "size", "kerning")))
