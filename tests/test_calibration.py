from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from synthgap.calibration import (
    accuracy_at_coverage,
    brier_score,
    coverage_counts,
    coverage_table,
    credible_set,
    credible_set_coverage,
    expected_calibration_error,
    plot_coverage,
    reliability_diagram,
    reliability_table,
    true_string_nll,
)


def test_perfect_calibration_has_zero_ece():
    # in each bin, the share correct equals the (single) confidence of that bin
    conf = np.repeat([0.1, 0.5, 0.9], 10)
    correct = np.concatenate([np.arange(10) < 1, np.arange(10) < 5, np.arange(10) < 9])
    assert expected_calibration_error(conf, correct) == pytest.approx(0.0, abs=1e-12)


def test_large_calibrated_sample_has_small_ece():
    rng = np.random.default_rng(0)
    conf = rng.uniform(0, 1, 200_000)
    correct = rng.uniform(0, 1, conf.size) < conf
    assert expected_calibration_error(conf, correct) < 0.01


def test_constant_overconfidence_has_known_ece_and_brier():
    conf = np.full(10, 0.95)
    correct = np.arange(10) < 6  # 60 % right at 95 % confidence
    assert expected_calibration_error(conf, correct) == pytest.approx(0.35)
    assert brier_score(conf, correct) == pytest.approx(0.6 * 0.05**2 + 0.4 * 0.95**2)


def test_ece_weights_bins_by_size():
    conf = np.array([0.95, 0.95, 0.95, 0.95, 0.25])
    correct = np.array([1, 1, 1, 0, 1])  # bin at .95: acc .75 (gap .2, weight 4/5); bin at .25: gap .75 (1/5)
    assert expected_calibration_error(conf, correct) == pytest.approx(0.8 * 0.2 + 0.2 * 0.75)
    t = reliability_table(conf, correct)
    assert len(t) == 15 and t["count"].sum() == 5
    assert t.loc[14, "accuracy"] == pytest.approx(0.75) and t.loc[3, "count"] == 1
    assert np.isnan(t.loc[0, "accuracy"])


def test_bin_edges_are_right_closed():
    t = reliability_table([0.0, 1 / 15, 1.0], [1, 1, 1], n_bins=15)
    assert t.loc[0, "count"] == 2 and t.loc[14, "count"] == 1


@pytest.mark.parametrize("conf, correct", [([1.2], [1]), ([0.5], [2]), ([0.5, 0.5], [1]), ([], [])])
def test_bad_input_raises(conf, correct):
    with pytest.raises(ValueError):
        expected_calibration_error(conf, correct)


def test_true_string_nll():
    assert true_string_nll([1.0, np.exp(-2.0)]) == pytest.approx(1.0)
    assert true_string_nll([0.0], floor=1e-4) == pytest.approx(-np.log(1e-4))


def test_accuracy_at_coverage_keeps_the_most_confident():
    conf = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])
    correct = np.array([1, 1, 1, 1, 0, 1, 0, 0, 1, 0])
    acc = accuracy_at_coverage(conf, correct)
    assert acc == {0.5: pytest.approx(4 / 5), 0.8: pytest.approx(5 / 8), 0.9: pytest.approx(6 / 9)}
    assert accuracy_at_coverage(conf, correct, [1.0])[1.0] == pytest.approx(0.6)
    with pytest.raises(ValueError):
        accuracy_at_coverage(conf, correct, [0.0])


def test_credible_set_and_coverage():
    strings, probs = ("a", "b", "c", "d"), np.array([0.5, 0.3, 0.15, 0.05])
    assert credible_set(strings, probs, 0.8) == ("a", "b")
    assert credible_set(strings, probs, 0.9) == ("a", "b", "c")
    assert credible_set(strings, probs, 0.5) == ("a",)
    assert credible_set(("x", "y"), [0.2, 0.7], 0.6) == ("y",)  # unsorted input
    assert credible_set(("x", "y"), [0.5, 0.3], 0.9) == ("x", "y")  # truncated: everything retained
    posts = [(strings, probs)] * 4
    assert credible_set_coverage(posts, ["a", "c", "d", "zz"], 0.9) == pytest.approx(0.5)


