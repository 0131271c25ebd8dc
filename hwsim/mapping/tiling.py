"""Tiling and loop-order search under half-buffer capacities (closed form, vectorized).

Loop letters as in hwsim.mapping.loopnest (n batch, k output channels, c input channels, pq tile
side,
r kernel). Following the Bit Fusion simulator (Sharma et al., ISCA 2018): every order of the four
tiled loops, power-of-two tile sizes (plus the full extent), the kernel never tiled, and each tile
within HALF its SRAM when the buffer is double buffered. Channel tiles are multiples of the array
granule whenever they fit, so compute time equals the Bit Fusion formula; smaller channel tiles
(wide operands in small buffers) are allowed and pay for the idle rows or columns.

A tensor's tile is reloaded whenever a loop it depends on advances; loops it does not depend on
re-stream it only when they sit outside its innermost advancing relevant loop. This gives exact
DRAM element counts, checked against `walk_tiles` by brute force in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hwsim.hardware.arch import MappingObjective
from hwsim.mapping.loopnest import (
    ALL_ORDERS,
    LOOP_DIMS,
    RELEVANT,
    LoopNest,
    Tiling,
    candidate_sizes,
    ceil_div,
)


@dataclass(frozen=True, slots=True)
class OperandBits:
    """Bits per element moved through memory for each tensor."""

    act: int
    wgt: int
    psum: int


@dataclass(frozen=True, slots=True)
class Traffic:
    """DRAM traffic of one mapping, in bits actually moved."""

    input_read_bits: int
    weight_read_bits: int
    output_read_bits: int
    output_write_bits: int
    first_load_bits: int  # what must arrive before the first tile can start
    last_store_bits: int  # what is still to write after the last tile finishes
    tile_count: int
    compute_cycles: int  # array cycles summed over the tiles of this mapping
    spill_write_bits: int = 0  # partial sums written out between input-channel tiles
    resident_output_bits: int = 0  # final outputs written into the on-chip activation buffer
    onchip_bits: int = 0  # DRAM traffic avoided: the resident input's sweeps + resident output

    @property
    def dram_bits(self) -> int:
        return (self.input_read_bits + self.weight_read_bits + self.output_read_bits
                + self.output_write_bits)


@dataclass(frozen=True, slots=True)
class ActivationIO:
    """Where a layer's input comes from and its output goes (`mapping.keep_activations_on_chip`).

    Attributes:
        input_on_chip: the input tensor is resident in the activation (input) buffer: no DRAM
            reads, no input-buffer capacity limit on the tiles (they are slices of it).
        output_on_chip: the final outputs are requantized into the activation buffer, not
            written to DRAM (partial-sum spills still go to DRAM).
        final_output_bits: width of the final outputs written (to DRAM or on chip); None writes
            them as partial sums (psum bits), as the authors' simulator does.
    """

    input_on_chip: bool = False
    output_on_chip: bool = False
    final_output_bits: int | None = None


OFF_CHIP = ActivationIO()


@dataclass(frozen=True, slots=True)
class ArrayFolding:
    """How the array consumes the reduction and output-channel loops per cycle."""

    c_per_fold: int  # input channels per array pass: rows x fused products per FU
    k_per_fold: int  # output channels per array pass: columns
    temporal_passes: int  # FU-cycles per product group (temporal fusion)


@dataclass(frozen=True, slots=True)
class EnergyWeights:
    """What the search needs to rank mappings by energy (pJ); built by `hwsim.cost` from the arch.

    Attributes:
        input_bit / weight_bit: a bit fetched from DRAM and written into its buffer.
        output_write_bit: an output (or partial-sum) bit read from the output buffer and
            written to DRAM; output_read_bit: one read back from DRAM into the buffer.
        psum_bit: a partial-sum bit kept on chip between input-channel tiles (one output
            buffer read and one write).
        compute_cycle: one array compute cycle; cycle: one cycle of the layer (leakage).
        fixed: what every mapping of the layer spends (operand reads feeding the array).
    """

    input_bit: float
    weight_bit: float
    output_write_bit: float
    output_read_bit: float
    psum_bit: float
    compute_cycle: float
    cycle: float
    fixed: float = 0.0


# Ranks mappings by DRAM bits alone (the tie-break before energy weights existed).
DRAM_BITS_ONLY = EnergyWeights(1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True, slots=True)
class Conventions:
    """Conventions of the Bit Fusion authors' simulator, for reproducing it (all off: physical).

    Attributes:
        pow2_edge_tiles: a dimension its tile does not divide is padded up to a whole number of
            tiles, in compute and in traffic (a 13x13 output tiled by 8 runs as 16x16; 96
            output channels tiled by 64 run as 128).
        fetch_padding_halo: every input tile is fetched at its full (side - 1) * stride + R
            rows and columns, the zero padding at the borders included.
    """

    pow2_edge_tiles: bool = False
    fetch_padding_halo: bool = False


PHYSICAL = Conventions()


@dataclass(frozen=True, slots=True)
class Capacities:
    input_bits: int
    weight_bits: int
    output_bits: int


def _span_sum(outputs: int, side: int, nest: LoopNest, size: int) -> int:
    """Input rows (or columns) touched, summed over the output tiles of one axis (vectorized)."""
    starts = np.arange(0, outputs, side)
    counts = np.minimum(side, outputs - starts)
    first = np.maximum(starts * nest.stride - nest.padding, 0)
    last = np.minimum((starts + counts - 1) * nest.stride - nest.padding + nest.r - 1, size - 1)
    return int(np.maximum(0, last - first + 1).sum())


def _input_sweep_elems(nest: LoopNest, side: int) -> int:
    """Input elements fetched by one pass over every output tile (halos counted per tile)."""
    rows = _span_sum(nest.p, side, nest, nest.input_height)
    cols = _span_sum(nest.q, side, nest, nest.input_width)
    return rows * cols * nest.n * nest.c


def _pow2_sizes(extent: int) -> list[int]:
    """1, 2, 4, ... up to the first power of two >= `extent` (the authors' tile sizes)."""
    return [1 << i for i in range(max(extent - 1, 0).bit_length() + 1)]


def _candidate_grid(nest: LoopNest, pow2: bool = False) -> dict[str, np.ndarray]:
    sizes = _pow2_sizes if pow2 else candidate_sizes
    axes = [sizes(nest.n), sizes(max(nest.p, nest.q)), sizes(nest.c), sizes(nest.k)]
    grid = np.meshgrid(*[np.asarray(a, dtype=np.int64) for a in axes], indexing="ij")
    return {d: g.ravel() for d, g in zip(LOOP_DIMS, grid, strict=True)}


def _sides(nest: LoopNest, t: dict[str, np.ndarray], pow2: bool) -> tuple[np.ndarray, np.ndarray]:
    """Output rows and columns of one tile (a padded edge tile counts whole under `pow2`)."""
    if pow2:
        return t["pq"], t["pq"]
    return np.minimum(t["pq"], nest.p), np.minimum(t["pq"], nest.q)


def _tile_elems(nest: LoopNest, t: dict[str, np.ndarray],
                pow2: bool = False) -> dict[str, np.ndarray]:
    rows, cols = _sides(nest, t, pow2)
    in_rows = (rows - 1) * nest.stride + nest.r
    in_cols = (cols - 1) * nest.stride + nest.r
    if not pow2:
        in_rows = np.minimum(in_rows, nest.input_height + 2 * nest.padding)
        in_cols = np.minimum(in_cols, nest.input_width + 2 * nest.padding)
    return {"input": t["n"] * t["c"] * in_rows * in_cols,
            "weight": t["c"] * t["k"] * nest.r * nest.r,
            "output": t["n"] * t["k"] * rows * cols}


def _trip_counts(nest: LoopNest, t: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    spatial = -(-nest.p // t["pq"]) * -(-nest.q // t["pq"])
    return {"n": -(-nest.n // t["n"]), "pq": spatial, "c": -(-nest.c // t["c"]),
            "k": -(-nest.k // t["k"])}


def _restream_factor(order: tuple[str, ...], tensor: str,
                     trip: dict[str, np.ndarray]) -> np.ndarray:
    """How many times a tensor is streamed in full for this loop order (vectorized)."""
    factor = np.ones_like(trip["n"])
    pending = np.ones_like(trip["n"])
    for dim in order:  # outer to inner: irrelevant trips count once a relevant loop advances after
        if dim in RELEVANT[tensor]:
            factor = np.where(trip[dim] > 1, factor * pending, factor)
            pending = np.where(trip[dim] > 1, 1, pending)
        else:
            pending = pending * trip[dim]
    return factor


def _folds(extent: int, tile: np.ndarray, granule: int) -> np.ndarray:
    """Array passes over one dimension: full tiles of `tile` plus the remainder tile."""
    return (extent // tile) * -(-tile // granule) + -(-(extent % tile) // granule)


def _extents(nest: LoopNest, t: dict[str, np.ndarray], pow2: bool) -> dict[str, np.ndarray]:
    """Extents as computed: the real ones, or padded to whole tiles (`pow2_edge_tiles`)."""
    real = {"n": nest.n, "p": nest.p, "q": nest.q, "c": nest.c, "k": nest.k}
    if not pow2:
        return {d: np.full_like(t["n"], v) for d, v in real.items()}
    rows, cols = _sides(nest, t, pow2)
    tile = {"n": t["n"], "p": rows, "q": cols, "c": t["c"], "k": t["k"]}
    return {d: -(-v // tile[d]) * tile[d] for d, v in real.items()}


def _halo_sweep_elems(nest: LoopNest, t: dict[str, np.ndarray], ext: dict[str, np.ndarray],
                      pow2: bool) -> np.ndarray:
    """Input elements of one pass over every output tile, each tile fetched whole (halo and
    zero padding included)."""
    rows, cols = _sides(nest, t, pow2)
    in_rows = (rows - 1) * nest.stride + nest.r
    in_cols = (cols - 1) * nest.stride + nest.r
    return (-(-nest.p // rows) * in_rows) * (-(-nest.q // cols) * in_cols) * ext["n"] * ext["c"]


def tiled_compute_cycles(nest: LoopNest, c_tile, k_tile, geometry: ArrayFolding):
    """Array cycles summed over tiles; equals the Bit Fusion formula for aligned tiles."""
    base = nest.n * nest.p * nest.q * nest.r * nest.r * geometry.temporal_passes
    return (base * _folds(nest.c, c_tile, geometry.c_per_fold)
            * _folds(nest.k, k_tile, geometry.k_per_fold))


def _full_width(tile: np.ndarray, extent: int, granule: int) -> np.ndarray:
    """Tiles that fill the array along a dimension (or hold the whole extent)."""
    return tile >= min(extent, granule)


def _choose(objective: MappingObjective, slack: float, cycles: np.ndarray,
            energy: np.ndarray, tiles: np.ndarray) -> tuple[int, int]:
    """(order, candidate) of the best mapping; arrays are (orders, candidates)."""
    flat_cycles, flat_energy = cycles.ravel(), energy.ravel()
    flat_tiles = np.broadcast_to(tiles, cycles.shape).ravel()
    if objective is MappingObjective.LATENCY and slack == 0.0:
        key = np.lexsort((flat_tiles, flat_energy, flat_cycles))
    elif objective is MappingObjective.LATENCY:
        admissible = flat_cycles <= np.floor(flat_cycles.min() * (1.0 + slack))
        key = np.lexsort((flat_tiles, flat_cycles, np.where(admissible, flat_energy, np.inf)))
    elif objective is MappingObjective.ENERGY:
        key = np.lexsort((flat_tiles, flat_cycles, flat_energy))
    else:
        key = np.lexsort((flat_tiles, flat_energy, flat_energy * flat_cycles))
    return divmod(int(key[0]), cycles.shape[1])


def search_tiling(nest: LoopNest, bits: OperandBits, caps: Capacities,
                  geometry: ArrayFolding, read_before_write: bool,
                  bandwidth_bits_per_cycle: int,
                  objective: MappingObjective = MappingObjective.LATENCY, slack: float = 0.0,
                  weights: EnergyWeights = DRAM_BITS_ONLY,
                  full_width_tiles: bool = True,
                  conventions: Conventions = PHYSICAL,
                  io: ActivationIO = OFF_CHIP) -> tuple[Tiling, Traffic] | None:
    """The best mapping under `objective` (see `hwsim.hardware.arch.MappingObjective`).

    Latency of a mapping: max(compute, middle traffic / bandwidth) + (first-tile load +
    last-tile store) / bandwidth, where the middle traffic is everything but the first load and
    the last store (those two cannot overlap compute). Energy: `weights` x the mapping's bits
    and cycles. With `full_width_tiles`, channel tiles narrower than the array (idle rows or
    columns) are considered only when no full-width tile fits the buffers. Final ties go to
    fewer tiles, then loop order. `conventions` reproduce the authors' simulator; `io` says
    whether the input and output stay on chip and at what width final outputs are written.

    Returns None when no tiling fits the buffers (the caller reports it).
    """
    pow2 = conventions.pow2_edge_tiles
    t = _candidate_grid(nest, pow2)
    tile = _tile_elems(nest, t, pow2)
    fits = (((tile["input"] * bits.act <= caps.input_bits) | io.input_on_chip)
            & (tile["weight"] * bits.wgt <= caps.weight_bits)
            & (tile["output"] * bits.psum <= caps.output_bits))
    if not fits.any():
        return None
    for dim, extent, granule in (("k", nest.k, geometry.k_per_fold),
                                 ("c", nest.c, geometry.c_per_fold)):
        wide = fits & _full_width(t[dim], extent, granule)
        if full_width_tiles and wide.any():
            fits = wide
    t = {d: v[fits] for d, v in t.items()}
    tile = {name: v[fits] for name, v in tile.items()}
    trip = _trip_counts(nest, t)
    ext = _extents(nest, t, conventions.pow2_edge_tiles)
    if conventions.pow2_edge_tiles:
        compute_cycles = (ext["n"] * ext["p"] * ext["q"] * nest.r * nest.r
                          * geometry.temporal_passes
                          * (ext["c"] // t["c"]) * -(-t["c"] // geometry.c_per_fold)
                          * (ext["k"] // t["k"]) * -(-t["k"] // geometry.k_per_fold))
    else:
        compute_cycles = tiled_compute_cycles(nest, t["c"], t["k"], geometry)
    tiles = trip["n"] * trip["pq"] * trip["c"] * trip["k"]
    if conventions.fetch_padding_halo:
        sweep_in = _halo_sweep_elems(nest, t, ext, pow2)
    else:
        sides, side_index = np.unique(t["pq"], return_inverse=True)
        sweep_in = np.array([_input_sweep_elems(nest, int(s)) for s in sides],
                            dtype=np.int64)[side_index.reshape(-1)]
        sweep_in = sweep_in // (nest.n * nest.c) * ext["n"] * ext["c"]
    weight_all = ext["k"] * ext["c"] * nest.r * nest.r
    final_bits = io.final_output_bits or bits.psum
    first_load = (0 if io.input_on_chip else tile["input"] * bits.act) + tile["weight"] * bits.wgt
    if read_before_write:
        first_load = first_load + tile["output"] * bits.psum
    last_store = 0 if io.output_on_chip else tile["output"] * final_bits
    edge_bits = first_load + last_store  # exposed first load + last store
    output_all = ext["n"] * ext["k"] * ext["p"] * ext["q"]
    on_chip_psum = output_all * (trip["c"] - 1) * bits.psum
    bw = bandwidth_bits_per_cycle
    shape = (len(ALL_ORDERS), len(tiles))
    rin, rw, reads, writes, total, cycles = (np.empty(shape, dtype=np.int64) for _ in range(6))
    energy = np.empty(shape)
    for o, order in enumerate(ALL_ORDERS):
        rin[o] = _restream_factor(order, "input", trip)
        rw[o] = _restream_factor(order, "weight", trip)
        writes[o] = output_all * _restream_factor(order, "output", trip)
        reads[o] = writes[o] if read_before_write else writes[o] - output_all
        input_bits = 0 if io.input_on_chip else sweep_in * rin[o] * bits.act
        weight_bits = weight_all * rw[o] * bits.wgt
        final_dram = 0 if io.output_on_chip else output_all * final_bits
        spill_bits = (writes[o] - output_all) * bits.psum
        total[o] = input_bits + weight_bits + spill_bits + final_dram + reads[o] * bits.psum
        middle = np.maximum(total[o] - edge_bits, 0)
        cycles[o] = (np.maximum(compute_cycles, -(-middle // bw)) + -(-edge_bits // bw))
        energy[o] = (weights.fixed + input_bits * weights.input_bit
                     + weight_bits * weights.weight_bit
                     + (spill_bits + final_dram) * weights.output_write_bit
                     + reads[o] * bits.psum * weights.output_read_bit
                     + on_chip_psum * weights.psum_bit
                     + compute_cycles * weights.compute_cycle + cycles[o] * weights.cycle)
    o, i = _choose(objective, slack, cycles, energy, tiles)
    order = ALL_ORDERS[o]
    tiling = Tiling(int(t["n"][i]), int(t["pq"][i]), int(t["c"][i]), int(t["k"][i]), order)
    input_sweeps = int(sweep_in[i] * rin[o, i] * bits.act)
    outputs = int(output_all[i])
    spills = (int(writes[o, i]) - outputs) * bits.psum
    final_dram = 0 if io.output_on_chip else outputs * final_bits
    resident = outputs * final_bits if io.output_on_chip else 0
    traffic = Traffic(0 if io.input_on_chip else input_sweeps,
                      int(weight_all[i] * rw[o, i] * bits.wgt),
                      int(reads[o, i]) * bits.psum, spills + final_dram,
                      int(first_load[i]), 0 if io.output_on_chip else int(tile["output"][i]
                                                                           * final_bits),
                      int(tiles[i]), int(compute_cycles[i]), spills, resident,
                      (input_sweeps if io.input_on_chip else 0) + resident)
    return tiling, traffic


def tile_trip_counts(nest: LoopNest, tiling: Tiling) -> dict[str, int]:
    """Trip counts of one chosen tiling (scalar form of the vectorized helper)."""
    return {"n": ceil_div(nest.n, tiling.n), "c": ceil_div(nest.c, tiling.c),
            "k": ceil_div(nest.k, tiling.k),
            "pq": ceil_div(nest.p, tiling.pq) * ceil_div(nest.q, tiling.pq)}
