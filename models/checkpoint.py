"""Checkpoints: a folder with ``model.safetensors`` (weights, no pickle) and ``config.json``.

config.json holds what rebuilds the network (``model`` + ``hparams``) and where it came from
(style, variant, prior overrides or real folder, seed, steps, wall time, samples seen, versions).
Loading never executes stored code; anything missing, truncated or mismatched is a UsageError
naming the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from synthgap.errors import UsageError
from synthgap.io import atomic_dir, read_format_json
from synthgap.models import MODELS, create_model
from synthgap.models.base import Recognizer

FORMAT = "synthgap-checkpoint/1"
WEIGHTS, CONFIG = "model.safetensors", "config.json"


def save_checkpoint(
    model: Recognizer,
    out: Path,
    meta: dict[str, Any],
    files: dict[str, bytes] | None = None,
    dtype: torch.dtype = torch.float32,
) -> Path:
    """Write ``out`` (a new folder) atomically; ``meta`` is merged into config.json, ``files``
    (name -> bytes) are written beside it. ``dtype`` stores floating weights smaller (float16 for
    the zoo); loading casts them back to the model's float32."""
    config = {
        "format": FORMAT,
        "model": model.name,
        "hparams": model.hparams(),
        "size": model.size,
        "charset": model.charset,
        "max_len": model.max_len,
        "input_hw": list(model.input_hw),
        "discrete_latents": model.latents,
        **meta,
    }
    state = {
        k: (v.to(dtype) if v.is_floating_point() else v).detach().cpu().contiguous()
        for k, v in model.state_dict().items()
    }
    with atomic_dir(Path(out)) as tmp:
        save_file(state, str(tmp / WEIGHTS))
        (tmp / CONFIG).write_text(json.dumps(config, indent=2) + "\n")
        for name, data in (files or {}).items():
            (tmp / name).write_bytes(data)
    return Path(out)


def read_config(path: Path) -> dict[str, Any]:
    """The checkpoint's config.json, checked for the keys ``load_checkpoint`` needs."""
    path = Path(path)
    cfg_path = path / CONFIG
    if not path.is_dir():
        raise UsageError(f"checkpoint: {path} is not a checkpoint folder", field="checkpoint")
    config = read_format_json(cfg_path, FORMAT, "checkpoint")
    for key in ("model", "hparams"):
        if key not in config:
            raise UsageError(f"checkpoint: {cfg_path} lacks {key!r}", field="checkpoint")
    if config["model"] not in MODELS:
        raise UsageError(
            f"checkpoint: {cfg_path} names an unknown model {config['model']!r}", field="checkpoint"
        )
    return config


def build_from_config(path: Path, config: dict[str, Any]) -> Recognizer:
    """The untrained network ``config`` describes, with ``meta`` and the text prior it decodes under."""
    try:
        model = create_model(config["model"], **config["hparams"])
    except (TypeError, ValueError) as e:
        raise UsageError(f"checkpoint: {path / CONFIG} has bad hparams ({e})", field="checkpoint") from None
    model.meta = config
    if config.get("prior") and hasattr(model, "prior"):  # decode under the style's text prior
        from synthgap.models.lexicon import from_prior

        model.prior = from_prior(config["prior"], model.charset)
    return model.eval()


def load_checkpoint(path: Path, device: str | torch.device | None = None) -> Recognizer:
    """Rebuild the model and load its weights; ``model.meta`` is the config. Eval mode."""
    path = Path(path)
    model = build_from_config(path, read_config(path))
    weights = path / WEIGHTS
    try:
        state = load_file(str(weights))
    except FileNotFoundError:
        raise UsageError(f"checkpoint: {weights} is missing", field="checkpoint") from None
    except (SafetensorError, OSError, ValueError) as e:
        raise UsageError(f"checkpoint: {weights} is corrupt or truncated ({e})", field="checkpoint") from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0]
        raise UsageError(
            f"checkpoint: {weights} does not match its config ({first})", field="checkpoint"
        ) from None
    return model.to(device) if device is not None else model
