from __future__ import annotations

import pytest

from synthgap import metrics


def test_recognition_rate_whole_string_and_case_folding():
    pred, truth = ["abc", "ABD", "xy"], ["abc", "abd", "xz"]
    assert metrics.recognition_rate(pred, truth) == pytest.approx(2 / 3)
    assert metrics.recognition_rate(pred, truth, case_sensitive=True) == pytest.approx(1 / 3)
    assert metrics.correct(pred, truth) == [True, True, False]


def test_char_accuracy_is_one_minus_normalized_edit_distance():
    assert metrics.char_accuracy(
        ["abcd", "", "abc", "abxd"], ["abcd", "abcd", "abcd", "abcd"]
    ) == pytest.approx([1.0, 0.0, 0.75, 0.75])
    assert metrics.char_accuracy(["abcdef"], ["abc"]) == pytest.approx([0.5])  # 3 insertions / 6
    assert metrics.mean_char_accuracy(["Ab"], ["ab"]) == 1.0
    assert metrics.mean_char_accuracy(["Ab"], ["ab"], case_sensitive=True) == 0.5


def test_breaking_time_is_median_ms_per_captcha():
    assert metrics.breaking_time_ms([0.010, 0.002, 0.004]) == pytest.approx(4.0)
    assert metrics.breaking_time_ms([0.256, 0.512], per_call=256) == pytest.approx(1.5)


@pytest.mark.parametrize(("pred", "truth"), [(["a"], ["a", "b"]), ([], [])])
def test_mismatched_or_empty_inputs_raise(pred, truth):
    with pytest.raises(ValueError):
        metrics.recognition_rate(pred, truth)


def test_wilson_interval_stays_inside_0_1_and_holds_the_rate():
    lo, hi = metrics.wilson_interval(20, 20)  # all read: the interval is not [1, 1]
    assert hi == pytest.approx(1.0) and lo == pytest.approx(0.8389, abs=1e-4)
    lo, hi = metrics.wilson_interval(11, 20)
    assert lo < 0.55 < hi and (lo, hi) == pytest.approx((0.3421, 0.7418), abs=1e-4)
    assert metrics.wilson_interval(0, 10)[0] == 0.0
