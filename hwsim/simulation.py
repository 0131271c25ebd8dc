"""A whole workload: per-input decisions in, per-layer and per-input costs out.

Semantics (see docs/trace-format.md):
  - batch 1 (default) is dynamic inference: each input runs alone at its own precisions;
  - `batch` N groups consecutive inputs; per layer, each distinct precision in the group runs as
    one sub-batch (weights fetched once per sub-batch), sub-batches one after another, and every
    input of the group finishes with the group: its latency is the group's, its energy an equal
    share;
  - a skipped block costs nothing but what still runs: its gate and its downsampling shortcut.
Work grows with distinct (layer geometry, act_bits, wgt_bits, sub-batch) combinations, not inputs:
per layer, the costs of the few distinct sub-batches are looked up and scattered with numpy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from hwsim.arch import ArchConfig
from hwsim.energy import COMPONENTS
from hwsim.errors import MappingError
from hwsim.layer import Layer, LayerKind, Network, Precision
from hwsim.layer_sim import LayerPerf, simulate_layer
from hwsim.timing import TimingKind

METRICS = ("compute_cycles", "stall_cycles", "dram_bits", "macs", "busy_bricks",
           "busy_fus") + COMPONENTS


@dataclass(frozen=True, slots=True)
class Decisions:
    """Per-input operand widths of every gated block: arrays of shape (inputs, blocks)."""

    act_bits: np.ndarray
    wgt_bits: np.ndarray

    @property
    def count(self) -> int:
        return self.act_bits.shape[0]

    @staticmethod
    def static(count: int) -> Decisions:
        empty = np.zeros((count, 0), dtype=np.int16)
        return Decisions(empty, empty)


@dataclass(frozen=True, slots=True)
class LayerSummary:
    """One layer, summed over inputs (divide by the input count for per-input means)."""

    layer: Layer
    block_name: str | None
    precision_counts: tuple[tuple[Precision, int], ...]  # inputs per precision (0/0 = skipped)
    totals: dict[str, float]  # METRICS summed over inputs (energy in pJ)
    rounded: tuple[tuple[Precision, Precision], ...]  # (requested, native) where they differ


@dataclass(frozen=True, slots=True)
class SimulationResult:
    network: Network
    arch: ArchConfig
    batch: int
    timing: TimingKind
    layers: tuple[LayerSummary, ...]
    per_input: dict[str, np.ndarray]  # METRICS per input; latency_cycles = group latency

    @property
    def input_count(self) -> int:
        return int(self.per_input["latency_cycles"].shape[0])

    def energy_pj(self) -> np.ndarray:
        return sum(self.per_input[c] for c in COMPONENTS)


def _layer_codes(layer: Layer, decisions: Decisions) -> tuple[list[Precision], np.ndarray]:
    """Distinct precisions of a layer over inputs and each input's index into them."""
    n = decisions.count
    if layer.fixed is not None:
        return [layer.fixed], np.zeros(n, dtype=np.int64)
    pairs = (decisions.act_bits[:, layer.block].astype(np.int64) << 16) | decisions.wgt_bits[
        :, layer.block].astype(np.int64)
    unique, codes = np.unique(pairs, return_inverse=True)
    precisions = [Precision(int(p >> 16), int(p & 0xFFFF)) for p in unique]
    return precisions, codes.reshape(-1)


def _perf_vector(perf: LayerPerf, arch: ArchConfig) -> np.ndarray:
    bricks_total = arch.fu_count * arch.pe.bricks_per_unit
    total = perf.total_cycles
    energy = perf.energy
    return np.array([perf.compute_cycles, perf.stall_cycles, perf.dram_bits, perf.macs,
                     perf.brick_utilization * bricks_total * total,
                     perf.fu_utilization * arch.fu_count * total,
                     *(getattr(energy, c) for c in COMPONENTS)], dtype=np.float64)


def _simulate_layer_groups(layer: Layer, precisions: list[Precision], codes: np.ndarray,
                           groups: np.ndarray, group_count: int, arch: ArchConfig,
                           timing: TimingKind) -> tuple[np.ndarray, list[tuple]]:
    """Cost of one layer per group: (groups, METRICS), plus any rounded widths."""
    m = len(precisions)
    counts = np.bincount(groups * m + codes, minlength=group_count * m).reshape(group_count, m)
    cost = np.zeros((group_count, len(METRICS)))
    rounded = []
    for j, precision in enumerate(precisions):
        if precision.skipped:
            continue
        sizes, where = np.unique(counts[:, j], return_inverse=True)
        table = np.zeros((len(sizes), len(METRICS)))
        for s, size in enumerate(sizes):
            if size:
                try:
                    perf = simulate_layer(layer, precision, int(size), arch, timing)
                except MappingError as err:
                    raise MappingError(f"layer {layer.name}: {err}") from None
                table[s] = _perf_vector(perf, arch)
                if perf.rounded:
                    rounded.append((precision, perf.native))
        cost += table[where.reshape(-1)]
    return cost, sorted(set(rounded))


def simulate_network(network: Network, decisions: Decisions, arch: ArchConfig, batch: int = 1,
                     timing: TimingKind = TimingKind.ANALYTIC,
                     progress: Iterable | None = None) -> SimulationResult:
    """Simulate every input of a workload; see the module docstring for the semantics."""
    if batch < 1:
        raise MappingError(f"batch must be >= 1 (got {batch})")
    n = decisions.count
    groups = np.arange(n) // batch
    group_count = int(groups[-1]) + 1 if n else 0
    group_sizes = np.bincount(groups, minlength=group_count).astype(np.float64)
    per_group = np.zeros((group_count, len(METRICS)))
    summaries = []
    layers = progress if progress is not None else network.layers
    for layer in layers:
        precisions, codes = _layer_codes(layer, decisions)
        cost, rounded = _simulate_layer_groups(layer, precisions, codes, groups, group_count,
                                               arch, timing)
        per_group += cost
        counts = np.bincount(codes, minlength=len(precisions))
        summaries.append(LayerSummary(
            layer, network.blocks[layer.block] if layer.block is not None else None,
            tuple((p, int(c)) for p, c in zip(precisions, counts, strict=True) if c),
            dict(zip(METRICS, cost.sum(axis=0).tolist(), strict=True)), tuple(rounded)))
    share = per_group / group_sizes[:, None]
    per_input = {name: share[groups, i] for i, name in enumerate(METRICS)}
    latency = per_group[:, 0] + per_group[:, 1]
    per_input["latency_cycles"] = latency[groups]
    return SimulationResult(network, arch, batch, timing, tuple(summaries), per_input)


def static_variant(network: Network, precision: Precision, name: str) -> Network:
    """The same network with nothing skipped, no gates, every layer fixed at `precision`."""
    layers = tuple(dataclasses.replace(layer, fixed=precision, block=None)
                   for layer in network.layers if layer.kind is not LayerKind.GATE)
    return Network(name, layers)
