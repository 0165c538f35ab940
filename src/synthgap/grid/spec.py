"""Grid files: which breakers to train and on which test sets to evaluate them.

A grid is a TOML file (see ``grids/quick.toml``); it is parsed into frozen dataclasses and fully
validated before any work starts. A :class:`Run` is one trained breaker (style, variant, model,
size, seed); a :class:`Cell` is a run evaluated on one test set (test style, perturbation,
severity). Seeds come from coordinates (a SeedSequence over a stable hash), so adding or removing
cells changes no other cell's numbers.

Test sets do not depend on the run: every breaker is scored on the same images (paired
comparisons). A transfer cell uses the target style's clean test set, and an image perturbation
is applied to the clean test set of its style, so severities and styles are paired too.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import tomllib
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

from synthgap.errors import UsageError


class Variant(StrEnum):
    """A generator variant: the style as it is, or with Simard elastic displacement fields."""

    PLAIN = "plain"
    ELASTIC = "elastic"


class TestKind(StrEnum):
    """The test sets the grid itself provides, beside the perturbation registry's names: a run's own
    style clean, real captchas, another style's clean captchas. Strings (StrEnum) in every table."""

    __test__ = False  # not a pytest class

    CLEAN = "clean"
    REAL = "real"
    TRANSFER = "transfer"


VARIANTS = tuple(Variant)
CLEAN, REAL, TRANSFER = TestKind.CLEAN, TestKind.REAL, TestKind.TRANSFER
TOP_LEVEL = {
    "name", "styles", "variants", "models", "sizes", "seeds", "test_size", "test_seed", "clean",
    "budget", "perturbations", "transfer", "real", "posterior", "zoo",
}  # fmt: skip


def stable_hash(*parts: Any) -> str:
    """SHA-256 of the JSON of ``parts``: the same on every machine and Python version."""
    return hashlib.sha256(json.dumps(parts, separators=(",", ":")).encode()).hexdigest()


def coordinate_seed(*parts: Any) -> int:
    """A 63-bit seed from coordinates: SeedSequence over the words of their stable hash."""
    words = np.frombuffer(bytes.fromhex(stable_hash(*parts)), dtype=np.uint32)
    return int(np.random.SeedSequence(words.tolist()).generate_state(1, np.uint64)[0]) >> 1


@dataclass(frozen=True)
class Budget:
    """How long to train each run: a number of optimiser steps or of wall-clock minutes (neither:
    the grid's runs are all zoo entries, trained as the zoo trains them)."""

    steps: int | None = None
    minutes: float | None = None


LIKELIHOODS = ("pixels", "letters")  # synthgap.inference.model_posteriors's


@dataclass(frozen=True)
class PosteriorSpec:
    """The importance-sampled posterior each cell computes on a seeded subset of its test set.

    ``size`` captchas (0 turns it off), ``M`` samples each. ``likelihood = "pixels"``: the paper's
    ABC with ``sigma`` (on the 0..255 gray scale) over ``dim`` random projections; ``"letters"``: a
    kernel of width ``epsilon`` on the model's letter counts, fitted per run unless given
    (``fit_epsilon``: the summary's spread under the rendering nuisance on ``fit_n`` held-aside
    captchas).
    ``ess_target`` tempers the likelihood per captcha until ESS / M reaches the target
    (synthgap.inference.importance.temper).
    """

    size: int = 20
    M: int = 100  # noqa: N815 - the paper's name
    sigma: float = 1.0
    dim: int = 500
    ess_target: float | None = None  # temper the likelihood per captcha to this ESS / M (None: as is)
    likelihood: str = "pixels"
    epsilon: float | None = None  # letters: the kernel width (None: fitted per run)
    fit_n: int = 50

    def settings(self) -> dict[str, Any]:
        """The spec as recorded: the letters likelihood's keys only where it is used."""
        out = asdict(self)
        if self.ess_target is None:
            del out["ess_target"]
        if self.likelihood == "pixels":
            for k in ("likelihood", "epsilon", "fit_n"):
                del out[k]
        elif self.epsilon is None:
            del out["epsilon"]
        return out


