"""Energy = action counts x energy per action (the Accelergy rule).

The timing code only counts actions (`ActionCounts`); this module is the only place that
multiplies by picojoules, using the arch's `EnergyTable` (each value carries its `source`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from hwsim.hardware.arch import ArchConfig
from hwsim.mapping.loopnest import LoopNest, ceil_div
from hwsim.mapping.tiling import EnergyWeights, OperandBits


@dataclass(frozen=True, slots=True)
class ActionCounts:
    """Everything one layer execution does that costs energy."""

    array_cycles: int  # cycles the whole FU array is clocked doing work
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
    table = arch.energy
    return EnergyBreakdown(
        compute_pj=counts.array_cycles * arch.fu_count * table.compute_pj_per_fu_cycle,
        input_sram_pj=(counts.input_sram_read_bits * table.input_sram.read_pj_per_bit
                       + counts.input_sram_write_bits * table.input_sram.write_pj_per_bit),
        weight_sram_pj=(counts.weight_sram_read_bits * table.weight_sram.read_pj_per_bit
                        + counts.weight_sram_write_bits * table.weight_sram.write_pj_per_bit),
        output_sram_pj=(counts.output_sram_read_bits * table.output_sram.read_pj_per_bit
                        + counts.output_sram_write_bits * table.output_sram.write_pj_per_bit),
        dram_pj=counts.dram_bits * table.dram_pj_per_bit,
        leakage_pj=counts.total_cycles * table.leakage_pj_per_cycle,
    )


def mapping_weights(arch: ArchConfig, nest: LoopNest, bits: OperandBits,
                    macs: int) -> EnergyWeights:
    """The energy table in the form the tiling search ranks mappings with (pJ per bit/cycle).

    Mirrors `count_actions`: a DRAM bit is also written into (or read out of) its buffer, a
    partial sum kept between input-channel tiles costs an output-buffer read and write, and
    the operand reads feeding the array are the same for every mapping (`fixed`).
    """
    table = arch.energy
    dram = table.dram_pj_per_bit
    input_reads = macs // max(nest.k, 1) * ceil_div(nest.k, arch.array.cols) * bits.act
    fixed = (input_reads * table.input_sram.read_pj_per_bit
             + macs * bits.wgt * table.weight_sram.read_pj_per_bit)
    return EnergyWeights(
        input_bit=dram + table.input_sram.write_pj_per_bit,
        weight_bit=dram + table.weight_sram.write_pj_per_bit,
        output_write_bit=dram + table.output_sram.read_pj_per_bit,
        output_read_bit=dram + table.output_sram.write_pj_per_bit,
        psum_bit=table.output_sram.read_pj_per_bit + table.output_sram.write_pj_per_bit,
        compute_cycle=arch.fu_count * table.compute_pj_per_fu_cycle,
        cycle=table.leakage_pj_per_cycle,
        fixed=fixed,
    )
