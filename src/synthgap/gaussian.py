"""The Gaussian misspecification experiment (Le et al. 2017, Section IV-A, Figure 3).

Model: x ~ N(0, 2 I) in 2-D, y | x ~ N(x, I). True data: x ~ pi = N(mu, I) with the same
observation noise, so test observations are y ~ N(mu, 2 I). A proposal q(x | y) = N(m(y), S(y)) is
an MLP trained only on model samples. Importance sampling with q targets the model's posterior,
which is Gaussian in closed form (precisions add; the mean is the precision-weighted data):

    covariance = (1/2 + 1/1)^-1 I = (2/3) I,   mean = covariance @ (y / 1) = (2/3) y,
    evidence p(y) = N(y; 0, (2 + 1) I).

As mu leaves the prior's mass, the y the proposal sees lie outside what it was trained on, q drifts
from the true posterior and the effective sample size collapses.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse
from scipy.linalg import solve_triangular
from torch import nn

from synthgap.inference import importance_weights

PRIOR_VAR = 2.0  # model prior x ~ N(0, PRIOR_VAR I)
NOISE_VAR = 1.0  # y | x ~ N(x, NOISE_VAR I), in the model and in the true data process
TRUE_VAR = 1.0  # true data x ~ N(mu, TRUE_VAR I)
MUS = ((0.0, 0.0), (5.0, 0.0), (8.0, 0.0))
POST_VAR = 1.0 / (1.0 / PRIOR_VAR + 1.0 / NOISE_VAR)


def analytic_posterior(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (..., 2) and covariance (2, 2) of x | y under the model."""
    return POST_VAR / NOISE_VAR * np.asarray(y, np.float64), POST_VAR * np.eye(2)


def analytic_log_evidence(y: np.ndarray) -> np.ndarray:
    """log p(y) = log N(y; 0, (PRIOR_VAR + NOISE_VAR) I)."""
    return log_normal(y, np.zeros(2), (PRIOR_VAR + NOISE_VAR) * np.eye(2))


