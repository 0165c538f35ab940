"""The model zoo: trained checkpoints kept in the repository, so grids evaluate instead of training.

A zoo is a folder (``results/zoo/``) holding

- ``zoo.toml``: which entries exist (styles x variants x models x sizes x seeds, and the products
  of ``[[more]]`` tables, whose missing axes are the top level's) and how each is trained
  (defaults, then ``[[override]]`` tables matched on style / variant / model / size);
- one folder per entry, ``<style>-<variant>-<model>-<size>-s<seed>/``: ``model.safetensors``
  (float16, no pickle), ``config.json`` (what ``synthgap eval`` loads), ``curve.csv`` (the learning
  curve) and ``record.json`` (command, seeds, steps, wall time, precision, samples/s, test scores,
  versions, the fingerprint and the SHA-256 of every file);
- ``index.csv``: a row per built entry, rewritten from the records after every build.

An entry's coordinates are a grid run's, and it is trained with the run's seed, so a grid that
names the zoo evaluates the entry instead of training. The fingerprint hashes what the weights
depend on: the generator (style, variant, version, prior, font files), the model family (name,
version, hyper-parameters) and the training settings. An entry whose fingerprint differs from
today's is stale and is never used silently.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import shutil
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from synthgap.errors import UsageError
from synthgap.grid.spec import VARIANTS, Run, stable_hash
from synthgap.io import read_format_json
from synthgap.models.training import Plateau

SPEC, INDEX, RECORD = "zoo.toml", "index.csv", "record.json"
FORMAT = "synthgap-zoo/1"
# how the training used the cores, copied from the checkpoint into the record
CORE_USE = ("workers", "torch_threads", "processes", "split", "time_s", "time_s_ranks")
INDEX_COLUMNS = [
    "name", "style", "variant", "model", "size", "seed", "steps", "minutes", "stop", "clean_recognition",
    "clean_char_accuracy", "converged", "test_n", "test_seed", "samples_per_s", "precision", "kb",
    "fingerprint", "path",
]  # fmt: skip
#: training settings an entry may set, with their defaults (``synthgap.models.training.train`` /
#: ``Plateau``); lr and batch_size default to the model family's own
TRAIN_KEYS: dict[str, Any] = {"lr": None, "batch_size": None, "bf16": False, "val_n": 1000, "val_every": 500}
PLATEAU_KEYS = {f.name for f in dataclasses.fields(Plateau)}
MATCH_KEYS = ("style", "variant", "model", "size")
#: the axes of a product of entries (the top level and each ``[[more]]`` table)
AXES = ("styles", "variants", "models", "sizes")
#: below this clean recognition a model has not learned to read the style; tables say so
CONVERGED = 0.5


@dataclass(frozen=True)
class Entry:
    """One zoo entry: grid-run coordinates and the settings it is trained with."""

    style: str
    variant: str
    model: str
    size: str
    seed: int
    settings: tuple[tuple[str, Any], ...]

    @property
    def name(self) -> str:
        return f"{self.style}-{self.variant}-{self.model}-{self.size}-s{self.seed}"

    @property
    def run(self) -> Run:
        return Run(self.style, self.variant, self.model, self.size, self.seed)

    def train_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``train`` (budget: a Plateau) for this entry."""
        s = dict(self.settings)
        kwargs = {k: s[k] for k in TRAIN_KEYS if s.get(k) is not None}
        return {**kwargs, "plateau": Plateau(**{k: s[k] for k in PLATEAU_KEYS if k in s})}


@dataclass(frozen=True)
class Zoo:
    root: Path
    entries: tuple[Entry, ...]
    test_n: int

    def find(self, run: Run) -> Entry | None:
        for e in self.entries:
            if (e.style, e.variant, e.model, e.size, e.seed) == (run.style, run.variant, run.model, run.size,
                                                                  run.seed):  # fmt: skip
                return e
        return None

    def select(self, patterns: list[str] | None) -> list[Entry]:
        import fnmatch

        if not patterns:
            return list(self.entries)
        chosen = [e for e in self.entries if any(fnmatch.fnmatch(e.name, p) for p in patterns)]
        if not chosen:
            raise UsageError(
                f"only: no entry of {self.root / SPEC} matches {' '.join(patterns)}", field="only"
            )
        return chosen


