"""Energy = action counts x energy per action (the Accelergy rule).

The timing code only counts actions (`ActionCounts`); this module is the only place that
multiplies by picojoules, using the arch's `EnergyTable` (each value carries its `source`) as
scaled to this machine by its technology (`hwsim.hardware.technology`): leakage per cycle from
FU count, SRAM KiB and clock; SRAM pJ/bit from each buffer's capacity; idle FU-cycles at a
fraction of a busy one. Without a technology section the table is used as written and the whole
array is charged every compute cycle (the authors' convention).
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, fields

from hwsim.hardware.arch import ArchConfig, EnergyTable, SramEnergy
from hwsim.hardware.technology import leakage_pj_per_cycle, sram_scale
from hwsim.mapping.loopnest import LoopNest, ceil_div
from hwsim.mapping.tiling import EnergyWeights, OperandBits


@dataclass(frozen=True, slots=True)
class ActionCounts:
    """Everything one layer execution does that costs energy."""

    array_cycles: int  # cycles the whole FU array is clocked doing work
    busy_fu_cycles: float  # FU-cycles the products really need (<= FUs x array_cycles)
    input_sram_read_bits: int
    input_sram_write_bits: int
    weight_sram_read_bits: int
    weight_sram_write_bits: int
    output_sram_read_bits: int
    output_sram_write_bits: int
    dram_bits: int
    total_cycles: int  # leakage runs through every cycle, stalls included

    def scaled(self, factor: int) -> ActionCounts:
        return ActionCounts(*(getattr(self, f.name) * factor for f in fields(self)))


@dataclass(frozen=True, slots=True)
class EnergyBreakdown:
    compute_pj: float
    input_sram_pj: float
    weight_sram_pj: float
    output_sram_pj: float
    dram_pj: float
    leakage_pj: float

    @property
    def sram_pj(self) -> float:
        return self.input_sram_pj + self.weight_sram_pj + self.output_sram_pj

    @property
    def total_pj(self) -> float:
        return self.compute_pj + self.sram_pj + self.dram_pj + self.leakage_pj


COMPONENTS = tuple(f.name for f in fields(EnergyBreakdown))


def estimate_energy(counts: ActionCounts, arch: ArchConfig) -> EnergyBreakdown:
    """Energy of one layer execution from its action counts and the arch's energy table."""
    table, idle = effective_energy(arch)
    fu_cycles = counts.array_cycles * arch.fu_count
    busy = min(counts.busy_fu_cycles, fu_cycles)
    return EnergyBreakdown(
        compute_pj=(busy + idle * (fu_cycles - busy)) * table.compute_pj_per_fu_cycle,
        input_sram_pj=(counts.input_sram_read_bits * table.input_sram.read_pj_per_bit
                       + counts.input_sram_write_bits * table.input_sram.write_pj_per_bit),
        weight_sram_pj=(counts.weight_sram_read_bits * table.weight_sram.read_pj_per_bit
                        + counts.weight_sram_write_bits * table.weight_sram.write_pj_per_bit),
        output_sram_pj=(counts.output_sram_read_bits * table.output_sram.read_pj_per_bit
                        + counts.output_sram_write_bits * table.output_sram.write_pj_per_bit),
        dram_pj=counts.dram_bits * table.dram_pj_per_bit,
        leakage_pj=counts.total_cycles * table.leakage_pj_per_cycle,
    )


@functools.lru_cache(maxsize=4096)
def effective_energy(arch: ArchConfig) -> tuple[EnergyTable, float]:
    """The energy table scaled to this machine, and the idle FU-cycle fraction."""
    table, tech = arch.energy, arch.technology
    if tech is None:
        return table, 1.0
    sizes = (arch.buffers.input, arch.buffers.weight, arch.buffers.output)
    scaled = [SramEnergy(sram.read_pj_per_bit * sram_scale(tech, i, size.size_bytes / 1024),
                         sram.write_pj_per_bit * sram_scale(tech, i, size.size_bytes / 1024))
              for i, (sram, size) in enumerate(zip(
                  (table.input_sram, table.weight_sram, table.output_sram), sizes, strict=True))]
    leakage = leakage_pj_per_cycle(tech, arch.fu_count, arch.sram_kib, arch.frequency_mhz)
    return dataclasses.replace(table, input_sram=scaled[0], weight_sram=scaled[1],
                               output_sram=scaled[2], leakage_pj_per_cycle=leakage), \
        tech.idle_fu_energy_fraction.value


def mapping_weights(arch: ArchConfig, nest: LoopNest, bits: OperandBits, macs: int,
                    passes: int = 1, products: int = 1) -> EnergyWeights:
    """The energy table in the form the tiling search ranks mappings with (pJ per bit/cycle).

    Mirrors `count_actions`: a DRAM bit is also written into (or read out of) its buffer, a
    partial sum kept between input-channel tiles costs an output-buffer read and write, and
    the operand reads feeding the array are the same for every mapping (`fixed`).
    """
    table, idle = effective_energy(arch)
    dram = table.dram_pj_per_bit
    input_reads = macs // max(nest.k, 1) * ceil_div(nest.k, arch.array.cols) * bits.act
    busy = macs * passes / products * table.compute_pj_per_fu_cycle * (1.0 - idle)
    fixed = (input_reads * table.input_sram.read_pj_per_bit
             + macs * bits.wgt * table.weight_sram.read_pj_per_bit + busy)
    return EnergyWeights(
        input_bit=dram + table.input_sram.write_pj_per_bit,
        weight_bit=dram + table.weight_sram.write_pj_per_bit,
        output_write_bit=dram + table.output_sram.read_pj_per_bit,
        output_read_bit=dram + table.output_sram.write_pj_per_bit,
        psum_bit=table.output_sram.read_pj_per_bit + table.output_sram.write_pj_per_bit,
        # busy FU-cycles are the same for every mapping (in `fixed`); idle ones are not
        compute_cycle=arch.fu_count * table.compute_pj_per_fu_cycle * idle,
        cycle=table.leakage_pj_per_cycle,
        fixed=fixed,
    )