@dataclass(frozen=True)
class Run:
    style: str
    variant: str
    model: str
    size: str
    seed: int
    budget: Budget = field(default_factory=Budget)

    @property
    def coordinates(self) -> dict[str, Any]:
        return {"style": self.style, "variant": self.variant, "model": self.model, "size": self.size,
                "seed": self.seed}  # fmt: skip

    @property
    def id(self) -> str:
        return stable_hash("run", self.coordinates)[:16]

    @property
    def elastic(self) -> bool:
        return self.variant == Variant.ELASTIC

    @property
    def train_seed(self) -> int:
        return coordinate_seed("train", self.coordinates)


@dataclass(frozen=True)
class Cell:
    """A run and one test set. ``params_json`` holds the perturbation's resolved parameters."""

    run: Run
    test_style: str
    perturbation: str
    severity: int
    test_size: int = 0
    base_seed: int = 0
    real_path: str | None = None
    real_skip_look: int = 0  # real cells: leave out the seeded look set of this many images
    params_json: str = "{}"
    posterior: PosteriorSpec = field(default_factory=PosteriorSpec)

    @property
    def coordinates(self) -> dict[str, Any]:
        return {**self.run.coordinates, "test_style": self.test_style, "perturbation": self.perturbation,
                "severity": self.severity}  # fmt: skip

    @property
    def id(self) -> str:
        return stable_hash("cell", self.coordinates)[:16]

    @property
    def params(self) -> dict[str, Any]:
        return json.loads(self.params_json)

    @property
    def test_seed(self) -> int:
        """Seed of this cell's test set; transfer cells share the target style's clean set."""
        if self.perturbation == TRANSFER:
            return seed_of_test_set(self.base_seed, self.test_style, CLEAN, 0)
        return seed_of_test_set(self.base_seed, self.test_style, self.perturbation, self.severity)


def seed_of_test_set(base_seed: int, style: str, perturbation: str, severity: int) -> int:
    return coordinate_seed("test", base_seed, style, perturbation, severity)


@dataclass(frozen=True)
class Grid:
    name: str
    styles: tuple[str, ...]
    variants: tuple[str, ...]
    models: tuple[str, ...]
    sizes: tuple[str, ...]
    seeds: tuple[int, ...]
    test_size: int
    budget: Budget
    test_seed: int = 0
    clean: bool = True
    perturbations: tuple[tuple[str, tuple[int, ...]], ...] = ()
    transfer: tuple[tuple[str, tuple[str, ...]], ...] = ()
    real: tuple[tuple[str, str], ...] = ()
    real_skip_look: tuple[tuple[str, int], ...] = ()  # style -> look-set size left out of its real cells
    posterior: PosteriorSpec = field(default_factory=PosteriorSpec)
    zoo: str | None = None  # folder of a model zoo (synthgap.zoo) whose entries the runs reuse
    source: str = "<string>"

    def runs(self) -> list[Run]:
        axes = (self.styles, self.variants, self.models, self.sizes, self.seeds)
        return [Run(*coords, budget=self.budget) for coords in itertools.product(*axes)]

    def test_sets(self, style: str) -> list[tuple[str, str, int]]:
        """(test style, perturbation, severity) for every test of a breaker trained on ``style``."""
        out = [(style, CLEAN, 0)] if self.clean else []
        out += [(style, name, s) for name, severities in self.perturbations for s in severities]
        out += [
            (target, TRANSFER, 1)
            for source, targets in self.transfer
            if source == style
            for target in targets
        ]
        out += [(style, REAL, 0) for s, _ in self.real if s == style]
        return out

    def cells(self) -> list[Cell]:
        """Every cell, with resolved parameters (raises UsageError where a combination is impossible)."""
        resolved = {
            (style, *test): resolve_params(style, *test)
            for style in self.styles
            for test in self.test_sets(style)
        }  # fmt: skip
        real = dict(self.real)
        return [
            Cell(run, *test, test_size=self.test_size, base_seed=self.test_seed,
                 real_path=real.get(run.style) if test[1] == REAL else None,
                 real_skip_look=dict(self.real_skip_look).get(run.style, 0) if test[1] == REAL else 0,
                 params_json=json.dumps(resolved[(run.style, *test)], sort_keys=True),
                 posterior=self.posterior)
            for run in self.runs()
            for test in self.test_sets(run.style)
        ]  # fmt: skip

    def settings(self) -> dict[str, Any]:
        """What every cell's numbers depend on besides its coordinates (a store holds one setting)."""
        posterior = self.posterior.settings()
        out = {"test_size": self.test_size, "test_seed": self.test_seed, "budget": asdict(self.budget),
               "real": dict(self.real), "posterior": posterior}  # fmt: skip
        if self.real_skip_look:
            out["real_skip_look"] = dict(self.real_skip_look)
        return out if self.zoo is None else {**out, "zoo": self.zoo}