def _fail(path: Path, field: str, why: str) -> UsageError:
    return UsageError(f"{path}: {field}: {why}", field=field)


def load_zoo(root: str | Path) -> Zoo:
    """Read and check ``root/zoo.toml`` (names against the registries, settings by type)."""
    root = Path(root)
    path = root / SPEC
    try:
        doc = tomllib.loads(path.read_text())
    except OSError as e:
        raise UsageError(f"zoo: cannot read {path} ({e.strerror})", field="zoo") from None
    except tomllib.TOMLDecodeError as e:
        raise _fail(path, "zoo", f"not valid TOML ({e})") from None
    known = {"styles", "variants", "models", "sizes", "seeds", "test_size", "train", "override", "more"}
    unknown = set(doc) - known
    if unknown:
        raise _fail(path, sorted(unknown)[0], f"unknown key; known: {', '.join(sorted(known))}")
    products = [_axes(doc, path, "")]
    more = doc.get("more", [])
    if not isinstance(more, list):
        raise _fail(path, "more", "must be an array of tables ([[more]])")
    for i, table in enumerate(more):
        where = f"more[{i}]"
        if not isinstance(table, dict):
            raise _fail(path, where, "must be a table")
        unknown = set(table) - set(AXES)
        if unknown:
            raise _fail(path, f"{where}.{sorted(unknown)[0]}", f"unknown key; known: {', '.join(AXES)}")
        products.append(_axes({**{k: doc.get(k) for k in AXES}, **table}, path, f"{where}."))
    seeds = doc.get("seeds")
    if not isinstance(seeds, list) or not seeds or not all(type(s) is int and s >= 0 for s in seeds):
        raise _fail(path, "seeds", f"must be a non-empty list of integers >= 0, got {seeds!r}")
    test_n = doc.get("test_size", 1000)
    if type(test_n) is not int or test_n < 1:
        raise _fail(path, "test_size", f"must be an integer >= 1, got {test_n!r}")
    settable = set(TRAIN_KEYS) | PLATEAU_KEYS
    base = _settings(doc.get("train", {}), settable, path, "train")
    overrides = doc.get("override", [])
    if not isinstance(overrides, list):
        raise _fail(path, "override", "must be an array of tables ([[override]])")
    rules = []
    for i, table in enumerate(overrides):
        if not isinstance(table, dict):
            raise _fail(path, f"override[{i}]", "must be a table")
        match = {k: table[k] for k in MATCH_KEYS if k in table}
        extra = {k: v for k, v in table.items() if k not in MATCH_KEYS}
        rules.append((match, _settings(extra, settable, path, f"override[{i}]")))
    entries: dict[str, Entry] = {}
    for axes in products:
        for style, variant, model, size in itertools.product(*(axes[k] for k in AXES)):
            coords = {"style": style, "variant": variant, "model": model, "size": size}
            s = {**TRAIN_KEYS, **base}
            for match, extra in rules:
                if all(coords[k] == v for k, v in match.items()):
                    s.update(extra)
            try:
                Plateau(**{k: s[k] for k in PLATEAU_KEYS if k in s})
            except UsageError as e:
                raise _fail(path, str(e.field), f"{coords}: {e}") from None
            for seed in seeds:
                entry = Entry(style, variant, model, size, seed, tuple(sorted(s.items())))
                entries.setdefault(entry.name, entry)  # an entry two products name is one entry
    return Zoo(root, tuple(entries.values()), test_n)


def _axes(doc: dict[str, Any], path: Path, where: str) -> dict[str, list[str]]:
    """One product of the spec: its styles, variants, models and sizes, checked against the registries."""
    from synthgap.generators import list_generators
    from synthgap.models import list_models

    registries = {"styles": list_generators(), "variants": VARIANTS, "models": list_models(),
                  "sizes": ("cpu", "paper")}  # fmt: skip
    axes = {}
    for key in AXES:
        values = doc.get(key)
        if not isinstance(values, list) or not values:
            raise _fail(path, where + key, "must be a non-empty list of names")
        for v in values:
            if v not in registries[key]:
                known = ", ".join(sorted(registries[key]))
                raise _fail(path, where + key, f"unknown name {v!r}; known: {known}")
        axes[key] = values
    return axes


