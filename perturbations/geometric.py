"""Small global rotations and scalings about the image centre (a tilted or resized capture).

The magnitude comes from the table; the direction (clockwise or not, larger or smaller) is drawn
per image, so a test set mixes both and the same seed gives the same directions at every severity.
"""

from __future__ import annotations

import cv2
import numpy as np

from synthgap.perturbations import register_perturbation
from synthgap.perturbations.base import ImagePerturbation

# rotation: angle in degrees (sign drawn per image), severity 1..5
ROTATION_DEGREES = (2.0, 4.0, 6.0, 9.0, 12.0)

# scale: factor (1 + s)^(+-1) (zoom in or out, drawn per image), severity 1..5; at s = 0.3 a
# Wikipedia word (160 of 200 px wide) zoomed in loses a few pixels at both ends.
SCALE_STEP = (0.05, 0.10, 0.15, 0.20, 0.30)


def affine_about_centre(images: np.ndarray, angles: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """Rotate image i by ``angles[i]`` degrees and scale it by ``scales[i]`` about its centre.

    Bilinear; uncovered pixels copy the nearest border pixel, which keeps plain and gradient
    backgrounds plausible.
    """
    h, w = images.shape[-2:]
    centre = ((w - 1) / 2, (h - 1) / 2)
    out = np.empty_like(images)
    for i, im in enumerate(images):
        m = cv2.getRotationMatrix2D(centre, float(angles[i]), float(scales[i]))
        out[i] = cv2.warpAffine(im, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out


def random_signs(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice(np.array([-1.0, 1.0]), size=n)


@register_perturbation("rotation", family="image")
class Rotation(ImagePerturbation):
    param, table = "degrees", ROTATION_DEGREES

    def transform(self, images, value, rng):
        n = len(images)
        return affine_about_centre(images, value * random_signs(rng, n), np.ones(n))


@register_perturbation("scale", family="image")
class Scale(ImagePerturbation):
    param, table = "step", SCALE_STEP

    def transform(self, images, value, rng):
        n = len(images)
        return affine_about_centre(images, np.zeros(n), (1.0 + value) ** random_signs(rng, n))
