from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from synthgap import gaussian as g
from synthgap.cli import cli


def test_analytic_posterior_matches_bayes_rule_on_a_grid():
    y = np.array([1.5, -0.5])
    mean, cov = g.analytic_posterior(y)
    xs = np.stack(np.meshgrid(np.linspace(-6, 6, 241), np.linspace(-6, 6, 241)), -1).reshape(-1, 2)
    log_joint = g.log_normal(xs, np.zeros(2), 2 * np.eye(2)) + g.log_normal(xs, y, np.eye(2))
    w = np.exp(log_joint - log_joint.max())
    w /= w.sum()
    np.testing.assert_allclose(w @ xs, mean, atol=1e-6)
    np.testing.assert_allclose(mean, 2 / 3 * y)
    np.testing.assert_allclose(cov, 2 / 3 * np.eye(2))
    step = (12 / 240) ** 2
    log_z = np.log(np.exp(log_joint).sum() * step)
    assert log_z == pytest.approx(g.analytic_log_evidence(y)[()], abs=1e-6)


def test_perfect_proposal_gives_equal_weights_and_exact_evidence():
    y = np.array([2.0, 1.0])
    mean, cov = g.analytic_posterior(y)
    _, w, log_z, ess = g.importance_sample(y, mean, cov, 100, np.random.default_rng(0))
    np.testing.assert_allclose(w, 0.01)
    assert ess == pytest.approx(100)
    assert log_z == pytest.approx(g.analytic_log_evidence(y)[()])


def test_is_posterior_mean_error_shrinks_with_m():
    """Imperfect proposal N(y/2, 1.5 I): the IS mean converges to the analytic one as M grows."""
    y = np.array([1.0, -2.0])
    true_mean, _ = g.analytic_posterior(y)
    errors = {}
    for m in (10, 100, 1000):
        errs = []
        for seed in range(30):
            x, w, _, ess = g.importance_sample(y, y / 2, 1.5 * np.eye(2), m, np.random.default_rng([seed, m]))
            assert np.all(np.isfinite(w)) and w.sum() == pytest.approx(1.0) and 1 <= ess <= m
            errs.append(np.linalg.norm(w @ x - true_mean))
        errors[m] = np.mean(errs)
    assert errors[10] > 1.5 * errors[100] > 2.25 * errors[1000]  # ~sqrt(10) per step in theory
    assert errors[1000] < 0.06


def test_gaussian_kl():
    m, s = np.array([1.0, 2.0]), np.array([[2.0, 0.3], [0.3, 1.0]])
    assert g.gaussian_kl(m, s, m, s) == pytest.approx(0.0, abs=1e-12)
    # 1-D closed form per independent coordinate: log(s1/s0) + (s0 + dm^2) / (2 s1) - 1/2
    kl = g.gaussian_kl(np.zeros(2), np.eye(2), np.array([1.0, 0.0]), 2 * np.eye(2))
    assert kl == pytest.approx(2 * (0.5 * np.log(2) + 1 / 4 - 0.5) + 1 / 4)


def test_weighted_moments():
    x = np.array([[0.0, 0.0], [2.0, 4.0]])
    mean, cov = g.weighted_moments(x, np.array([0.75, 0.25]))
    np.testing.assert_allclose(mean, [0.5, 1.0])
    np.testing.assert_allclose(cov, 0.75 * 0.25 * np.outer([2, 4], [2, 4]))


def test_cli_gaussian_writes_table_figure_and_meta(tmp_path):
    out = tmp_path / "g"
    args = ["gaussian", "--out", str(out), "--seed", "3", "-M", "50", "--n-test", "4", "--steps", "150"]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == ["figure.png", "meta.json", "table.csv", "table.md"]
    table = pd.read_csv(out / "table.csv")
    assert list(table["mu"]) == ["[0, 0]", "[5, 0]", "[8, 0]"]
    assert ((table["ess"] >= 1) & (table["ess"] <= 50)).all()
    meta = json.loads((out / "meta.json").read_text())
    assert meta["seed"] == 3 and meta["M"] == 50 and "torch" in meta["versions"]
    # a second run into the same folder refuses and leaves it as it was
    r = CliRunner().invoke(cli, args)
    assert r.exit_code != 0 and "already exists" in str(r.exception)
    r = CliRunner().invoke(cli, ["gaussian", "--out", str(tmp_path / "h"), "-M", "0"])
    assert r.exit_code != 0 and not (tmp_path / "h").exists()
