"""Global gray-level changes: contrast and brightness."""

from __future__ import annotations

import numpy as np

from synthgap.perturbations import register_perturbation
from synthgap.perturbations.base import ImagePerturbation

# contrast: factor applied to each pixel's distance from the image's mean gray, severity 1..5
# (imagecorruptions: .4 .3 .2 .1 .05); 0.1 leaves ink and paper about 20 levels apart.
CONTRAST_FACTOR = (0.7, 0.5, 0.35, 0.2, 0.1)

# brightness: gray levels added to every pixel, severity 1..5. Negative (darker) because the
# styles' backgrounds are at or near 255, where brightening would clip and change little.
BRIGHTNESS_SHIFT = (-20, -40, -60, -90, -120)


def contrast(images: np.ndarray, factor: float) -> np.ndarray:
    """Scale each image's deviation from its own mean gray by ``factor``."""
    x = images.astype(np.float32)
    mean = x.mean(axis=(-2, -1), keepdims=True)
    return np.clip(np.rint((x - mean) * factor + mean), 0, 255).astype(np.uint8)


def brightness(images: np.ndarray, shift: float) -> np.ndarray:
    """Add ``shift`` gray levels to every pixel, clipped to 0..255."""
    return np.clip(images.astype(np.int16) + int(shift), 0, 255).astype(np.uint8)


@register_perturbation("contrast", family="image")
class Contrast(ImagePerturbation):
    param, table = "factor", CONTRAST_FACTOR

    def transform(self, images, value, rng):
        return contrast(images, value)


@register_perturbation("brightness", family="image")
class Brightness(ImagePerturbation):
    param, table = "shift", BRIGHTNESS_SHIFT

    def transform(self, images, value, rng):
        return brightness(images, value)
