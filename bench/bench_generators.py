"""Rendering speed: seconds per image for every style x variant, one core.

Target: <= 0.5 ms per image. Reference in the same run: the `captcha` library's ImageCaptcha at
200x50 (a widely used PyPI generator). Run with `tox -e bench`.
"""

from __future__ import annotations

import itertools

import cv2
import pytest

from synthgap.generators import create_generator, list_generators

cv2.setNumThreads(1)

CASES = [(s, e) for s in list_generators() for e in (False, True)]


@pytest.mark.parametrize(
    ("style", "elastic"), CASES, ids=[f"{s}-{'elastic' if e else 'plain'}" for s, e in CASES]
)
def bench_render_one_image(benchmark, style, elastic):
    gen = create_generator(style, elastic=elastic)
    gen.warm_caches()
    counter = itertools.count()
    benchmark.group = "generators"
    benchmark.extra_info["unit"] = "one 200x50 image"
    benchmark(lambda: gen.sample(1, next(counter)))


def bench_reference_imagecaptcha(benchmark):
    from captcha.image import ImageCaptcha

    gen = ImageCaptcha(width=200, height=50)
    benchmark.group = "generators"
    benchmark.extra_info["unit"] = "one 200x50 image"
    benchmark(lambda: gen.generate_image("3nmx7"))
