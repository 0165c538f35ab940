"""Decoding under a word-pair prior: the most probable text that is two words of a list.

A style whose texts are two dictionary words (``wikipedia_confirmedit``) makes the word list part
of the generative model, so a CTC breaker may use it when decoding. For every word at once
(vectorised per word length), CTC forward variables give the log-probability that frames 0..t
collapse to the word, ending on its last letter, and backward variables that frames t..T-1
collapse to it; a pair's probability sums over the frame where the second word starts (a blank is
required between two equal letters). Each path of the pair is counted once: the split is the
last frame of the first word's last letter. The best pair is found exactly among the ``top``
first and second words that are best on their own. No decoder library on PyPI for this torch
handles a lexicon (torchaudio's flashlight decoder does, but not for torch 2.13), hence this file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import logsumexp

NEG = -np.inf
TINY = 1e-200  # relative to the best word: out of the running
PLAUSIBLE = 1e-9  # a letter below this probability in every frame rules its words out


def _forward(logp: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CTC forward over (T, C) log-probabilities for words ``labels`` (W, L) of one length.

    Returns (end_label, end_any), each (W, T): log P(frames 0..t collapse to the word) with the
    path on the word's last letter at t, and on its last letter or the blank after it. Computed
    in probability space, rescaled by one factor per frame for all words (a word that falls
    below 1e-200 of the best is out of the running and set to 0), states as rows: ~20x faster than
    log space with words as rows.
    """
    t_len = logp.shape[0]
    w, n = labels.shape
    ext = np.zeros((w, 2 * n + 1), np.int64)
    ext[:, 1::2] = labels
    skip = np.zeros(ext.shape, bool)
    skip[:, 3::2] = labels[:, 1:] != labels[:, :-1]
    emit = np.exp(logp)[:, ext.T]  # (T, S, W): states as rows, so every step reads whole rows
    skip = skip.T.astype(emit.dtype)
    alpha = np.zeros((ext.shape[1] + 2, w))  # two empty states in front: the shifted reads
    alpha[2:4] = emit[0, :2]
    log_scale = np.zeros(t_len)
    last, blank = np.empty((t_len, w)), np.empty((t_len, w))
    for t in range(t_len):
        if t:
            alpha[2:] = (alpha[2:] + alpha[1:-1] + alpha[:-2] * skip) * emit[t]
        top = alpha.max()
        if top > 0:
            alpha /= top
            log_scale[t:] += np.log(top)
            alpha[alpha < TINY] = 0.0  # denormals would slow every later step ~20x
        last[t], blank[t] = alpha[-2], alpha[-1]
    with np.errstate(divide="ignore"):
        end_label, end_any = (np.log(last).T + log_scale), (np.log(last + blank).T + log_scale)
    return end_label, end_any


