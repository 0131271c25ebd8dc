"""What a gate decision costs in training: the paper's (b/32)^2, FLOPs, or the simulator's.

`cost_model` (training config):
  - paper:   every block weighs the same, option cost (b/32)^2 (Shen et al., AAAI 2020);
  - flops:   per-block MACs with the paper's (b/32)^2 bit curve, the always-full parts fixed;
  - energy / latency: per (block, option) energy or latency per input from an
    `hwsim cost-table` JSON (dfs_models reads the file; it never runs the simulator).

Every model is scaled so that the full-precision network costs 1 (keeping alpha on the paper's
scale): `block_costs[b, o] = n_blocks * C(b, o) / C_full` and `fixed = C_fixed / C_full`, where
C_full = C_fixed + sum_b C(b, full). The fraction an input costs is then
`fixed + mean_b block_costs[b, o_b]`, which the dynamic-sign rule holds at the target.
"""

from __future__ import annotations

import enum
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import torch

from dfs_models.errors import DfsError

TABLE_FORMAT = "hwsim.cost_table/1"
FULL_BITS = 32


class CostModel(enum.Enum):
    PAPER = "paper"
    FLOPS = "flops"
    ENERGY = "energy"
    LATENCY = "latency"


@dataclass(frozen=True, slots=True)
class BlockCosts:
    """Normalised costs: `matrix` (n_gated, n_options), `fixed` share, the table's sha256."""

    model: CostModel
    matrix: torch.Tensor
    fixed: float
    table_sha256: str | None = None


def paper_costs(options: tuple[int, ...], n_blocks: int) -> BlockCosts:
    row = torch.tensor([(b / FULL_BITS) ** 2 for b in options])
    return BlockCosts(CostModel.PAPER, row.expand(n_blocks, -1).clone(), 0.0)


def flop_costs(options: tuple[int, ...], block_macs: list[float],
               fixed_macs: float) -> BlockCosts:
    total = fixed_macs + sum(block_macs)
    n = len(block_macs)
    matrix = torch.tensor([[n * macs * (b / FULL_BITS) ** 2 / total for b in options]
                           for macs in block_macs])
    return BlockCosts(CostModel.FLOPS, matrix, fixed_macs / total)


def table_costs(path: Path, kind: CostModel, blocks: list[str], options: tuple[int, ...],
                input_shape: tuple[int, int, int]) -> BlockCosts:
    """Read an `hwsim cost-table` JSON and check it describes this model.

    Raises:
        DfsError: unreadable file, another format, or blocks, options or input shape that do
            not match the model (each names the file, the key and the fix).
    """
    try:
        raw = path.read_bytes()
        table = json.loads(raw)
    except (OSError, ValueError) as err:
        raise DfsError(f"{path}: cannot read the cost table ({err}); write one with "
                       "`python -m hwsim cost-table --arch A --trace T --out FILE`") from None
    if not isinstance(table, dict) or table.get("format") != TABLE_FORMAT:
        got = table.get("format") if isinstance(table, dict) else type(table).__name__
        raise DfsError(f"{path}: format: expected {TABLE_FORMAT!r} (got {got!r}); write it with "
                       "`python -m hwsim cost-table`")
    want_options = [[b, b] for b in options]
    checks = (("blocks", blocks), ("options", want_options), ("input_shape", list(input_shape)))
    for key, expected in checks:
        if table.get(key) != expected:
            raise DfsError(f"{path}: {key}: the table has {table.get(key)!r} but the model has "
                           f"{expected!r}; make the table from a trace of this model")
    field = "energy_pj" if kind is CostModel.ENERGY else "latency_cycles"
    entries = {}
    for entry in table.get("entries", []):
        try:
            value = float(entry[field])
            entries[(entry["block"], tuple(entry["option"]))] = value
        except (KeyError, TypeError, ValueError):
            raise DfsError(f"{path}: entries: every entry needs block, option and {field} "
                           f"(got {entry!r})") from None
        if not math.isfinite(value) or value < 0:
            raise DfsError(f"{path}: entries: {field} must be finite and >= 0 (got {value})")
    try:
        fixed = float(table["fixed"][field])
        matrix = [[entries[(name, (b, b))] for b in options] for name in blocks]
    except (KeyError, TypeError, ValueError) as err:
        raise DfsError(f"{path}: missing {err} in fixed/entries; regenerate the table") from None
    full = options.index(FULL_BITS)
    total = fixed + sum(row[full] for row in matrix)
    if not total > 0:
        raise DfsError(f"{path}: the full-precision network costs {total}; regenerate the table")
    n = len(blocks)
    tensor = torch.tensor([[n * v / total for v in row] for row in matrix])
    return BlockCosts(kind, tensor, fixed / total, hashlib.sha256(raw).hexdigest())
