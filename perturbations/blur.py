"""Gaussian blur (defocus, low-resolution scans)."""

from __future__ import annotations

import cv2
import numpy as np

from synthgap.perturbations import register_perturbation
from synthgap.perturbations.base import ImagePerturbation

# std of the Gaussian kernel in pixels, severity 1..5 (the styles' own blur is 0.5 px at most,
# so severity 1 roughly doubles it; a glyph stroke is 2-4 px wide, so 3 px smears strokes together)
BLUR_SIGMA = (0.5, 1.0, 1.5, 2.0, 3.0)


def gaussian_blur(images: np.ndarray, sigma: float) -> np.ndarray:
    """Blur each image with a normalised Gaussian of std ``sigma``; borders replicate."""
    return np.stack([cv2.GaussianBlur(im, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE) for im in images])


@register_perturbation("gaussian_blur", family="image")
class GaussianBlur(ImagePerturbation):
    param, table = "sigma", BLUR_SIGMA

    def transform(self, images, value, rng):
        return gaussian_blur(images, value)
