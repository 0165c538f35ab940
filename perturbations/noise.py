"""Pixel noise: additive white Gaussian noise and salt-and-pepper (impulse) noise."""

from __future__ import annotations

import numpy as np

from synthgap.perturbations import register_perturbation
from synthgap.perturbations.base import ImagePerturbation

# gaussian_noise: std of the added noise on the 0..255 scale, severity 1..5.
# Severity 2 (sigma 5) is the noise level of the paper's robustness test.
NOISE_SIGMA = (2.0, 5.0, 10.0, 20.0, 40.0)

# salt_and_pepper: fraction of pixels replaced, half by 0 and half by 255, severity 1..5
# (close to imagecorruptions' impulse_noise amounts .03 .06 .09 .17 .27, starting lower).
SALT_PEPPER_AMOUNT = (0.01, 0.03, 0.06, 0.10, 0.17)


def gaussian_noise(images: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Add sigma*N(0,1) per pixel, round to the nearest level, clip to 0..255."""
    noise = rng.standard_normal(images.shape, dtype=np.float32) * np.float32(sigma)
    return np.clip(np.rint(images + noise), 0, 255).astype(np.uint8)


def salt_and_pepper(images: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    """Set a fraction ``amount`` of pixels to black or white (each with probability 1/2)."""
    u = rng.random(images.shape, dtype=np.float32)
    out = images.copy()
    out[u < amount / 2] = 0
    out[(u >= amount / 2) & (u < amount)] = 255
    return out


@register_perturbation("gaussian_noise", family="image")
class GaussianNoise(ImagePerturbation):
    param, table = "sigma", NOISE_SIGMA

    def transform(self, images, value, rng):
        return gaussian_noise(images, value, rng)


@register_perturbation("salt_and_pepper", family="image")
class SaltAndPepper(ImagePerturbation):
    param, table = "amount", SALT_PEPPER_AMOUNT

    def transform(self, images, value, rng):
        return salt_and_pepper(images, value, rng)
