"""Event-driven timing of one layer in simpy: DMA over a shared DRAM channel, compute, write-back.

The tile steps come from `hwsim.mapping.loopnest.walk_tiles` in the plan's loop order. Three
processes
share one DRAM channel (a simpy Resource served in request order):
  - the loader fetches each step's new input/weight/partial-sum tiles into a free half of the
    double buffer (two slots), so loading step i+1 overlaps computing step i;
  - the array computes a step once its operands are in, then frees the slot;
  - the writer drains evicted output tiles over the same channel.
The layer ends when the last write-back lands; the systolic fill and drain is added once, as in
the analytic model. For the OS/WS/IS dataflows (SCALE-Sim's per-fold cycle model), the layer's
compute cycles are spread over the tiles in proportion to each tile's work. Same question,
answered tile by tile: `hwsim.cost.timing.analytic_timing` is the fast default and a test holds the
two together.
"""

from __future__ import annotations

import math

import simpy

from hwsim.cost.timing import LayerPlan, Timing, fill_drain_cycles
from hwsim.errors import MappingError
from hwsim.hardware.arch import ArchConfig
from hwsim.mapping.loopnest import TileStep, ceil_div, walk_tiles

DOUBLE_BUFFER_SLOTS = 2


def step_compute_cycles(step: TileStep, plan: LayerPlan, arch: ArchConfig) -> int:
    """Array cycles of one tile step (the compute formula applied to the tile's extents)."""
    per_fold = arch.array.rows * plan.mode.spatial_products
    r = plan.nest.r
    return (step.n * step.pq_rows * step.pq_cols * r * r * ceil_div(step.k, arch.array.cols)
            * ceil_div(step.c, per_fold) * plan.mode.temporal_passes)


def _load_bits(step: TileStep, plan: LayerPlan) -> int:
    bits = plan.bits
    return (step.input_loaded * bits.act + step.weight_loaded * bits.wgt
            + step.output_read * bits.psum)


def _transfer(env: simpy.Environment, channel: simpy.Resource, bits: int, bandwidth: int):
    with channel.request() as request:
        yield request
        yield env.timeout(bits / bandwidth)  # fractional: no per-transfer rounding


def _loader(env, channel, steps, slots, ready, bandwidth):
    for step in steps:
        yield slots.get(1)
        load = _load_bits(step[0], step[1])
        if load:
            yield from _transfer(env, channel, load, bandwidth)
        yield ready.put(step)


def _array(env, ready, slots, writes, count, busy):
    for _ in range(count):
        step, plan, cycles = yield ready.get()
        if step.output_written:
            writes.put(step.output_written * plan.bits.psum)
        yield env.timeout(cycles)
        busy[0] += cycles
        yield slots.put(1)


def _writer(env, channel, writes, bandwidth, done):
    while True:
        bits = yield writes.get()
        yield from _transfer(env, channel, bits, bandwidth)
        done[0] = env.now


def event_timing(plan: LayerPlan, arch: ArchConfig) -> Timing:
    """Simulate the layer tile by tile; returns compute and stall cycles like the analytic model.

    Raises:
        MappingError: the arch turns on conventions of the authors' simulator, which describe
            how that simulator counts, not tiles a machine could run (analytic timing only).
    """
    if arch.mapping.authors_conventions:
        names = ", ".join(f"mapping.{name}" for name in arch.mapping.authors_conventions)
        raise MappingError(f"{arch.name}: the event model runs real tiles; {names} "
                           "reproduce the authors' simulator in the analytic model only: use "
                           "--timing analytic, or set them to false")
    env = simpy.Environment()
    channel = simpy.Resource(env, capacity=1)
    slots = simpy.Container(env, capacity=DOUBLE_BUFFER_SLOTS, init=DOUBLE_BUFFER_SLOTS)
    ready = simpy.Store(env)
    writes = simpy.Store(env)
    walked = list(walk_tiles(plan.nest, plan.tiling, arch.mapping.output_read_before_write))
    cycles = [step_compute_cycles(s, plan, arch) for s in walked]
    tile_sum = sum(cycles)
    if tile_sum and tile_sum != plan.compute_cycles:  # OS/WS/IS: SCALE-Sim's per-fold model
        cycles = [c * plan.compute_cycles / tile_sum for c in cycles]  # spread over the tiles
    steps = list(zip(walked, [plan] * len(walked), cycles, strict=True))
    bandwidth = arch.dram.bandwidth_bits_per_cycle
    busy, done = [0], [0]
    env.process(_loader(env, channel, steps, slots, ready, bandwidth))
    env.process(_array(env, ready, slots, writes, len(steps), busy))
    env.process(_writer(env, channel, writes, bandwidth, done))
    env.run()
    total = math.ceil(max(env.now, done[0])) + fill_drain_cycles(arch)
    busy_cycles = round(busy[0])
    return Timing(busy_cycles, total - busy_cycles)
