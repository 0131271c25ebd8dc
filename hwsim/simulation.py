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

from hwsim.cost.energy import COMPONENTS
from hwsim.cost.layer_cost import LayerPerf, simulate_layer
from hwsim.cost.timing import TimingKind
from hwsim.errors import MappingError
from hwsim.hardware.arch import ArchConfig
from hwsim.mapping.tiling import ActivationIO
from hwsim.workload.activations import activation_flow
from hwsim.workload.layer import FULL, Layer, LayerKind, Network, Precision

PAIR_RADIX = 64  # act and wgt bits are below this (traces hold at most 32)
METRICS = ("compute_cycles", "stall_cycles", "dram_bits", "macs", "busy_bricks",
           "busy_fus") + COMPONENTS + ("onchip_bits", "compulsory_bits")


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


def _source_codes(layers_fixed: Precision | None, block: int | None,
                  decisions: Decisions) -> tuple[list[Precision], np.ndarray]:
    """Distinct precisions of one decision source over inputs, and each input's index."""
    n = decisions.count
    if layers_fixed is not None:
        return [layers_fixed], np.zeros(n, dtype=np.int64)
    width = PAIR_RADIX
    pairs = decisions.act_bits[:, block].astype(np.int64) * width + decisions.wgt_bits[:, block]
    present = np.flatnonzero(np.bincount(pairs, minlength=width * width))  # O(n), no sort
    index = np.zeros(width * width, dtype=np.int64)
    index[present] = np.arange(len(present))
    return [Precision(int(p // width), int(p % width)) for p in present], index[pairs]


def _perf_vector(perf: LayerPerf, arch: ArchConfig) -> np.ndarray:
    bricks_total = arch.fu_count * arch.pe.bricks_per_unit
    total = perf.total_cycles
    energy = perf.energy
    return np.array([perf.compute_cycles, perf.stall_cycles, perf.dram_bits, perf.macs,
                     perf.brick_utilization * bricks_total * total,
                     perf.fu_utilization * arch.fu_count * total,
                     *(getattr(energy, c) for c in COMPONENTS), perf.onchip_bits, 0.0],
                    dtype=np.float64)


def compulsory_bits(layer: Layer, precision: Precision, size: int, io: ActivationIO,
                    psum_bits: int) -> int:
    """What a per-layer schedule must move: the weights once, every input and every output of
    the sub-batch once, each at its width (outputs at the width they are written)."""
    out_bits = io.final_output_bits or psum_bits
    in_elems = layer.in_channels * layer.input_height * layer.input_width
    out_elems = layer.out_channels * layer.output_height * layer.output_width
    return (layer.weight_count * precision.wgt_bits
            + size * (in_elems * precision.act_bits + out_elems * out_bits))


class _Residency:
    """Which activations stay on chip (`mapping.keep_activations_on_chip`, static allocation
    in the input buffer: see `hwsim.workload.activations`) and the width outputs are written at.
    """

    def __init__(self, network: Network, arch: ArchConfig) -> None:
        self.flows = activation_flow(network)
        self.layers = network.layers
        self.mapping = arch.mapping
        self.capacity_bits = arch.buffers.input.size_bytes * 8
        self.widest = max((p.act_bits for p in network.options), default=FULL.act_bits)
        self._memo: dict[tuple[int, int], bool] = {}

    def _alloc_bits(self, j: int | None, first: Layer) -> int:
        """Width the output of layer j is allocated at (j None: the network input)."""
        if self.mapping.activation_bits:
            return self.mapping.activation_bits
        if j is None:
            return (first.fixed or FULL).act_bits
        return self.flows[j].storage_bits or self.widest

    def resident(self, j: int, size: int) -> bool:
        """Layer j's output tensor stays on chip for sub-batches of `size` inputs."""
        key = (j, size)
        if key not in self._memo:
            f = self.flows[j]
            need = (f.in_elems * self._alloc_bits(f.producer, self.layers[j])
                    + f.out_elems * self._alloc_bits(j, self.layers[j])
                    + f.live_elems * self._alloc_bits(f.live_of, self.layers[j]))
            self._memo[key] = f.tiny or size * need <= self.capacity_bits
        return self._memo[key]

    def io(self, i: int, precision: Precision, size: int) -> ActivationIO:
        f, m = self.flows[i], self.mapping
        final_bits = None
        if m.requantize_outputs:
            final_bits = m.activation_bits or f.storage_bits or precision.act_bits
        if not m.keep_activations_on_chip:
            return ActivationIO(False, False, final_bits)
        source = f.producer
        input_on_chip = f.tiny or (source is not None
                                   and self.resident(self.flows[source].output_of, size))
        return ActivationIO(input_on_chip, self.resident(f.output_of, size), final_bits)


@dataclass(frozen=True, slots=True)
class _Patterns:
    """Distinct sub-batch compositions of one decision source over groups of inputs."""

    precisions: list[Precision]
    counts: np.ndarray  # (patterns, precisions): inputs per precision in the group
    group_pattern: np.ndarray  # (groups,): each group's pattern
    weight: np.ndarray  # (patterns,): groups having the pattern
    input_counts: np.ndarray  # (precisions,): inputs per precision over the whole workload


def _patterns(precisions: list[Precision], codes: np.ndarray, groups: np.ndarray,
              group_count: int) -> _Patterns:
    m = len(precisions)
    counts = np.bincount(groups * m + codes, minlength=group_count * m).reshape(group_count, m)
    radix = int(counts.max(initial=0)) + 1  # a group's counts as one integer, base `radix`
    if m * np.log2(radix) < 62:
        keys = counts @ (radix ** np.arange(m, dtype=np.int64))
        unique_keys, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    else:  # huge batches with many precisions: slower row-wise unique
        unique_keys, first, inverse = np.unique(counts, axis=0, return_index=True,
                                                return_inverse=True)
    inverse = inverse.reshape(-1)
    return _Patterns(precisions, counts[first], inverse,
                     np.bincount(inverse, minlength=len(unique_keys)),
                     np.bincount(codes, minlength=m))


def _layer_pattern_cost(index: int, layer: Layer, patterns: _Patterns, arch: ArchConfig,
                        timing: TimingKind, residency: _Residency
                        ) -> tuple[np.ndarray, list[tuple]]:
    """Cost of one layer for each pattern: (patterns, METRICS), plus any rounded widths."""
    cost = np.zeros((len(patterns.counts), len(METRICS)))
    rounded = []
    for j, precision in enumerate(patterns.precisions):
        if precision.skipped:
            continue
        for u, size in enumerate(patterns.counts[:, j]):
            if not size:
                continue
            try:
                io = residency.io(index, precision, int(size))
                perf = simulate_layer(layer, precision, int(size), arch, timing, io)
            except MappingError as err:
                raise MappingError(f"layer {layer.name}: {err}") from None
            cost[u] += _perf_vector(perf, arch)
            cost[u, -1] += compulsory_bits(layer, precision, int(size), io,
                                           arch.mapping.psum_bits)
            if perf.rounded:
                rounded.append((precision, perf.native))
    return cost, sorted(set(rounded))


def _source_key(layer: Layer) -> tuple:
    return ("fixed", layer.fixed) if layer.fixed is not None else ("block", layer.block)


def simulate_network(network: Network, decisions: Decisions, arch: ArchConfig, batch: int = 1,
                     timing: TimingKind = TimingKind.ANALYTIC,
                     progress: Iterable | None = None) -> SimulationResult:
    """Simulate every input of a workload; see the module docstring for the semantics.

    Layers that take their precision from the same place (one fixed width, or one gated block)
    share one set of group patterns, so the per-input work is one gather per such source.
    """
    if batch < 1:
        raise MappingError(f"batch must be >= 1 (got {batch})")
    if decisions.count == 0:
        raise MappingError("no inputs to simulate (the workload has none)")
    n = decisions.count
    groups = np.arange(n) // batch
    group_count = int(groups[-1]) + 1 if n else 0
    sources: dict[tuple, tuple[_Patterns, np.ndarray]] = {}
    summaries = []
    residency = _Residency(network, arch)
    for index, layer in enumerate(progress if progress is not None else network.layers):
        key = _source_key(layer)
        if key not in sources:
            codes = _source_codes(layer.fixed, layer.block, decisions)
            patterns = _patterns(*codes, groups, group_count)
            sources[key] = (patterns, np.zeros((len(patterns.counts), len(METRICS))))
        patterns, table = sources[key]
        cost, rounded = _layer_pattern_cost(index, layer, patterns, arch, timing, residency)
        table += cost
        summaries.append(LayerSummary(
            layer, network.blocks[layer.block] if layer.block is not None else None,
            tuple((p, int(c)) for p, c in zip(patterns.precisions, patterns.input_counts,
                                              strict=True) if c),
            dict(zip(METRICS, (patterns.weight @ cost).tolist(), strict=True)), tuple(rounded)))
    per_group = np.zeros((group_count, len(METRICS)))
    for patterns, table in sources.values():
        per_group += table[patterns.group_pattern]
    group_sizes = np.bincount(groups, minlength=group_count).astype(np.float64)
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
