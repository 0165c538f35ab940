"""Captcha generators: one style per file, registered by name.

>>> from synthgap.generators import create_generator
>>> gen = create_generator("wikipedia", kerning_shift=1)
>>> images, latents = gen.generate(4, seed=0)
"""

from __future__ import annotations

from typing import Any

from synthgap.generators.base import HEIGHT, WIDTH, Generator, Latent, StyleConfig
from synthgap.registry import Registry

GENERATORS: Registry[Generator] = Registry("style")


def register_generator(name: str, **tags: Any):
    """Class decorator: register a :class:`Generator` subclass under ``name``."""

    def decorator(cls: type[Generator]) -> type[Generator]:
        cls.name = name
        return GENERATORS.register(name, **tags)(cls)

    return decorator


def create_generator(name: str, elastic: bool = False, **overrides: Any) -> Generator:
    """Instantiate a style; ``overrides`` replace fields of its :class:`StyleConfig`."""
    return GENERATORS.create(name, elastic=elastic, **overrides)


def list_generators(pattern: str = "*") -> list[str]:
    return GENERATORS.names(pattern)


# Each style module registers itself on import; import them explicitly, in one place.
from synthgap.generators import (  # noqa: E402
    baidu2011,  # noqa: F401
    baidu2013,  # noqa: F401
    captcha_v2,  # noqa: F401
    ebay,  # noqa: F401
    facebook,  # noqa: F401
    facebook_look,  # noqa: F401
    recaptcha,  # noqa: F401
    wikipedia,  # noqa: F401
    wikipedia_confirmedit,  # noqa: F401
    yahoo,  # noqa: F401
)

__all__ = [
    "HEIGHT",
    "WIDTH",
    "Generator",
    "Latent",
    "StyleConfig",
    "create_generator",
    "list_generators",
    "register_generator",
]
