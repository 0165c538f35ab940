"""Recognition metrics as pure functions of predicted and true strings (and of measured times).

- recognition rate: fraction of captchas whose whole string is right;
- character accuracy: 1 - normalized Levenshtein distance (distance / length of the longer
  string), so an empty prediction of a 5-letter text scores 0 and a perfect one 1;
- case is folded unless the style is case-sensitive.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rapidfuzz.distance import Levenshtein


def fold(texts: Sequence[str], case_sensitive: bool) -> list[str]:
    """The texts as scored: lower-cased unless the case rule is case-sensitive."""
    return list(texts) if case_sensitive else [t.lower() for t in texts]


def _check(pred: Sequence[str], truth: Sequence[str]) -> None:
    if len(pred) != len(truth):
        raise ValueError(f"{len(pred)} predictions for {len(truth)} truths")
    if not truth:
        raise ValueError("no captchas to score")


def correct(pred: Sequence[str], truth: Sequence[str], case_sensitive: bool = False) -> list[bool]:
    """Whole-string correctness of each captcha."""
    _check(pred, truth)
    return [p == t for p, t in zip(fold(pred, case_sensitive), fold(truth, case_sensitive), strict=True)]


def recognition_rate(pred: Sequence[str], truth: Sequence[str], case_sensitive: bool = False) -> float:
    return float(np.mean(correct(pred, truth, case_sensitive)))


def char_accuracy(pred: Sequence[str], truth: Sequence[str], case_sensitive: bool = False) -> list[float]:
    """1 - normalized edit distance of each captcha (1.0 when both strings are empty)."""
    _check(pred, truth)
    return [
        1.0 - Levenshtein.normalized_distance(p, t)
        for p, t in zip(fold(pred, case_sensitive), fold(truth, case_sensitive), strict=True)
    ]


def mean_char_accuracy(pred: Sequence[str], truth: Sequence[str], case_sensitive: bool = False) -> float:
    return float(np.mean(char_accuracy(pred, truth, case_sensitive)))


def breaking_time_ms(seconds: Sequence[float], per_call: int = 1) -> float:
    """Median milliseconds per captcha from timed calls that each broke ``per_call`` captchas."""
    if len(seconds) == 0 or per_call < 1:
        raise ValueError("need at least one timing and per_call >= 1")
    return float(np.median(seconds)) * 1000.0 / per_call


def wilson_interval(correct: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a recognition rate: honest at the real samples' small n (10-20),
    where the normal approximation would run past 0 or 1."""
    from scipy.stats import binomtest

    ci = binomtest(correct, n).proportion_ci(level, method="wilson")
    return float(ci.low), float(ci.high)