@dataclass(frozen=True)
class WordPairs:
    """A word list (as class ids of a CTC charset, blank = 0) and the total length range."""

    words: tuple[str, ...]
    charset: str
    lengths: tuple[int, int]
    top: int = 40

    def __post_init__(self) -> None:
        index = {c: i + 1 for i, c in enumerate(self.charset)}
        groups: dict[int, list[str]] = {}
        for word in self.words:
            if word and set(word) <= index.keys():
                groups.setdefault(len(word), []).append(word)
        ids = {n: (ws, np.array([[index[c] for c in w] for w in ws], np.int64)) for n, ws in groups.items()}
        object.__setattr__(self, "_groups", dict(sorted(ids.items())))

    def decode(self, logp: np.ndarray) -> tuple[str, float]:
        """(best two-word text, its log-probability) for one image's (T, C) CTC log-probabilities;
        ("", -inf) when no pair fits the frames."""
        words, end1, any2, last, first = [], [], [], [], []
        # a word with a letter that no frame gives 1e-9 cannot win against any plausible pair
        seen = np.exp(logp.max(axis=0)) >= PLAUSIBLE
        groups = [(ws, labels, seen[labels].all(axis=1)) for ws, labels in self._groups.values()]
        if not any(keep.any() for *_, keep in groups):
            groups = [(ws, labels, np.ones(len(ws), bool)) for ws, labels, _ in groups]
        for ws, labels, keep in groups:
            if not keep.any():
                continue
            ws, labels = [w for w, k in zip(ws, keep, strict=True) if k], labels[keep]
            end_label, _ = _forward(logp, labels)  # the word on frames 0..t, ending on its last letter
            _, rev_any = _forward(logp[::-1], labels[:, ::-1])
            words += ws
            end1.append(end_label)
            any2.append(rev_any[:, ::-1])  # the word on frames t..T-1
            last.append(labels[:, -1])
            first.append(labels[:, 0])
        end1, any2 = np.concatenate(end1), np.concatenate(any2)
        last, first = np.concatenate(last), np.concatenate(first)
        nxt = any2[:, 1:]  # the second word on t+1..T-1, for a split after frame t = 0..T-2
        nxt_blank = logp[1:, 0][None, :] + np.concatenate(
            [any2[:, 2:], np.full((len(words), 1), NEG)], axis=1
        )
        head = end1[:, :-1]
        # rank each side by its best completion with any partner, then score the top pairs exactly
        top1 = np.argsort(-logsumexp(head + nxt.max(axis=0)[None, :], axis=1))[: self.top]
        top2 = np.argsort(-logsumexp(head.max(axis=0)[None, :] + nxt, axis=1))[: self.top]
        same = last[top1][:, None] == first[top2][None, :]  # equal letters need a blank between
        start = np.where(same[:, :, None], nxt_blank[top2][None], nxt[top2][None])
        pair = logsumexp(head[top1][:, None, :] + start, axis=2)
        total = np.add.outer([len(words[i]) for i in top1], [len(words[j]) for j in top2])
        pair = np.where((total >= self.lengths[0]) & (total <= self.lengths[1]), pair, NEG)
        i, j = np.unravel_index(np.argmax(pair), pair.shape)
        if not np.isfinite(pair[i, j]):
            return "", float(NEG)
        return words[top1[i]] + words[top2[j]], float(pair[i, j])


def from_prior(prior: dict, charset: str) -> WordPairs:
    """The decoder of a style's text prior as checkpoints record it (``Generator.text_prior()``);
    UsageError naming the word list if it is missing or differs from the one trained with."""
    import hashlib
    from pathlib import Path

    from synthgap.errors import UsageError

    if prior.get("kind") != "word_pairs":
        raise UsageError(f"prior: unknown kind {prior.get('kind')!r}", field="prior")
    path = Path(prior["path"])
    try:
        data = path.read_bytes()
    except OSError as e:
        raise UsageError(f"prior: cannot read the word list {path} ({e.strerror})", field="prior") from None
    if hashlib.sha256(data).hexdigest() != prior["sha256"]:
        raise UsageError(f"prior: {path} differs from the word list the checkpoint names", field="prior")
    from synthgap.generators.wikipedia_confirmedit import load_words

    words = load_words(path, prior["charset"], *prior["word_lengths"])
    return WordPairs(words, charset, tuple(prior["lengths"]))


def apply_prior(model: Any, prior_of: str) -> str:
    """Decode ``model`` under ``prior_of``: 'own' (as trained: its style's word list, if any), 'none'
    (letters), or another style's word list. Returns the decoder's name for a report."""
    from synthgap.errors import UsageError
    from synthgap.generators import create_generator

    has = hasattr(model, "prior")
    if prior_of == "none":
        if has:
            model.prior = None
    elif prior_of != "own":
        if not has:
            raise UsageError(f"prior: model {model.name} cannot decode under a text prior", field="prior")
        text_prior = create_generator(prior_of).text_prior()
        if text_prior is None:
            raise UsageError(f"prior: style {prior_of!r} draws independent letters, not words", field="prior")
        model.prior = from_prior(text_prior, model.charset)
    if has and model.prior is not None:
        return "word_pairs"
    return f"beam{model.beam}" if getattr(model, "beam", 0) > 1 else "greedy"
