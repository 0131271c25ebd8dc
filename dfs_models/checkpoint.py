"""Checkpoints: atomic saves, clear errors on bad files, and model rebuilding.

Two kinds per run: `model.pt` (the shippable result: model spec + state_dict + a few facts,
~5 MB for ResNet74) and `last.pt` (the full training state for `--resume`: model, optimizer,
scheduler, RNG states, step; not shipped).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tempfile
from pathlib import Path

import torch

from dfs_models.errors import CheckpointError
from dfs_models.resnet import DfsResNet, ModelSpec, build_model

MODEL_FORMAT = "dfs_models.model/1"
STATE_FORMAT = "dfs_models.train_state/1"
# Keys a gated model has that a full-precision (base) checkpoint lacks.
_GATE_KEY_PARTS = ("gate_proj.", "controller.", "act_quant.")


def save_atomic(obj: object, path: Path) -> None:
    """torch.save to a temporary file in the same folder, then rename over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(obj, handle)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual file mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_file(path: Path, expected_format: str) -> dict:
    """Load a checkpoint dict written by this package, or raise CheckpointError."""
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for a corrupt file
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(err).__name__}); "
                              "pass a model.pt or last.pt written by `python -m dfs_models "
                              "train`") from err
    if not isinstance(data, dict) or data.get("format") != expected_format:
        got = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise CheckpointError(f"{path}: expected a {expected_format} checkpoint (got {got!r})")
    return data


def spec_to_dict(spec: ModelSpec) -> dict[str, object]:
    return {**dataclasses.asdict(spec), "options": list(spec.options)}


def spec_from_dict(data: dict, where: str) -> ModelSpec:
    try:
        return ModelSpec(**{**data, "options": tuple(data["options"])})
    except (TypeError, KeyError) as err:
        raise CheckpointError(f"{where}: bad model spec ({err})") from err


def save_model(model: DfsResNet, path: Path, facts: dict[str, object]) -> None:
    """Write the shippable `model.pt`: spec, state_dict and `facts` (cp, accuracy...)."""
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    save_atomic({"format": MODEL_FORMAT, "spec": spec_to_dict(model.spec), "state": state,
                 "facts": facts}, path)


def load_model(path: Path) -> tuple[DfsResNet, dict[str, object]]:
    """Rebuild the model stored in a `model.pt` (or the model inside a `last.pt`)."""
    try:
        data = load_file(path, MODEL_FORMAT)
    except CheckpointError:
        data = load_file(path, STATE_FORMAT)
    model = build_model(spec_from_dict(data["spec"], str(path)))
    try:
        model.load_state_dict(data.get("state") or data["model"])
    except (RuntimeError, KeyError) as err:
        raise CheckpointError(f"{path}: weights do not fit {model.spec.arch} ({err})") from err
    return model, dict(data.get("facts", {}))


def load_backbone(model: DfsResNet, path: Path) -> None:
    """Initialise `model` from another stage's checkpoint (`--init-from`).

    A full-precision checkpoint may lack the gate and activation-range entries; anything else
    missing or unexpected is an error.
    """
    try:
        data = load_file(path, MODEL_FORMAT)
        state = data["state"]
    except CheckpointError:
        state = load_file(path, STATE_FORMAT)["model"]
    state = _broadcast_option_statistics(model, state)
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as err:
        raise CheckpointError(f"{path}: weights do not fit {model.spec.arch} ({err})") from err
    missing = [k for k in result.missing_keys if not any(p in k for p in _GATE_KEY_PARTS)]
    if missing or result.unexpected_keys:
        raise CheckpointError(f"{path}: does not fit {model.spec.arch}: missing {missing[:3]}, "
                              f"unexpected {result.unexpected_keys[:3]}")


def _broadcast_option_statistics(model: DfsResNet, state: dict) -> dict:
    """A full-precision BN's (C,) statistics copied to every option slot (slots, C) of `model`."""
    own = model.state_dict()
    out = dict(state)
    for key, value in state.items():
        target = own.get(key)
        if (target is not None and target.dim() == value.dim() + 1
                and tuple(target.shape[1:]) == tuple(value.shape)):
            out[key] = value.unsqueeze(0).expand_as(target).clone()
    return out


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