def _settings(table: Any, settable: set[str], path: Path, where: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise _fail(path, where, "must be a table of training settings")
    for k, v in table.items():
        if k not in settable:
            raise _fail(path, f"{where}.{k}", f"unknown setting; known: {', '.join(sorted(settable))}")
        if k == "bf16" and not isinstance(v, bool):
            raise _fail(path, f"{where}.{k}", f"must be true or false, got {v!r}")
        if k != "bf16" and (isinstance(v, bool) or not isinstance(v, int | float)):
            raise _fail(path, f"{where}.{k}", f"must be a number, got {v!r}")
    return dict(table)


# -- fingerprints ----------------------------------------------------------------------------------


def fingerprint_parts(entry: Entry) -> dict[str, str]:
    """Hashes of what the entry's weights depend on: generator, model family, training settings."""
    from synthgap.generators import create_generator
    from synthgap.models import create_model

    gen = create_generator(entry.style, elastic=entry.variant == "elastic")
    c = gen.config
    latents = {k: list(v) for k, v in gen.discrete_latents().items()}
    net = create_model(entry.model, charset=c.charset, max_len=c.lengths[1], size=entry.size, latents=latents)
    model = {"name": entry.model, "version": net.version, "hparams": net.hparams()}
    training = {"settings": dict(entry.settings), "train_seed": entry.run.train_seed}
    return {k: stable_hash(v)[:16] for k, v in
            (("generator", gen.fingerprint()), ("model", model), ("training", training))}  # fmt: skip


def fingerprint(parts: dict[str, str]) -> str:
    return stable_hash(parts)[:16]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- status ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    """Where an entry stands: ``current`` (usable), ``missing``, ``stale`` or ``broken``."""

    entry: Entry
    state: str
    folder: Path
    why: str = ""
    record: dict[str, Any] | None = None

    def line(self) -> str:
        return f"{self.entry.name}: {self.state}" + (f" ({self.why})" if self.why else "")


def read_record(folder: Path) -> dict[str, Any]:
    """An entry's record, checked against its files; UsageError naming the file if anything is off."""
    path = folder / RECORD
    if not folder.is_dir():
        raise UsageError(f"zoo: {folder} is missing", field="zoo")
    record = read_format_json(path, FORMAT, "zoo")
    for name, digest in record.get("files", {}).items():
        f = folder / name
        if not f.is_file():
            raise UsageError(f"zoo: {f} is missing", field="zoo")
        if _sha256(f) != digest:
            raise UsageError(f"zoo: {f} was changed or truncated (SHA-256 differs from {path})", field="zoo")
    return record


def status(zoo: Zoo, entry: Entry) -> Status:
    folder = zoo.root / entry.name
    if not folder.exists():
        return Status(entry, "missing", folder)
    try:
        record = read_record(folder)
    except UsageError as e:
        return Status(entry, "broken", folder, str(e))
    parts = fingerprint_parts(entry)
    if record.get("fingerprint") != fingerprint(parts):
        old = record.get("fingerprint_parts", {})
        changed = [k for k in parts if old.get(k) != parts[k]] or ["fingerprint"]
        return Status(entry, "stale", folder, f"{', '.join(changed)} changed since it was trained", record)
    return Status(entry, "current", folder, "", record)


def weights_kb(folder: Path) -> float:
    """Size of an entry's weights file in KiB."""
    from synthgap.models.checkpoint import WEIGHTS

    return round((folder / WEIGHTS).stat().st_size / 1024, 1)


# -- building --------------------------------------------------------------------------------------


def rebuild_command(zoo: Zoo, entry: Entry) -> str:
    return f"synthgap zoo build {zoo.root} --only {entry.name} --retrain"


def build_entry(zoo: Zoo, entry: Entry, *, workers: int | None = None, progress: bool = True) -> dict:
    """Train ``entry`` to convergence, score it on fresh test captchas, write its folder; the record."""
    import torch

    from synthgap import __version__, versions
    from synthgap.generators import create_generator
    from synthgap.models.checkpoint import CONFIG, WEIGHTS, load_checkpoint, save_checkpoint
    from synthgap.models.evaluation import evaluate
    from synthgap.models.training import CURVE, TEST, stream_seed, train

    folder = zoo.root / entry.name
    parts = fingerprint_parts(entry)
    kwargs = entry.train_kwargs()
    staging = zoo.root / f".{entry.name}.training"
    if staging.exists():  # left by an interrupted build: an entry restarts from scratch
        shutil.rmtree(staging)
    t0 = time.time()
    try:
        ckpt = train(staging / "checkpoint", model=entry.model, size=entry.size, style=entry.style,
                     elastic=entry.variant == "elastic", seed=entry.run.train_seed, workers=workers,
                     progress=progress, desc=f"zoo {entry.name}", **kwargs)  # fmt: skip
        model = load_checkpoint(ckpt)
        meta = {k: v for k, v in model.meta.items() if k not in ("format", "model", "hparams")}
        half = staging / "half"
        save_checkpoint(model, half, meta, files={CURVE: (ckpt / CURVE).read_bytes()}, dtype=torch.float16)
        model = load_checkpoint(half)  # scored as stored: float16 weights, float32 compute
        gen = create_generator(entry.style, elastic=entry.variant == "elastic")
        test_seed = stream_seed(entry.run.train_seed, TEST)
        images, latents = gen.generate(zoo.test_n, test_seed)
        scores = evaluate(model, images, [lat.text for lat in latents], gen.case_sensitive, timing=False)
        m = model.meta
        record = {
            "format": FORMAT,
            "name": entry.name,
            **{k: getattr(entry, k) for k in ("style", "variant", "model", "size", "seed")},
            "train_seed": entry.run.train_seed,
            "settings": dict(entry.settings),
            "command": rebuild_command(zoo, entry),
            "steps": m["steps"],
            "best_step": m.get("best_step"),
            "stop": m["stop"],
            "minutes": round(m["wall_s"] / 60, 2),
            "precision": m["precision"],
            "samples_per_s": m["samples_per_s"],
            **{k: m[k] for k in CORE_USE if k in m},
            "batch_size": m["batch_size"],
            "lr": m["lr"],
            "val": m["val"],
            "test": {
                "seed": test_seed,
                "n": zoo.test_n,
                "recognition_rate": scores["recognition_rate"],
                "char_accuracy": scores["char_accuracy"],
            },  # fmt: skip
            "fingerprint": fingerprint(parts),
            "fingerprint_parts": parts,
            "generator": gen.fingerprint(),
            "synthgap_version": __version__,
            "versions": versions(),
            "built_seconds": round(time.time() - t0, 1),
        }
        record["files"] = {n: _sha256(half / n) for n in (WEIGHTS, CONFIG, CURVE)}
        (half / RECORD).write_text(json.dumps(record, indent=2) + "\n")
        old = zoo.root / f".{entry.name}.old"
        if folder.exists():
            folder.rename(old)
        half.rename(folder)
        if old.exists():
            shutil.rmtree(old)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    write_index(zoo)
    return record


def index_rows(zoo: Zoo) -> pd.DataFrame:
    """A row per built (readable) entry folder of the zoo, from its record."""
    rows = []
    for entry in zoo.entries:
        folder = zoo.root / entry.name
        if not folder.exists():
            continue
        r = read_record(folder)
        rows.append({
            **{k: r[k] for k in ("name", "style", "variant", "model", "size", "seed", "steps", "minutes",
                                 "stop", "precision", "samples_per_s", "fingerprint")},
            "clean_recognition": r["test"]["recognition_rate"],
            "clean_char_accuracy": r["test"]["char_accuracy"],
            "converged": r["test"]["recognition_rate"] >= CONVERGED,
            "test_n": r["test"]["n"],
            "test_seed": r["test"]["seed"],
            "kb": weights_kb(folder),
            "path": repo_path(folder),
        })  # fmt: skip
    return pd.DataFrame(rows, columns=INDEX_COLUMNS)


def repo_path(folder: Path) -> str:
    """``folder`` relative to the repository root for the committed layout ``<repo>/results/zoo/``,
    else absolute."""
    folder = folder.resolve()
    if folder.parent.parent.name == "results":
        return str(folder.relative_to(folder.parent.parent.parent))
    return str(folder)


def write_index(zoo: Zoo) -> pd.DataFrame:
    from synthgap.io import atomic_write_bytes

    df = index_rows(zoo)
    atomic_write_bytes(zoo.root / INDEX, df.to_csv(index=False).encode())
    return df
