from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from synthgap.gap import gap_table
from synthgap.report import build_report, corruption_errors, robustness, transfer_matrix


def _row(
    model, variant, perturbation, family, severity, recognition, test_style="wikipedia", style="wikipedia"
):
    return dict(
        style=style, model=model, size="cpu", seed=0, variant=variant, test_style=test_style,
        perturbation=perturbation, family=family, severity=severity, recognition_rate=recognition,
        char_accuracy=recognition, ms_per_captcha_batch1=1.0, ms_per_captcha_batch256=0.5, error=None, n=10,
    )  # fmt: skip


@pytest.fixture
def cells() -> pd.DataFrame:
    rows = []
    for model, clean, noisy in [("a", 0.9, (0.6, 0.3)), ("b", 0.8, (0.7, 0.6))]:
        for variant, bonus in [("plain", 0.0), ("elastic", 0.05)]:
            rows.append(_row(model, variant, "clean", "clean", 0, clean + bonus))
            for sev, r in zip((1, 2), noisy, strict=True):
                rows.append(_row(model, variant, "gaussian_noise", "image", sev, r + bonus))
            rows.append(_row(model, variant, "transfer", "transfer", 1, 0.1, test_style="captcha_v2"))
            rows.append(_row(model, variant, "real", "real", 0, 0.2 + bonus))
    return pd.DataFrame(rows)


def test_robustness_drop_from_clean(cells):
    t = robustness(cells).set_index(["model", "perturbation", "severity"])
    assert t.loc[("a", "gaussian_noise", 2), "plain"] == pytest.approx(0.3)
    assert t.loc[("a", "gaussian_noise", 2), "drop_plain"] == pytest.approx(60.0)
    assert t.loc[("a", "gaussian_noise", 1), "drop_elastic"] == pytest.approx(30.0)
    assert t.loc[("b", "clean", 0), "drop_plain"] == pytest.approx(0.0)


def test_corruption_error_is_relative_to_baseline(cells):
    ce = corruption_errors(cells, baseline="a").set_index(["variant", "model"])
    # model b: errors (0.3 + 0.4) over baseline a's (0.4 + 0.7), plain variant
    assert ce.loc[("plain", "b"), "mCE"] == pytest.approx(0.7 / 1.1)
    assert ce.loc[("plain", "a"), "mCE"] == pytest.approx(1.0)


def test_transfer_matrix_has_train_style_rows_and_test_style_columns(cells):
    m = transfer_matrix(cells).set_index(["model", "variant", "style"])
    assert m.loc[("a", "plain", "wikipedia"), "wikipedia"] == pytest.approx(0.9)
    assert m.loc[("a", "plain", "wikipedia"), "captcha_v2"] == pytest.approx(0.1)


def test_real_gap_in_points(cells):
    g = gap_table(cells).set_index(["model", "variant"])
    assert g.loc[("b", "elastic"), "gap_points"] == pytest.approx(60.0)


def test_markdown_report_names_every_table(cells):
    md = build_report(cells, baseline="a").markdown()
    for heading in ("Table I", "Robustness", "Cross-style transfer", "mCE", "real gap"):
        assert heading in md


def test_calibration_tables_pair_confidence_with_recognition(cells):
    from synthgap.calibration import reliability_counts
    from synthgap.report import calibration_by_severity, confidence_tracking, reliability_figure

    # model a stays 95 % confident as recognition falls; model b's confidence follows recognition
    conf = {"a": lambda r: 0.95, "b": lambda r: r + 0.05}
    cells = cells.assign(
        mean_confidence=[conf[m](r) for m, r in zip(cells["model"], cells["recognition_rate"], strict=True)],
        ece=0.1,
        reliability=[json.dumps(reliability_counts([0.9, 0.2], [1, 0]))] * len(cells),
    )
    t = calibration_by_severity(cells).set_index(["model", "variant", "perturbation", "severity"])
    assert t.loc[("a", "plain", "gaussian_noise", 2), "overconfidence"] == pytest.approx(65.0)
    assert t.loc[("b", "plain", "clean", 0), "mean_confidence"] == pytest.approx(0.85)
    assert "transfer" not in t.index.get_level_values("perturbation")
    track = confidence_tracking(cells).set_index(["model", "variant"])
    assert np.isnan(track.loc[("a", "plain"), "corr_confidence_recognition"])  # constant confidence
    assert track.loc[("b", "plain"), "corr_confidence_recognition"] == pytest.approx(1.0)
    assert track.loc[("a", "plain"), "worst_test_set"] == "transfer:1"
    assert track.loc[("a", "plain"), "overconfidence_worst"] == pytest.approx(85.0)
    md = build_report(cells, baseline="a").markdown()
    assert "Calibration by severity" in md and "Confidence tracking" in md
    fig = reliability_figure(cells)
    assert (
        len(fig.subfigs) == 4 * 4
    )  # rows: (a, b) x (plain, elastic); columns: clean, perturbed, transfer, real


