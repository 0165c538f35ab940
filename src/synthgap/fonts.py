"""Reproducible font resolution.

A font is named by a short key (``nimbus-mono-bold``); the table below says where the file comes
from (a Debian package the set-up script installs, or a PyPI package we depend on). Every generated
set records the resolved file and its SHA-256, so a result can be traced to the exact glyphs.
A font may also be given as a path to a .ttf/.otf file.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

from synthgap.errors import UsageError

_URW = "/usr/share/fonts/opentype/urw-base35"
_LIB = "/usr/share/fonts/truetype/liberation2"
_FREE = "/usr/share/fonts/truetype/freefont"
_GYRE = "/usr/share/texmf/fonts/opentype/public/tex-gyre"


def _matplotlib_font(file: str) -> str:
    import matplotlib  # a dependency of seaborn, so always installed with synthgap

    return str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / file)


# key: (where it comes from, how to install it, candidate path or callable giving one)
FONTS: dict[str, tuple[str, object]] = {
    "nimbus-mono-bold": ("apt-get install fonts-urw-base35", f"{_URW}/NimbusMonoPS-Bold.otf"),
    "nimbus-sans-bold": ("apt-get install fonts-urw-base35", f"{_URW}/NimbusSans-Bold.otf"),
    "nimbus-roman-bold": ("apt-get install fonts-urw-base35", f"{_URW}/NimbusRoman-Bold.otf"),
    "urw-gothic-demi": ("apt-get install fonts-urw-base35", f"{_URW}/URWGothic-Demi.otf"),
    "texgyre-cursor-bold": ("apt-get install fonts-texgyre", f"{_GYRE}/texgyrecursor-bold.otf"),
    "liberation-sans-bold": ("apt-get install fonts-liberation2", f"{_LIB}/LiberationSans-Bold.ttf"),
    "free-sans-bold": ("apt-get install fonts-freefont-ttf", f"{_FREE}/FreeSansBold.ttf"),
    "free-mono-bold": ("apt-get install fonts-freefont-ttf", f"{_FREE}/FreeMonoBold.ttf"),
    "comic-neue-bold": (
        "apt-get install fonts-comic-neue",
        "/usr/share/fonts/opentype/comic-neue/ComicNeue-Bold.otf",
    ),
    "humor-sans": (
        "apt-get install fonts-humor-sans",
        "/usr/share/fonts/truetype/humor-sans/Humor-Sans.ttf",
    ),
    "dejavu-sans-bold": ("pip install matplotlib", lambda: _matplotlib_font("DejaVuSans-Bold.ttf")),
    "dejavu-sans": ("pip install matplotlib", lambda: _matplotlib_font("DejaVuSans.ttf")),
    "dejavu-serif-bold": ("pip install matplotlib", lambda: _matplotlib_font("DejaVuSerif-Bold.ttf")),
    "dejavu-mono-bold": (
        "pip install matplotlib",
        lambda: _matplotlib_font("DejaVuSansMono-Bold.ttf"),
    ),
    "stix-bold": ("pip install matplotlib", lambda: _matplotlib_font("STIXGeneralBol.ttf")),
    "cmtt10": ("pip install matplotlib", lambda: _matplotlib_font("cmtt10.ttf")),
}

# Faces no style trains on, for the `fonts` perturbation (perturbations/fonts.py): slanted and
# regular weights from the same two Debian packages as above.
_FREE_APT, _LIB_APT = "apt-get install fonts-freefont-ttf", "apt-get install fonts-liberation2"
FONTS.update(
    {
        "free-serif-bold": (_FREE_APT, f"{_FREE}/FreeSerifBold.ttf"),
        "liberation-serif-bold": (_LIB_APT, f"{_LIB}/LiberationSerif-Bold.ttf"),
        "liberation-mono-bold": (_LIB_APT, f"{_LIB}/LiberationMono-Bold.ttf"),
        "free-sans-bold-oblique": (_FREE_APT, f"{_FREE}/FreeSansBoldOblique.ttf"),
        "free-mono-bold-oblique": (_FREE_APT, f"{_FREE}/FreeMonoBoldOblique.ttf"),
        "liberation-serif-bold-italic": (_LIB_APT, f"{_LIB}/LiberationSerif-BoldItalic.ttf"),
        "liberation-sans": (_LIB_APT, f"{_LIB}/LiberationSans-Regular.ttf"),
        "free-serif": (_FREE_APT, f"{_FREE}/FreeSerif.ttf"),
        "free-sans-oblique": (_FREE_APT, f"{_FREE}/FreeSansOblique.ttf"),
        "liberation-serif-italic": (_LIB_APT, f"{_LIB}/LiberationSerif-Italic.ttf"),
        "free-mono": (_FREE_APT, f"{_FREE}/FreeMono.ttf"),
    }
)


@dataclass(frozen=True)
class FontFile:
    key: str
    path: str
    sha256: str


@functools.cache
def resolve_font(key: str) -> FontFile:
    """Find the file for a font key (or path); raise a UsageError saying how to install it."""
    if key in FONTS:
        install, where = FONTS[key]
        path = Path(where() if callable(where) else where)
        if not path.is_file():
            raise UsageError(
                f"fonts: font {key!r} not found at {path}; install it with `{install}` "
                "(scripts/setup.sh installs every font the styles use)",
                field="fonts",
            )
    else:
        path = Path(key)
        if path.suffix.lower() not in {".ttf", ".otf"} or not path.is_file():
            known = ", ".join(sorted(FONTS))
            raise UsageError(
                f"fonts: unknown font {key!r}, neither a known font ({known}) nor a .ttf/.otf file",
                field="fonts",
            )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return FontFile(key=key, path=str(path), sha256=digest)
