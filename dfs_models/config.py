"""Training configuration: one frozen dataclass, loaded from YAML and/or command-line flags.

YAML files start with `schema_version: 1` and `name:`; unknown keys are rejected with a "did you
mean" hint and every problem is reported at once as `file: key: what is wrong (got X)`.
Defaults live only in `TrainConfig`. Paper values (Shen et al., AAAI 2020): SGD momentum 0.9,
weight decay 1e-4, batch 128, lr 0.1 (base) / 0.01 (joint), |alpha| 5e-6.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import types
import typing
from dataclasses import dataclass
from pathlib import Path

import yaml

from dfs_models.costs import CostModel
from dfs_models.data import DatasetKind
from dfs_models.errors import TrainConfigError

SCHEMA_VERSION = 1


class LrSchedule(enum.Enum):
    STEP = "step"          # lr *= lr_gamma at each of `milestones` (the paper's schedule)
    ONECYCLE = "onecycle"  # linear warm-up over `warmup` of the steps, then cosine to 0


class Precision(enum.Enum):
    FP32 = "fp32"
    BF16 = "bf16"  # autocast; merges the 16- and 32-bit options, so only for the base stage


class Stage(enum.Enum):
    BASE = "base"            # full precision, no gates
    GATE_INIT = "gate_init"  # backbone frozen (BN statistics update), gates pushed to 32 bits
    JOINT = "joint"          # all parameters, target cp, dynamic-sign alpha


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """Every hyper-parameter of one training stage.

    Attributes:
        lr_schedule: `step` (lr *= lr_gamma at each of `milestones`, fractions of `steps`) or
            `onecycle` (linear warm-up from lr/warm_steps to `lr` over the first `warmup`
            fraction of the steps, then a cosine to 0; Smith & Topin 2019, Loshchilov &
            Hutter 2017).
        nesterov: Nesterov momentum (Sutskever et al. 2013).
        gate_lr_scale: the gates' lr (per-block 1x1 projections, LSTM, head) is `lr` times
            this. A short schedule needs the gates to move ~100x faster than the paper's 64k
            iterations allow; scaling their lr keeps alpha, and so the cost pressure on the
            backbone, in the paper's range (1e-6..1e-4) instead of raising alpha.
        zero_init_residual: when training from scratch, the last BN scale of every block
            starts at 0 so each block starts as its shortcut (Goyal et al. 2017).
        precision: `fp32`, or `bf16` autocast for the base stage only (a bf16 matmul has an
            8-bit mantissa, so it would make the 16- and 32-bit options indistinguishable).
        channels_last: NHWC memory format (faster convolutions on this CPU).
        cost_model: what a decision costs in the alpha term and in the cp the dynamic sign
            holds (`dfs_models.costs`): paper ((b/32)^2 per block), flops (per-block MACs),
            energy or latency (from `cost_table`, an `hwsim cost-table` JSON).
        alpha: |alpha| of the cp loss term alpha * sum(mask * cost) (sum over gated blocks and
            samples); its sign is + when the batch cp is above `target_cp`, else -.
        gate_init_weight: weight of the gate_init term, a hinge on each gate's cross entropy
            against the full-precision option: relu(log(gate_init_prob) - log p_full). It stops
            pushing once p_full >= gate_init_prob, so the softmax is not saturated when the
            joint stage starts (a saturated gate barely moves on a short schedule).
        eval_every: steps between evaluations on `eval_subset` test inputs (0: only at the
            end, always on the whole test split).
        train_subset / test_subset: use only the first n inputs (0 = all); for tests.
    """

    name: str = "run"
    stage: Stage = Stage.BASE
    arch: str = "resnet74"
    options: tuple[int, ...] = (0, 8, 16, 32)
    dataset: DatasetKind = DatasetKind.FASHION_MNIST
    data_dir: str | None = None
    run_dir: str = "runs/default"
    init_from: str | None = None
    steps: int = 1000
    batch_size: int = 128
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-4
    milestones: tuple[float, ...] = (0.5, 0.75)
    lr_gamma: float = 0.1
    lr_schedule: LrSchedule = LrSchedule.STEP
    warmup: float = 0.0
    nesterov: bool = False
    gate_lr_scale: float = 1.0
    zero_init_residual: bool = False
    precision: Precision = Precision.FP32
    channels_last: bool = False
    cost_model: CostModel = CostModel.PAPER
    cost_table: str | None = None
    target_cp: float = 0.2
    alpha: float = 5e-6
    gate_init_weight: float = 1.0
    gate_init_prob: float = 0.9
    crop_padding: int = 4
    seed: int = 0
    threads: int = 0
    checkpoint_every: int = 100
    eval_every: int = 0
    eval_subset: int = 2000
    eval_batch_size: int = 500
    train_subset: int = 0
    test_subset: int = 0
    device: str = "auto"

    @property
    def gated(self) -> bool:
        return self.stage is not Stage.BASE

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"schema_version": SCHEMA_VERSION}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.value if isinstance(value, enum.Enum) else (
                list(value) if isinstance(value, tuple) else value)
        return out


_FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}
_HINTS = typing.get_type_hints(TrainConfig)


def _convert(hint: object, value: object) -> object:
    """Convert a YAML/flag value to the field type; raises ValueError/TypeError."""
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        if value is None or value == "none":
            return None
        return _convert(next(a for a in typing.get_args(hint) if a is not type(None)), value)
    if origin is tuple:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise TypeError("expected a list")
        return tuple(_convert(typing.get_args(hint)[0], v) for v in items if v != "")
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise TypeError("expected true or false")
    if isinstance(value, bool):
        raise TypeError("booleans are not accepted here")
    if hint is int and isinstance(value, float):
        raise TypeError("expected an integer")
    return hint(value)


def _check_ranges(cfg: TrainConfig) -> list[str]:
    problems = []
    positive = ("steps", "batch_size", "eval_batch_size", "checkpoint_every")
    problems += [f"{k}: must be > 0 (got {getattr(cfg, k)})" for k in positive
                 if getattr(cfg, k) <= 0]
    if not 0.0 < cfg.gate_init_prob < 1.0:
        problems.append(f"gate_init_prob: must be in (0, 1) (got {cfg.gate_init_prob})")
    if not 0.0 <= cfg.target_cp <= 1.0:
        problems.append(f"target_cp: must be in [0, 1] (got {cfg.target_cp})")
    table_models = (CostModel.ENERGY, CostModel.LATENCY)
    if cfg.cost_model in table_models and not cfg.cost_table:
        problems.append(f"cost_table: required with cost_model {cfg.cost_model.value} (write "
                        "one with `python -m hwsim cost-table --arch A --trace T --out FILE`)")
    if cfg.cost_table and cfg.cost_model not in table_models:
        problems.append(f"cost_table: only read with cost_model energy or latency (got "
                        f"cost_model {cfg.cost_model.value}); remove it or change the model")
    if not cfg.gate_lr_scale > 0.0:
        problems.append(f"gate_lr_scale: must be > 0 (got {cfg.gate_lr_scale})")
    if not 0.0 <= cfg.warmup < 1.0:
        problems.append(f"warmup: a fraction of the steps in [0, 1) (got {cfg.warmup})")
    if cfg.precision is Precision.BF16 and cfg.stage is not Stage.BASE:
        problems.append("precision: bf16 is only for the base stage (it merges the 16- and "
                        "32-bit options); use fp32")
    if any(not 0.0 < m < 1.0 for m in cfg.milestones):
        problems.append(f"milestones: fractions in (0, 1) (got {list(cfg.milestones)})")
    bad_bits = [b for b in cfg.options if b not in (0, 2, 4, 8, 16, 32)]
    if bad_bits or len(set(cfg.options)) != len(cfg.options) or 32 not in cfg.options:
        problems.append(f"options: distinct bits from 0/2/4/8/16/32 including 32 "
                        f"(got {list(cfg.options)})")
    return problems


def config_from_dict(data: dict[str, object], where: str = "<config>") -> TrainConfig:
    """Validate `data` and build a config; every problem is listed in one error."""
    problems, values = [], {}
    for key, value in data.items():
        if key == "schema_version":
            if value != SCHEMA_VERSION:
                problems.append(f"schema_version: must be {SCHEMA_VERSION} (got {value!r})")
            continue
        if key not in _FIELDS:
            hint = difflib.get_close_matches(key, _FIELDS, n=1)
            tip = f"; did you mean {hint[0]!r}?" if hint else ""
            problems.append(f"{key}: unknown key{tip} (got {value!r})")
            continue
        try:
            values[key] = _convert(_HINTS[key], value)
        except (ValueError, TypeError, StopIteration) as err:
            problems.append(f"{key}: not a valid {_FIELDS[key].type} ({err}) (got {value!r})")
    cfg = TrainConfig(**values) if not problems else None
    if cfg is not None:
        problems += _check_ranges(cfg)
    if problems:
        raise TrainConfigError("\n".join(f"{where}: {p}" for p in problems))
    return cfg


def load_config(path: Path, overrides: dict[str, object] | None = None) -> TrainConfig:
    """Read a YAML config, apply flag `overrides` (already strings or values), validate."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise TrainConfigError(f"{path}: cannot read YAML ({err})") from err
    if not isinstance(data, dict):
        raise TrainConfigError(f"{path}: top level must be a mapping (got {type(data).__name__})")
    missing = [k for k in ("schema_version", "name") if k not in data]
    if missing:
        raise TrainConfigError("\n".join(f"{path}: {k}: required key missing" for k in missing))
    return config_from_dict({**data, **(overrides or {})}, where=str(path))


def field_names() -> list[str]:
    """Config keys, in declaration order (the CLI makes one flag per key)."""
    return list(_FIELDS)