def resolve_params(train_style: str, test_style: str, perturbation: str, severity: int) -> dict[str, Any]:
    """The resolved parameters of a test set, for the results table; UsageError if impossible."""
    from synthgap.generators import create_generator
    from synthgap.perturbations import create_perturbation, perturbation_family
    from synthgap.perturbations.transfer import check_transfer

    if perturbation in (CLEAN, REAL):
        return {}
    if perturbation == TRANSFER:
        return {
            "target": test_style,
            **check_transfer(train_style, test_style, field=f"transfer.{train_style}"),
        }
    p = create_perturbation(perturbation, severity)
    if perturbation_family(perturbation) != "generative":
        return p.params
    try:
        return p.resolved(create_generator(test_style))
    except UsageError as e:
        field = f"perturbations.{perturbation}"
        raise UsageError(f"{field}: style {test_style!r}: {e}", field=field) from None


# -- parsing and validation ------------------------------------------------------------------------


def _fail(source: str, field: str, why: str) -> UsageError:
    return UsageError(f"{source}: {field}: {why}", field=field)


def _names(doc: dict, key: str, source: str, default: list | None = None) -> tuple[str, ...]:
    value = doc.get(key, default)
    if value is None:
        raise _fail(source, key, "missing (a list of names)")
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise _fail(source, key, f"must be a non-empty list of names, got {value!r}")
    if len(set(value)) != len(value):
        raise _fail(source, key, f"has repeated entries: {value!r}")
    return tuple(value)


