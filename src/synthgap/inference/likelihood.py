"""ABC likelihoods: the paper's Gaussian on randomly projected pixel differences, and a Gaussian on
a summary statistic that weighs the text rather than how it was drawn.

Le et al. (2017) score a candidate render r against the observed image y by projecting the pixel
difference r - y onto D random directions and putting an isotropic Gaussian N(0, sigma^2) on each
projection (D = 500, sigma = 1 on the 0..255 gray scale). Gaussian entries scaled by 1/sqrt(n_pixels)
make each projection of a difference d distributed with variance ||d||^2 / n_pixels, the mean squared
pixel difference, so sigma keeps its meaning at any image size.

Pixels weigh the rendering nuisance, not the text: a render of the true text with fresh prior
nuisance (placement, distortion, noise) is closer to the image than a render of a one-letter-off
text only about half the time (0.49-0.57 on wikipedia and captcha_v2, with or without blurring;
results/posterior/README.md). The proposal network's expected count of each character
(``Recognizer.letter_counts``) ignores where and how the letters are drawn: there the true text's
render is the closer one 0.98-0.99 of the time. Using a network's output as the summary is
semi-automatic ABC (Fearnhead & Prangle 2012); the kernel width ``epsilon`` is fitted on held-aside
synthetic captchas (``synthgap.inference.proposals.fit_epsilon``).
"""

from __future__ import annotations

import numpy as np
import torch


class ProjectedGaussianLikelihood:
    """log N(P^T (r - y); 0, sigma^2 I_D) for a fixed random projection P drawn from ``seed``."""

    def __init__(self, shape: tuple[int, int], dim: int = 500, sigma: float = 1.0, seed: int = 0) -> None:
        if dim < 1:
            raise ValueError(f"dim must be >= 1, got {dim}")
        if not sigma > 0:
            raise ValueError(f"sigma must be > 0, got {sigma}")
        self.shape = tuple(shape)
        self.dim, self.sigma, self.seed = int(dim), float(sigma), int(seed)
        n_pixels = int(np.prod(self.shape))
        rng = np.random.default_rng(seed)
        self.projection = (rng.standard_normal((n_pixels, dim)) / np.sqrt(n_pixels)).astype(np.float32)
        self._projection_t = torch.from_numpy(self.projection)
        self._log_norm = -dim * (np.log(sigma) + 0.5 * np.log(2 * np.pi))

    def project(self, images: np.ndarray) -> np.ndarray:
        """(..., H, W) images -> (..., D) projections (linear, so proj(r - y) = proj(r) - proj(y))."""
        images = np.asarray(images)
        if images.shape[-2:] != self.shape:
            raise ValueError(f"images of shape {images.shape[-2:]}, likelihood built for {self.shape}")
        flat = images.reshape(*images.shape[:-2], -1).astype(np.float32)
        # torch's matmul: about 10x numpy's on this project's CPU builds (M=100 renders: 40 vs 430 ms)
        return (torch.from_numpy(np.ascontiguousarray(flat)) @ self._projection_t).numpy()

    def __call__(self, observed: np.ndarray, renders: np.ndarray) -> np.ndarray:
        """Log-likelihood of ``observed`` (H, W) under each of ``renders`` (M, H, W): shape (M,)."""
        diff = self.project(renders).astype(np.float64) - self.project(observed).astype(np.float64)
        return self._log_norm - 0.5 * np.sum(diff * diff, axis=-1) / self.sigma**2


class LetterCountLikelihood:
    """log N(S(r) - S(y); 0, epsilon^2 I) with S = ``model.letter_counts`` (n, |charset|)."""

    def __init__(self, model, epsilon: float) -> None:
        if not epsilon > 0:
            raise ValueError(f"epsilon must be > 0, got {epsilon}")
        self.model, self.epsilon = model, float(epsilon)

    def distances(self, observed: np.ndarray, renders: np.ndarray) -> np.ndarray:
        """Squared distance of each render's summary to the observed image's: shape (M,)."""
        s_y = self.model.letter_counts(np.asarray(observed)[None])[0].astype(np.float64)
        s_r = self.model.letter_counts(np.asarray(renders)).astype(np.float64)
        return np.sum((s_r - s_y) ** 2, axis=1)

    def log_kernel(self, d2: np.ndarray) -> np.ndarray:
        dim = len(self.model.charset)
        return -0.5 * d2 / self.epsilon**2 - dim * (np.log(self.epsilon) + 0.5 * np.log(2 * np.pi))

    def __call__(self, observed: np.ndarray, renders: np.ndarray) -> np.ndarray:
        return self.log_kernel(self.distances(observed, renders))