def test_posterior_figures_sum_each_kind_of_test_set(cells, tmp_path):
    from synthgap.calibration import coverage_counts, reliability_counts
    from synthgap.report import coverage_figure, figures

    posts = [(("ab", "ac"), np.array([0.7, 0.3]))] * 2
    covered = {"real": ["zz", "zz"], "clean": ["ab", "ab"]}  # the others: one of two in every set
    cells = cells.assign(
        is_coverage=[json.dumps(coverage_counts(posts, covered.get(f, ["ab", "zz"]))) for f in cells.family],
        is_reliability=json.dumps(reliability_counts([0.7, 0.7], [1, 0])),
    )
    fig = coverage_figure(cells)
    assert len(fig.axes) == 4  # (a, b) x (plain, elastic)
    curves = {line.get_label(): line.get_ydata() for line in fig.axes[0].lines}
    assert curves["clean (n=2): coverage"].tolist() == [1.0] * 10
    assert curves["real (n=2): coverage"].tolist() == [0.0] * 10
    assert curves["perturbed (n=4): coverage"].tolist() == [0.5] * 10  # two noise cells summed
    assert curves["real: claimed mass"][:6].tolist() == pytest.approx([0.7] * 6)  # {ab} up to level 0.7
    names = [p.name for p in figures(cells, tmp_path)]
    assert {"posterior_reliability.png", "posterior_coverage.png"} <= set(names)


def test_breaker_under_half_clean_is_marked_and_left_out_of_aggregates(cells):
    cells = cells.copy()
    lost = (cells["model"] == "b") & (cells["variant"] == "elastic")
    cells.loc[lost, "recognition_rate"] = cells.loc[lost, "recognition_rate"] * 0.1  # clean 0.085
    rep = build_report(cells, baseline="a")
    t1 = next(t for name, t in rep.tables.items() if name.startswith("Table I")).set_index(
        ["model", "variant"]
    )
    assert t1.loc[("b", "elastic"), "status"] == "not converged" and t1.loc[("b", "plain"), "status"] == ""
    rob = next(t for name, t in rep.tables.items() if name.startswith("Robustness"))
    rob = rob.set_index(["model", "perturbation", "severity"])
    assert rob.loc[("b", "gaussian_noise", 1), "status"] == "not converged: elastic"
    assert np.isnan(rob.loc[("b", "gaussian_noise", 1), "drop_elastic"])  # no drop from a zero
    assert rob.loc[("b", "gaussian_noise", 1), "drop_plain"] == pytest.approx(10.0)
    ce = next(t for name, t in rep.tables.items() if name.startswith("Corruption")).set_index(
        ["variant", "model"]
    )
    assert ("elastic", "b") not in ce.index and ce.loc[("plain", "b"), "mCE"] == pytest.approx(0.7 / 1.1)
    assert "not converged" in rep.markdown()


def test_posterior_table_puts_each_test_sets_posterior_beside_its_arg_max(cells):
    from synthgap.report import posterior_calibration

    assert posterior_calibration(cells).empty  # no posterior columns: no table
    with_is = cells.assign(
        is_recognition_rate=[None if p == "real" else 0.5 for p in cells["perturbation"]],
        is_credible90_coverage=0.8,
    )
    t = posterior_calibration(with_is)
    assert len(t) == int((cells["perturbation"] != "real").sum())
    assert list(t.columns[-3:]) == ["recognition_rate", "is_recognition_rate", "is_credible90_coverage"]
    md = build_report(with_is, baseline="a").markdown()
    assert "Posterior calibration" in md
