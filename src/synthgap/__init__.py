"""synthgap: robustness and misspecification benchmark for Captcha breakers trained on synthetic data."""

from __future__ import annotations

from importlib import metadata

__version__ = metadata.version("synthgap")


def versions() -> dict[str, str]:
    """Versions of everything that can change a number we report."""
    names = ["synthgap", "numpy", "opencv-python-headless", "pillow", "torch", "scipy", "pandas"]
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    import PIL.features

    out["freetype"] = PIL.features.version("freetype2") or "unknown"
    return out