def log_normal(x: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """log N(x; mean, cov) for x of shape (..., d), mean broadcastable to it, cov (d, d)."""
    diff = np.asarray(x, np.float64) - mean
    d = diff.shape[-1]
    chol = np.linalg.cholesky(cov)
    z = solve_triangular(chol, diff.reshape(-1, d).T, lower=True).T.reshape(diff.shape)
    return -0.5 * np.sum(z * z, axis=-1) - np.sum(np.log(np.diag(chol))) - 0.5 * d * np.log(2 * np.pi)


def gaussian_kl(m0: np.ndarray, s0: np.ndarray, m1: np.ndarray, s1: np.ndarray) -> float:
    """KL(N(m0, s0) || N(m1, s1))."""
    s1_inv = np.linalg.inv(s1)
    dm = m1 - m0
    logdet0, logdet1 = np.linalg.slogdet(s0)[1], np.linalg.slogdet(s1)[1]
    return float(0.5 * (np.trace(s1_inv @ s0) + dm @ s1_inv @ dm - len(m0) + logdet1 - logdet0))


def importance_sample(
    y: np.ndarray,
    q_mean: np.ndarray,
    q_cov: np.ndarray,
    M: int,  # noqa: N803 - the paper's name
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """IS for x | y with proposal N(q_mean, q_cov): samples, normalised weights, log Z, ESS."""
    x = q_mean + rng.standard_normal((M, 2)) @ np.linalg.cholesky(q_cov).T
    log_p = log_normal(x, np.zeros(2), PRIOR_VAR * np.eye(2))
    log_lik = log_normal(x, y, NOISE_VAR * np.eye(2))  # N(y; x, s) = N(x; y, s)
    w, log_z, ess = importance_weights(log_p, log_lik, log_normal(x, q_mean, q_cov))
    return x, w, log_z, ess


def weighted_moments(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of samples ``x`` (M, d) under normalised weights ``w``."""
    mean = w @ x
    d = x - mean
    return mean, (w[:, None] * d).T @ d


class GaussianProposal(nn.Module):
    """y -> N(m(y), L L^T): a tanh MLP with a mean head and a Cholesky (full or diagonal) head."""

    def __init__(self, hidden: int = 32, full: bool = True) -> None:
        super().__init__()
        self.full = full
        self.net = nn.Sequential(
            nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 5)
        )

    def forward(self, y: torch.Tensor) -> torch.distributions.MultivariateNormal:
        out = self.net(y)
        d0, d1 = (nn.functional.softplus(out[:, k]) + 1e-3 for k in (2, 3))
        off = out[:, 4] if self.full else torch.zeros_like(d0)
        tril = torch.stack([torch.stack([d0, torch.zeros_like(d0)], -1), torch.stack([off, d1], -1)], -2)
        return torch.distributions.MultivariateNormal(out[:, :2], scale_tril=tril)

    def params(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Proposal means (N, 2) and covariances (N, 2, 2) for observations y (N, 2)."""
        with torch.no_grad():
            q = self(torch.as_tensor(np.atleast_2d(y), dtype=torch.float32))
        return q.mean.double().numpy(), q.covariance_matrix.double().numpy()


def train_proposal(
    seed: int, steps: int = 2000, batch: int = 512, lr: float = 3e-3, full: bool = True
) -> tuple[GaussianProposal, float]:
    """Fit q by maximum likelihood on fresh model samples (x, y) every step; returns q, last loss."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = GaussianProposal(full=full)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    rng = np.random.default_rng([seed, 0])
    loss = torch.tensor(float("nan"))
    for _ in range(steps):
        x = rng.standard_normal((batch, 2)) * np.sqrt(PRIOR_VAR)
        y = x + rng.standard_normal((batch, 2)) * np.sqrt(NOISE_VAR)
        q = net(torch.as_tensor(y, dtype=torch.float32))
        loss = -q.log_prob(torch.as_tensor(x, dtype=torch.float32)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net, float(loss.detach())


def test_observations(seed: int, i: int, n: int) -> np.ndarray:
    """``n`` observations from the true data process for mu = MUS[i]: y ~ N(mu, (TRUE_VAR + NOISE_VAR) I)."""
    rng = np.random.default_rng([seed, 1, i])
    return np.asarray(MUS[i]) + rng.standard_normal((n, 2)) * np.sqrt(TRUE_VAR + NOISE_VAR)


def evaluate(net: GaussianProposal, seed: int, M: int = 1000, n_test: int = 100) -> pd.DataFrame:  # noqa: N803
    """One row per mu: how far the proposal and the IS estimate are from the analytic posterior.

    Per test y: |IS mean - true mean|, |proposal mean - true mean|, KL(true || q), KL(true || the
    Gaussian fitted to the weighted samples), |IS log evidence - true|, ESS. Means over test y,
    except the KL to the weighted fit, a median: with ESS near 1 the fit is near-singular.
    """
    rows = []
    for i, mu in enumerate(MUS):
        y = test_observations(seed, i, n_test)
        q_means, q_covs = net.params(y)
        true_means, true_cov = analytic_posterior(y)
        log_z_true = analytic_log_evidence(y)
        stats = []
        for j in range(n_test):
            rng = np.random.default_rng([seed, 2, i, j])
            x, w, log_z, ess = importance_sample(y[j], q_means[j], q_covs[j], M, rng)
            m, s = weighted_moments(x, w)
            stats.append((
                np.linalg.norm(m - true_means[j]), np.linalg.norm(q_means[j] - true_means[j]),
                gaussian_kl(true_means[j], true_cov, q_means[j], q_covs[j]),
                gaussian_kl(true_means[j], true_cov, m, s), abs(log_z - log_z_true[j]), ess,
            ))  # fmt: skip
        a = np.array(stats)
        rows.append({
            "mu": f"[{mu[0]:g}, {mu[1]:g}]", "M": M, "n_test": n_test,
            "is_mean_error": a[:, 0].mean(), "q_mean_error": a[:, 1].mean(),
            "kl_true_q": a[:, 2].mean(), "kl_true_is_fit_median": np.median(a[:, 3]),
            "log_evidence_abs_error": a[:, 4].mean(),
            "ess": a[:, 5].mean(), "ess_fraction": a[:, 5].mean() / M,
        })  # fmt: skip
    return pd.DataFrame(rows)


def _ellipses(ax, mean, cov, color, label, ls="-") -> None:
    """1, 2 and 3 standard-deviation contours of N(mean, cov)."""
    vals, vecs = np.linalg.eigh(cov)
    angle = np.degrees(np.arctan2(vecs[1, 1], vecs[0, 1]))
    for k in (1, 2, 3):
        w, h = 2 * k * np.sqrt(vals[1]), 2 * k * np.sqrt(vals[0])
        ax.add_patch(Ellipse(mean, w, h, angle=angle, fill=False, color=color, ls=ls, lw=1.2,
                             label=label if k == 1 else None))  # fmt: skip


def figure(net: GaussianProposal, seed: int, M: int = 1000) -> Figure:  # noqa: N803
    """Figure 3 of the paper: per mu, at the observation y = mu (the centre of the true data), the
    true posterior, the proposal, and the importance samples drawn with area proportional to weight."""
    fig = Figure(figsize=(12, 4.2), layout="constrained")
    axes = fig.subplots(1, len(MUS))
    for i, (ax, mu) in enumerate(zip(axes, MUS, strict=True)):
        y = np.asarray(mu)
        q_mean, q_cov = (a[0] for a in net.params(y))
        true_mean, true_cov = analytic_posterior(y)
        x, w, _, ess = importance_sample(y, q_mean, q_cov, M, np.random.default_rng([seed, 3, i]))
        ax.scatter(
            x[:, 0], x[:, 1], s=8 * M * w, color="tab:green", alpha=0.5, lw=0, label="weighted samples"
        )
        _ellipses(ax, true_mean, true_cov, "black", "true posterior p(x|y)")
        _ellipses(ax, q_mean, q_cov, "tab:red", "proposal q(x|y)", ls="--")
        ax.plot(*y, "k+", ms=10, label="observation y")
        centre = (true_mean + q_mean) / 2
        widest_sd = np.sqrt(max(np.linalg.eigvalsh(q_cov).max(), POST_VAR))
        half = max(4.0, 0.6 * np.abs(true_mean - q_mean).max() + 3 * widest_sd)  # both 3-sd contours
        ax.set(xlim=(centre[0] - half, centre[0] + half), ylim=(centre[1] - half, centre[1] + half),
               aspect="equal", xlabel="$x_1$", ylabel="$x_2$",
               title=f"$\\mu$ = [{mu[0]:g}, {mu[1]:g}]   ESS = {ess:.1f} / {M}")  # fmt: skip
    axes[0].legend(loc="lower left", fontsize=7)
    return fig