def test_credible_sets_of_a_calibrated_forecaster_cover_at_their_mass():
    # truth ~ the posterior itself: the set contains it as often as the set's own mass says, which
    # for discrete posteriors is a little above the level (the smallest set overshoots it)
    rng = np.random.default_rng(1)
    strings = tuple("abcdefghij")
    posts, truths, masses = [], [], []
    for _ in range(4000):
        p = rng.dirichlet(np.full(10, 0.3))
        posts.append((strings, p))
        truths.append(strings[rng.choice(10, p=p)])
        masses.append(sum(p[strings.index(s)] for s in credible_set(strings, p, 0.9)))
    assert min(masses) >= 0.9
    assert credible_set_coverage(posts, truths, 0.9) == pytest.approx(np.mean(masses), abs=0.015)


def test_reliability_diagram_draws_bars(tmp_path):
    rng = np.random.default_rng(0)
    conf = rng.uniform(0.3, 1, 300)
    fig = reliability_diagram(conf, rng.uniform(0, 1, 300) < conf, title="test")
    assert isinstance(fig, Figure)
    assert len(fig.axes[0].patches) == 30  # 15 accuracy bars + 15 gap bars
    fig.savefig(tmp_path / "r.png")
    assert (tmp_path / "r.png").stat().st_size > 1000


def test_coverage_counts_sum_over_cells_to_the_curve_of_all_captchas():
    strings = ("ab", "ac", "ad")
    posts = [(strings, np.array([0.6, 0.3, 0.1]))] * 3
    # truth "ab" enters every set; "ac" only sets of level > 0.6; "zz" (no sample) none
    counts = coverage_counts(posts, ["ab", "ac", "zz"], levels=(0.5, 0.8, 0.95))
    assert counts["level"] == [0.5, 0.8, 0.95] and counts["hits"] == [1, 2, 2] and counts["n"] == 3
    assert counts["mass"] == pytest.approx([1.8, 2.7, 3.0])  # three sets of 0.6, 0.9, 1.0
    more = coverage_counts(posts[:1], ["ad"], levels=(0.5, 0.8, 0.95))  # "ad" only past 0.9
    t = coverage_table([counts, more])
    assert t["n"].tolist() == [4, 4, 4] and t["coverage"].tolist() == [0.25, 0.5, 0.75]
    assert t["mass"].tolist() == pytest.approx([0.6, 0.9, 1.0])
    with pytest.raises(ValueError, match="different nominal levels"):
        coverage_table([counts, coverage_counts(posts[:1], ["ab"])])
    with pytest.raises(ValueError, match="as many posteriors"):
        coverage_counts(posts, ["ab"])


def test_coverage_of_a_calibrated_forecaster_is_its_sets_mass_not_their_level(tmp_path):
    rng = np.random.default_rng(2)
    strings = tuple("abcdefghij")
    posts = [(strings, rng.dirichlet(np.full(10, 0.3))) for _ in range(3000)]
    truths = [strings[rng.choice(10, p=p)] for _, p in posts]
    t = coverage_table([coverage_counts(posts, truths)])
    assert np.allclose(t["coverage"], t["mass"], atol=0.025)  # on the diagonal of the curve
    assert t["coverage"].iloc[0] > t["level"].iloc[0] + 0.3  # at 0.1 the set is the top string
    fig = plot_coverage({"clean": t}, "test")
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert labels == ["nominal level", "clean (n=3000): coverage", "clean: claimed mass"]
    assert np.allclose(fig.axes[0].lines[1].get_ydata(), t["coverage"])
    fig.savefig(tmp_path / "c.png")
    assert (tmp_path / "c.png").stat().st_size > 1000