def _int(value: Any, source: str, key: str, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise _fail(source, key, f"must be an integer >= {lo}, got {value!r}")
    return value


def parse_grid(text: str, source: str = "<string>", base_dir: Path | None = None) -> Grid:
    """TOML text -> Grid, checking structure and types (names are checked by ``validate_grid``)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise _fail(source, "grid", f"not valid TOML ({e})") from None
    unknown = set(doc) - TOP_LEVEL
    if unknown:
        raise _fail(source, sorted(unknown)[0], f"unknown key; known: {', '.join(sorted(TOP_LEVEL))}")
    seeds = doc.get("seeds")
    if not isinstance(seeds, list) or not seeds or len(set(map(str, seeds))) != len(seeds):
        raise _fail(source, "seeds", f"must be a non-empty list of distinct integers, got {seeds!r}")
    zoo = doc.get("zoo")
    if zoo is not None:
        if not isinstance(zoo, str) or not zoo:
            raise _fail(source, "zoo", f"must be a folder path, got {zoo!r}")
        zoo = _path(zoo, base_dir)
    budget = doc.get("budget")
    if budget is None and zoo is not None:
        budget = Budget()
    elif not isinstance(budget, dict) or len(budget) != 1 or not set(budget) <= {"steps", "minutes"}:
        raise _fail(source, "budget", f"must be a table with exactly one of steps, minutes; got {budget!r}")
    elif "steps" in budget:
        budget = Budget(steps=_int(budget["steps"], source, "budget.steps", 1))
    else:
        minutes = budget["minutes"]
        if isinstance(minutes, bool) or not isinstance(minutes, int | float) or minutes <= 0:
            raise _fail(source, "budget.minutes", f"must be a number > 0, got {minutes!r}")
        budget = Budget(minutes=float(minutes))
    real, real_skip_look = _real(doc.get("real", {}), source, base_dir)
    name = doc.get("name", Path(source).stem)
    if not isinstance(name, str) or not name:
        raise _fail(source, "name", f"must be a non-empty string, got {name!r}")
    clean = doc.get("clean", True)
    if not isinstance(clean, bool):
        raise _fail(source, "clean", f"must be true or false, got {clean!r}")
    return Grid(
        name=name,
        styles=_names(doc, "styles", source),
        variants=_names(doc, "variants", source, ["plain"]),
        models=_names(doc, "models", source),
        sizes=_names(doc, "sizes", source),
        seeds=tuple(_int(s, source, "seeds", 0) for s in seeds),
        test_size=_int(doc.get("test_size"), source, "test_size", 1),
        test_seed=_int(doc.get("test_seed", 0), source, "test_seed", 0),
        budget=budget,
        clean=clean,
        perturbations=_perturbations(doc.get("perturbations", {}), source),
        transfer=_table_of_names(doc.get("transfer", {}), source, "transfer"),
        real=real,
        real_skip_look=real_skip_look,
        posterior=_posterior(doc.get("posterior", {}), source),
        zoo=zoo,
        source=source,
    )


def _perturbations(table: Any, source: str) -> tuple[tuple[str, tuple[int, ...]], ...]:
    if not isinstance(table, dict):
        raise _fail(source, "perturbations", "must be a table: name = [severities]")
    out = []
    for name, severities in table.items():
        key = f"perturbations.{name}"
        if (
            not isinstance(severities, list)
            or not severities
            or len(set(map(str, severities))) != len(severities)
        ):
            raise _fail(source, key, f"must be a non-empty list of distinct severities, got {severities!r}")
        for s in severities:
            if isinstance(s, bool) or not isinstance(s, int) or not 1 <= s <= 5:
                raise _fail(source, key, f"severities are integers 1..5 (clean is `clean = true`), got {s!r}")
        out.append((name, tuple(severities)))
    return tuple(out)


def _posterior(table: Any, source: str) -> PosteriorSpec:
    if not isinstance(table, dict):
        raise _fail(source, "posterior", "must be a table: size, M, sigma, dim")
    known = {"size", "M", "sigma", "dim", "ess_target", "likelihood", "epsilon", "fit_n"}
    unknown = set(table) - known
    if unknown:
        raise _fail(
            source, f"posterior.{sorted(unknown)[0]}", f"unknown key; known: {', '.join(sorted(known))}"
        )
    target = table.get("ess_target")
    if target is not None and (
        isinstance(target, bool) or not isinstance(target, int | float) or not 0 < target <= 1
    ):
        raise _fail(source, "posterior.ess_target", f"must be a number in (0, 1], got {target!r}")
    spec = PosteriorSpec()
    sigma = table.get("sigma", spec.sigma)
    if isinstance(sigma, bool) or not isinstance(sigma, int | float) or not sigma > 0:
        raise _fail(source, "posterior.sigma", f"must be a number > 0, got {sigma!r}")
    likelihood = table.get("likelihood", spec.likelihood)
    if likelihood not in LIKELIHOODS:
        raise _fail(
            source, "posterior.likelihood", f"must be one of {', '.join(LIKELIHOODS)}, got {likelihood!r}"
        )
    epsilon = table.get("epsilon")
    if epsilon is not None and (
        isinstance(epsilon, bool) or not isinstance(epsilon, int | float) or not epsilon > 0
    ):
        raise _fail(source, "posterior.epsilon", f"must be a number > 0, got {epsilon!r}")
    return PosteriorSpec(
        size=_int(table.get("size", spec.size), source, "posterior.size", 0),
        M=_int(table.get("M", spec.M), source, "posterior.M", 1),
        sigma=float(sigma),
        dim=_int(table.get("dim", spec.dim), source, "posterior.dim", 1),
        ess_target=None if target is None else float(target),
        likelihood=likelihood,
        epsilon=None if epsilon is None else float(epsilon),
        fit_n=_int(table.get("fit_n", spec.fit_n), source, "posterior.fit_n", 1),
    )


def _table_of_names(table: Any, source: str, key: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(table, dict):
        raise _fail(source, key, "must be a table: training style = [test styles]")
    return tuple((k, _names(table, k, source)) for k in table)


def _real(table: Any, source: str, base_dir: Path | None):
    """``style = "folder"`` or ``style = {path = "folder", skip_look = N}`` -> (style, folder) pairs
    and (style, N) pairs: N images of the seeded look set (synthgap.realdata.look_split) are left out."""
    if not isinstance(table, dict):
        raise _fail(source, "real", "must be a table: style = folder of real images")
    out, looks = [], []
    for style, value in table.items():
        path, look = value, 0
        if isinstance(value, dict):
            unknown = set(value) - {"path", "skip_look"}
            if unknown:
                raise _fail(
                    source, f"real.{style}.{sorted(unknown)[0]}", "unknown key; known: path, skip_look"
                )
            path, look = (
                value.get("path"),
                _int(value.get("skip_look", 0), source, f"real.{style}.skip_look", 0),
            )
        if not isinstance(path, str) or not path:
            raise _fail(source, f"real.{style}", f"must be a folder path, got {path!r}")
        out.append((style, _path(path, base_dir)))
        if look:
            looks.append((style, look))
    return tuple(out), tuple(looks)


def _path(path: str, base_dir: Path | None) -> str:
    """A folder named in a grid file: relative paths are relative to the file."""
    p = Path(path).expanduser()
    if not p.is_absolute() and base_dir is not None:
        p = base_dir / p
    return str(p.resolve())


def known_models() -> list[str] | None:
    """Registered model names and ``peer:NAME`` rows, or None while ``synthgap.models`` has no
    ``list_models`` yet."""
    import synthgap.models
    from synthgap.peers import PREFIX, list_peers

    lister = getattr(synthgap.models, "list_models", None)
    return None if lister is None else list(lister()) + [PREFIX + p for p in list_peers()]


def validate_grid(grid: Grid, *, styles: list[str] | None = None, models: list[str] | None = None) -> None:
    """Check every name and combination against the registries; raise UsageError naming the field.

    ``styles`` / ``models`` default to the registries (models are not checked while the models
    package has no ``list_models``).
    """
    from synthgap.generators import list_generators
    from synthgap.peers import PEERS, create_peer, peer_name
    from synthgap.perturbations import list_perturbations

    src = grid.source
    styles = list_generators() if styles is None else styles
    models = known_models() if models is None else models
    for key, values, known in (("styles", grid.styles, styles), ("variants", grid.variants, VARIANTS),
                               ("models", grid.models, models)):  # fmt: skip
        for v in values:
            user = key == "models" and peer_name(v) is not None and peer_name(v) not in PEERS
            if known is not None and v not in known and not user:
                raise _fail(src, key, f"unknown name {v!r}; known: {', '.join(sorted(known))}")
    for model in grid.models:  # a peer row must be runnable here before any training starts
        name = peer_name(model)
        if name is not None and name in PEERS:
            missing = PEERS.entry(name).factory.missing()
            if missing:
                raise _fail(src, "models", f"{model}: not installed ({missing})")
        elif name is not None:  # a user's breaker: it must import and build
            try:
                create_peer(name)
            except UsageError as e:
                raise _fail(src, "models", f"{model}: {e}") from None
    shifts = list_perturbations(family="image") + list_perturbations(family="generative")
    for name, _ in grid.perturbations:
        if name not in shifts:
            hint = " (use the [transfer] table)" if name == TRANSFER else ""
            raise _fail(
                src, f"perturbations.{name}", f"unknown perturbation{hint}; known: {', '.join(shifts)}"
            )
    for source_style, targets in grid.transfer:
        if source_style not in grid.styles:
            raise _fail(src, f"transfer.{source_style}", "is not one of the grid's styles")
        for t in targets:
            if t not in styles:
                raise _fail(src, f"transfer.{source_style}", f"unknown style {t!r}")
            if t == source_style:
                raise _fail(src, f"transfer.{source_style}", "a style's own test set is `clean`")
    for style, path in grid.real:
        if style not in grid.styles:
            raise _fail(src, f"real.{style}", "is not one of the grid's styles")
        if not Path(path).is_dir():
            raise _fail(src, f"real.{style}", f"{path} is not a folder")
    if grid.zoo is not None:
        from synthgap.zoo import load_zoo

        zoo = load_zoo(grid.zoo)
        if grid.budget == Budget():
            outside = [r for r in grid.runs() if zoo.find(r) is None]
            if outside:
                r = outside[0]
                raise _fail(src, "budget", f"run {r.coordinates} is not an entry of {grid.zoo}; "
                            "a budget is needed for runs outside the zoo")  # fmt: skip
    try:
        grid.cells()  # resolves every perturbation for every style: fonts left, charsets overlapping
    except UsageError as e:
        raise UsageError(f"{src}: {e}", field=e.field) from None


def load_grid(path: str | Path, *, styles: list[str] | None = None, models: list[str] | None = None) -> Grid:
    """Read, parse and validate a grid file; relative ``[real]`` folders are relative to it."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise UsageError(f"{path}: cannot read the grid file ({e.strerror})", field="grid") from None
    grid = parse_grid(text, source=str(path), base_dir=path.parent)
    validate_grid(grid, styles=styles, models=models)
    return grid
