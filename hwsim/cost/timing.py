"""Per-layer plan (compute, tiling, traffic) and the analytic timing model.

Compute cycles follow the Bit Fusion simulator (Sharma et al., ISCA 2018): for batch B, output
P x Q, kernel R, on an array of `rows` x `cols` Fusion Units with `pf` fused products per FU,
    conv:   B * ceil(K / cols) * P * Q * R * R * ceil(C / (rows * pf)) * passes
    im2col: B * P * Q * ceil(K / cols) * ceil(R * R * C / (rows * pf)) * passes
(K output, C input channels; `passes` is the temporal fusion factor above 8 bits). FC layers are
convolutions with R = P = Q = 1. With `array.dataflow` os, ws or is (a conventional systolic array
of fixed PEs), compute cycles follow SCALE-Sim's cycle model instead (`hwsim.mapping.dataflow`,
fill and drain included per fold); the tiling search still decides the DRAM traffic.

Analytic timing (the default model): DRAM transfers overlap compute through double buffering,
except the first tile's load (nothing can start before it) and the last tile's store (nothing
is left to overlap it), so
    total = max(compute, (dram_bits - first load - last store) / bandwidth)
            + (first-tile load + last-tile store) / bandwidth
            + systolic fill and drain (rows + cols - 2 cycles, once per layer)
and every cycle beyond `compute` is a stall. With `mapping.serial_small_layers` (the authors'
convention) a layer whose operands all fit their buffers at once is loaded whole, computed, then
stored: total = dram_bits / bandwidth + compute + fill and drain. `hwsim.cost.event_sim`
answers the same question tile by tile in simpy; a test holds the two together.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hwsim.cost.energy import ActionCounts, mapping_weights
from hwsim.errors import MappingError
from hwsim.hardware.arch import ArchConfig, Dataflow
from hwsim.hardware.pe import FusionMode, fusion_mode
from hwsim.mapping.dataflow import systolic_mapping
from hwsim.mapping.loopnest import LoopNest, Tiling, ceil_div, loop_nest
from hwsim.mapping.tiling import (
    OFF_CHIP,
    ActivationIO,
    ArrayFolding,
    Capacities,
    Conventions,
    OperandBits,
    Traffic,
    search_tiling,
)
from hwsim.workload.layer import Layer, LayerKind, Precision


class TimingKind(enum.Enum):
    ANALYTIC = "analytic"
    EVENT = "event"


@dataclass(frozen=True, slots=True)
class Timing:
    compute_cycles: int
    stall_cycles: int

    @property
    def total_cycles(self) -> int:
        return self.compute_cycles + self.stall_cycles


@dataclass(frozen=True, slots=True)
class LayerPlan:
    """Everything about one (layer, precision, batch) that does not depend on the timing model."""

    nest: LoopNest
    mode: FusionMode
    bits: OperandBits
    compute_cycles: int
    tiling: Tiling
    traffic: Traffic
    macs: int
    im2col: bool
    whole_layer_fits: bool = False  # every operand of the whole layer fits its buffer at once

    @property
    def brick_ops(self) -> int:
        return self.macs * self.mode.brick_ops_per_mac

    @property
    def fu_busy_cycles(self) -> float:
        """FU-cycles the products really need (fractional when several fuse into one FU)."""
        return self.macs * self.mode.temporal_passes / self.mode.spatial_products


def uses_im2col(layer: Layer, arch: ArchConfig) -> bool:
    return layer.first_layer and layer.kind is LayerKind.CONV and arch.mapping.im2col_first_layer


def plan_layer(layer: Layer, precision: Precision, batch: int, arch: ArchConfig,
               io: ActivationIO = OFF_CHIP) -> LayerPlan:
    """Fusion mode, compute cycles and the fastest tiling of one layer execution.

    Raises:
        MappingError: the PE cannot run the bit widths, or no tiling fits the buffers.
    """
    try:
        mode = fusion_mode(precision, arch.pe)
    except MappingError as err:
        raise MappingError(f"at {precision}: {err}") from None
    im2col = uses_im2col(layer, arch)
    nest = loop_nest(layer, batch, im2col)
    bits = OperandBits(precision.act_bits, precision.wgt_bits, arch.mapping.psum_bits)
    buffers = arch.buffers
    caps = Capacities(buffers.input.tile_capacity_bits, buffers.weight.tile_capacity_bits,
                      buffers.output.tile_capacity_bits)
    folding = ArrayFolding(arch.array.rows * mode.spatial_products, arch.array.cols,
                           mode.temporal_passes)
    found = search_tiling(nest, bits, caps, folding, arch.mapping.output_read_before_write,
                          arch.dram.bandwidth_bits_per_cycle, arch.mapping.objective,
                          arch.mapping.latency_slack,
                          mapping_weights(arch, nest, bits, layer.macs * batch,
                                          mode.temporal_passes, mode.spatial_products),
                          arch.mapping.full_width_tiles,
                          Conventions(arch.mapping.pow2_edge_tiles,
                                      arch.mapping.fetch_padding_halo), io)
    if found is None:
        raise MappingError(
            f"at {precision}, batch {batch}: no tile fits the buffers "
            f"(input {buffers.input.size_bytes} B, weight {buffers.weight.size_bytes} B, "
            f"output {buffers.output.size_bytes} B); enlarge them in the arch file")
    tiling, traffic = found
    compute = traffic.compute_cycles
    if arch.array.dataflow is not Dataflow.BITFUSION:  # SCALE-Sim's OS/WS/IS cycle model
        compute = systolic_mapping(nest, arch.array, mode.temporal_passes).compute_cycles
    whole = (nest.n * nest.c * nest.input_height * nest.input_width * bits.act
             <= buffers.input.size_bytes * 8
             and nest.k * nest.c * nest.r * nest.r * bits.wgt <= buffers.weight.size_bytes * 8
             and nest.n * nest.k * nest.p * nest.q * bits.psum <= buffers.output.size_bytes * 8)
    return LayerPlan(nest, mode, bits, compute, tiling, traffic, layer.macs * batch, im2col,
                     whole)


def fill_drain_cycles(arch: ArchConfig) -> int:
    """Cycles to fill and drain the systolic pipeline once (rows, then columns); 0 for the OS,
    WS and IS dataflows, whose compute cycles already hold a fill and drain per fold."""
    if arch.array.dataflow is not Dataflow.BITFUSION:
        return 0
    return arch.array.rows + arch.array.cols - 2


def analytic_timing(plan: LayerPlan, arch: ArchConfig) -> Timing:
    """Closed-form overlap of compute and DRAM traffic (see the module docstring)."""
    bandwidth = arch.dram.bandwidth_bits_per_cycle
    if arch.mapping.serial_small_layers and plan.whole_layer_fits:  # the authors' tiny layers
        total = (ceil_div(plan.traffic.dram_bits, bandwidth) + plan.compute_cycles
                 + fill_drain_cycles(arch))
        return Timing(plan.compute_cycles, total - plan.compute_cycles)
    edge_bits = plan.traffic.first_load_bits + plan.traffic.last_store_bits
    middle = ceil_div(max(plan.traffic.dram_bits - edge_bits, 0), bandwidth)
    total = max(plan.compute_cycles, middle) + ceil_div(edge_bits, bandwidth)
    total += fill_drain_cycles(arch)
    return Timing(plan.compute_cycles, total - plan.compute_cycles)


def count_actions(plan: LayerPlan, timing: Timing, arch: ArchConfig) -> ActionCounts:
    """SRAM, DRAM and array activity of one layer execution (bits actually moved).

    Inputs are read from the input buffer once per column fold (each array row broadcasts
    one input to every column; the authors' simulator counts one read per multiply,
    `input_reads_per_multiply`), weights once per product, partial sums once per input-channel
    tile (read back from the output buffer between tiles).
    """
    nest, bits, traffic = plan.nest, plan.bits, plan.traffic
    column_folds = ceil_div(nest.k, arch.array.cols)
    c_tiles = ceil_div(nest.c, plan.tiling.c)
    outputs = nest.n * nest.k * nest.p * nest.q
    return ActionCounts(
        array_cycles=plan.compute_cycles,
        busy_fu_cycles=plan.fu_busy_cycles,
        input_sram_read_bits=(plan.macs * bits.act if arch.mapping.input_reads_per_multiply
                              else plan.macs // nest.k * column_folds * bits.act),
        input_sram_write_bits=traffic.input_read_bits + traffic.resident_output_bits,
        weight_sram_read_bits=plan.macs * bits.wgt,
        weight_sram_write_bits=traffic.weight_read_bits,
        output_sram_read_bits=(outputs * c_tiles * bits.psum + traffic.spill_write_bits),
        output_sram_write_bits=outputs * c_tiles * bits.psum + traffic.output_read_bits,
        dram_bits=traffic.dram_bits,
        total_cycles=timing.total_cycles,
    )
