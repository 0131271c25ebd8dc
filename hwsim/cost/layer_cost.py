"""One layer execution, end to end: plan, timing, action counts, energy and utilization.

Results are cached on what actually varies: the layer's geometry (not its name), the operand
widths, the sub-batch size, the arch and the timing model; the expensive mapping search is cached
on the mapping-relevant part of the arch alone, so sweep points that differ only in clock, energy
or area tables share it. A 10,000-input trace touches only a
few hundred such combinations, so simulation cost grows with combinations, not with inputs.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

from hwsim.cost.energy import ActionCounts, EnergyBreakdown, estimate_energy
from hwsim.cost.timing import (
    LayerPlan,
    Timing,
    TimingKind,
    analytic_timing,
    count_actions,
    plan_layer,
)
from hwsim.hardware.arch import ArchConfig, AreaTable
from hwsim.mapping.loopnest import Tiling
from hwsim.mapping.tiling import OFF_CHIP, ActivationIO
from hwsim.workload.layer import Layer, Precision


@dataclass(frozen=True, slots=True)
class LayerPerf:
    """Cost of running one layer once on a sub-batch of `batch` inputs at one precision."""

    precision: Precision  # as requested by the workload
    native: Precision  # as computed by the PE (rounded up)
    batch: int
    macs: int
    compute_cycles: int
    stall_cycles: int
    dram_bits: int
    onchip_bits: int  # DRAM traffic the resident activations avoided
    brick_utilization: float  # brick operations needed / (bricks x total cycles)
    fu_utilization: float  # FU-cycles the products need / (FUs x total cycles)
    tiling: Tiling
    counts: ActionCounts
    energy: EnergyBreakdown

    @property
    def total_cycles(self) -> int:
        return self.compute_cycles + self.stall_cycles

    @property
    def rounded(self) -> bool:
        return self.native != self.precision


def _geometry(layer: Layer) -> Layer:
    return dataclasses.replace(layer, name="", block=None, fixed=None)


def _time(plan: LayerPlan, arch: ArchConfig, timing: TimingKind) -> Timing:
    if timing is TimingKind.EVENT:
        from hwsim.cost.event_sim import event_timing  # simpy only when asked for

        return event_timing(plan, arch)
    return analytic_timing(plan, arch)


_NO_AREA = AreaTable(0.0, 0.0, "")


def _mapping_view(arch: ArchConfig) -> ArchConfig:
    """The arch without what cannot change a mapping (name, area table, sources; the clock too
    when leakage per cycle does not depend on it)."""
    energy = dataclasses.replace(arch.energy, source="", leakage_source="")
    clock = arch.frequency_mhz if arch.technology is not None else 1.0
    return dataclasses.replace(arch, name="", frequency_mhz=clock, energy=energy, area=_NO_AREA)


@functools.lru_cache(maxsize=65536)
def _plan_and_time(geometry: Layer, precision: Precision, batch: int, arch: ArchConfig,
                   timing: TimingKind, io: ActivationIO) -> tuple[LayerPlan, Timing]:
    plan = plan_layer(geometry, precision, batch, arch, io)
    return plan, _time(plan, arch, timing)


@functools.lru_cache(maxsize=65536)
def _simulate(geometry: Layer, precision: Precision, batch: int, arch: ArchConfig,
              timing: TimingKind, io: ActivationIO) -> LayerPerf:
    plan, times = _plan_and_time(geometry, precision, batch, _mapping_view(arch), timing, io)
    counts = count_actions(plan, times, arch)
    total = times.total_cycles
    bricks = arch.fu_count * arch.pe.bricks_per_unit
    return LayerPerf(
        precision=precision, native=plan.mode.native, batch=batch, macs=plan.macs,
        compute_cycles=times.compute_cycles, stall_cycles=times.stall_cycles,
        dram_bits=plan.traffic.dram_bits, onchip_bits=plan.traffic.onchip_bits,
        brick_utilization=plan.brick_ops / (bricks * total),
        fu_utilization=plan.fu_busy_cycles / (arch.fu_count * total),
        tiling=plan.tiling, counts=counts, energy=estimate_energy(counts, arch))


def simulate_layer(layer: Layer, precision: Precision, batch: int, arch: ArchConfig,
                   timing: TimingKind = TimingKind.ANALYTIC,
                   io: ActivationIO = OFF_CHIP) -> LayerPerf:
    """Cycles, energy and utilization of one layer on `batch` inputs at `precision`, its input
    and output on or off chip as `io` says.

    Raises:
        MappingError: the PE cannot run the widths, or no tiling fits the buffers.
    """
    return _simulate(_geometry(layer), precision, batch, arch, timing, io)


def clear_cache() -> None:
    _simulate.cache_clear()
    _plan_and_time.cache_clear()
