"""Cross-style transfer: a breaker trained on style A is tested on clean samples of style B.

Transfer has no graded strength: severity 0 is the training style itself (clean), severity 1 is
the ``target`` style. It is only meaningful where the two charsets overlap: characters the breaker
cannot emit are errors by construction, so the overlap is reported with every result, and disjoint
charsets are refused. Case rule: unless both styles are case-sensitive, characters are compared
case-folded (a lowercase-only breaker answers an uppercase-only style in lowercase).
"""

from __future__ import annotations

from typing import Any

from synthgap.errors import UsageError
from synthgap.generators import Generator, create_generator
from synthgap.perturbations import register_perturbation
from synthgap.perturbations.base import Perturbation


def _gen(style: str | Generator) -> Generator:
    return style if isinstance(style, Generator) else create_generator(style)


def charset_overlap(train_style: str | Generator, test_style: str | Generator) -> tuple[str, float]:
    """Test-style characters the training style covers (sorted), and their share of the test charset."""
    a, b = _gen(train_style), _gen(test_style)
    fold = not (a.case_sensitive and b.case_sensitive)
    chars_a = {c.casefold() if fold else c for c in a.config.charset}
    chars_b = {c.casefold() if fold else c for c in b.config.charset}
    common = "".join(sorted(chars_a & chars_b))
    return common, len(common) / len(chars_b)


def check_transfer(
    train_style: str | Generator, test_style: str | Generator, field: str = "transfer"
) -> dict[str, Any]:
    """Overlap facts for the results table; UsageError if the charsets are disjoint."""
    a, b = _gen(train_style), _gen(test_style)
    common, fraction = charset_overlap(a, b)
    if not common:
        raise UsageError(
            f"{field}: cannot test a {a.name!r} breaker on {b.name!r}: their charsets are disjoint",
            field=field,
        )
    return {"charset_overlap": common, "charset_overlap_fraction": fraction}


@register_perturbation("transfer", family="transfer")
class Transfer(Perturbation):
    param, table = "target", (None,)  # severity 1: the target style, given at creation

    def __init__(self, severity: int, target: str | None = None) -> None:
        super().__init__(severity)
        if self.severity == 1 and target is None:
            raise UsageError("transfer at severity 1 needs a target style", field="target")
        self.target = target

    @property
    def value(self) -> str | None:
        return None if self.severity == 0 else self.target

    def test_style(self, train_style: str) -> str:
        return train_style if self.severity == 0 else self.target

    def resolved(self, train_style: str) -> dict[str, Any]:
        """``params`` plus the charset overlap between the training and the target style."""
        if self.severity == 0:
            return {}
        return {**self.params, **check_transfer(train_style, self.target)}
