"""JPEG compression artefacts (images that were saved lossily before they reached the breaker)."""

from __future__ import annotations

import cv2
import numpy as np

from synthgap.perturbations import register_perturbation
from synthgap.perturbations.base import ImagePerturbation

# libjpeg quality 1..100 (lower = stronger artefacts), severity 1..5;
# imagecorruptions uses 25 18 15 10 7 on photographs, text edges show artefacts earlier.
JPEG_QUALITY = (40, 25, 15, 10, 5)


def jpeg(images: np.ndarray, quality: int) -> np.ndarray:
    """Encode each image as a grayscale JPEG at ``quality`` and decode it again (OpenCV/libjpeg)."""
    out = np.empty_like(images)
    for i, im in enumerate(images):
        ok, buf = cv2.imencode(".jpg", im, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
        if not ok:
            raise RuntimeError("OpenCV could not encode a JPEG")
        out[i] = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    return out


@register_perturbation("jpeg", family="image")
class Jpeg(ImagePerturbation):
    param, table = "quality", JPEG_QUALITY

    def transform(self, images, value, rng):
        return jpeg(images, value)
