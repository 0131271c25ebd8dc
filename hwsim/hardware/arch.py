"""Accelerator description: immutable values built from a validated YAML file.

The dataclasses below are the contract used by the timing and energy models. `load_arch`
(YAML -> ArchConfig with strict validation) lives at the bottom of this module.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from hwsim.errors import ConfigError
from hwsim.hardware.technology import (
    TECHNOLOGY_SPEC,
    Technology,
    technology_from_clean,
    technology_to_dict,
)
from hwsim.schema import (
    Field,
    Section,
    boolean,
    dataclass_defaults,
    dataclass_section,
    equal_to,
    int_between,
    load_yaml,
    number_between,
    one_of,
    text,
    validate,
)


class PeKind(enum.Enum):
    BITFUSION = "bitfusion"  # Sharma et al. ISCA 2018: 2-bit BitBricks fused spatially/temporally
    FIXED = "fixed"  # one multiplier of a fixed width per PE (Eyeriss/TPU-like)
    BIT_SERIAL = "bit_serial"  # Stripes-like: time proportional to activation bits


class Dataflow(enum.Enum):
    """How layers map onto the array (`array.dataflow`).

    BITFUSION is the mapping of the Bit Fusion simulator (rows reduce over input channels,
    columns hold output channels, tiles from the tiling search). OS/WS/IS are the output-,
    weight- and input-stationary systolic dataflows as SCALE-Sim models them (Samajdar et al.,
    ISPASS 2020); see `hwsim.mapping.dataflow`.
    """

    BITFUSION = "bitfusion"
    OS = "os"
    WS = "ws"
    IS = "is"


@dataclass(frozen=True, slots=True)
class ArrayConfig:
    rows: int  # PEs per column; rows reduce over input channels
    cols: int  # PEs per row; columns hold different output channels
    dataflow: Dataflow = Dataflow.BITFUSION


@dataclass(frozen=True, slots=True)
class PeConfig:
    """One processing element; which fields matter depends on `kind` (see `hwsim.hardware.pe`).

    Attributes:
        kind: bitfusion, fixed or bit_serial.
        brick_bits, spatial_max_bits: the BitBrick nesting of a bitfusion PE.
        bricks_per_unit: the units utilization is measured against: a bitfusion PE's
            BitBricks, 1 for a fixed PE (its multiplier), a bit-serial PE's lanes (Stripes:
            16 products at a time, one activation bit per cycle each).
        temporal_max_bits: the widest operand the PE runs at all (by extra passes), for a
            bit-serial PE the widest activation.
        multiplier_bits: operand width of a fixed PE's multiplier; the weight width of a
            bit-serial PE's lanes.
    """

    kind: PeKind
    brick_bits: int = 2
    bricks_per_unit: int = 16
    spatial_max_bits: int = 8
    temporal_max_bits: int = 32
    multiplier_bits: int = 8


@dataclass(frozen=True, slots=True)
class BufferConfig:
    size_bytes: int
    double_buffered: bool = True

    @property
    def tile_capacity_bits(self) -> int:
        """Bits one tile may occupy: half the buffer when double buffered."""
        bits = self.size_bytes * 8
        return bits // 2 if self.double_buffered else bits


@dataclass(frozen=True, slots=True)
class BuffersConfig:
    input: BufferConfig
    weight: BufferConfig
    output: BufferConfig


@dataclass(frozen=True, slots=True)
class DramConfig:
    bandwidth_bits_per_cycle: int


@dataclass(frozen=True, slots=True)
class SramEnergy:
    read_pj_per_bit: float
    write_pj_per_bit: float


@dataclass(frozen=True, slots=True)
class EnergyTable:
    """Energy per action; the timing code counts actions, only `hwsim.cost.energy` multiplies."""

    compute_pj_per_fu_cycle: float
    input_sram: SramEnergy
    weight_sram: SramEnergy
    output_sram: SramEnergy
    dram_pj_per_bit: float
    source: str
    leakage_pj_per_cycle: float = 0.0  # derived from `technology` when the arch has one
    leakage_source: str = ""


@dataclass(frozen=True, slots=True)
class AreaTable:
    fu_um2: float
    sram_um2_per_kib: float
    source: str


class MappingObjective(enum.Enum):
    """What the tiling search minimises (the mapping a compiler for the chip would choose)."""

    LATENCY = "latency"  # fastest; equal latency -> least energy (the authors' simulator)
    ENERGY = "energy"  # least energy; equal energy -> fastest
    EDP = "edp"  # least energy x latency; then least energy


@dataclass(frozen=True, slots=True)
class MappingPolicy:
    """Modelling choices that differ between real hardware and the authors' simulator.

    Attributes:
        objective: what the tiling search minimises per layer (`MappingObjective`).
        latency_slack: with the latency objective, take the least-energy mapping among those
            within (1 + slack) of the fastest (0: strictly fastest, energy breaks ties).
        full_width_tiles: channel tiles narrower than the array (idle rows or columns) only
            when no full-width tile fits the buffers, as a compiler filling the array would
            (and as the authors' compute-cycle formula assumes); false lets the search trade
            idle columns for a smaller exposed first load.
        pow2_edge_tiles, fetch_padding_halo, input_reads_per_multiply, serial_small_layers:
            conventions of the authors' simulator (`hwsim.mapping.tiling.Conventions`; one
            input-buffer read per multiply instead of one per array row per pass; a layer
            whose operands all fit the buffers is loaded whole before computing, no overlap);
            all false for real hardware. docs/validation.md gives each one's effect.
        keep_activations_on_chip: a layer's output stays in the activation (input) buffer,
            skipping the DRAM round trip, when it fits there together with the layer's input
            and any residual tensor still live (`hwsim.workload.activations`); otherwise it
            spills to DRAM.
        activation_bits: width activations are stored at (on chip and in DRAM); 0 is the
            widest width any reader of the tensor uses.
        requantize_outputs: final outputs are written at the activation width (the hardware
            requantizes); false writes them as partial sums (psum_bits), as the authors do.
        psum_bits: width of partial sums and of outputs written to DRAM.
        output_read_before_write: read every output tile from DRAM before each write
            (the authors' simulator does, even on the first pass); when false, partial sums
            are read back only when the input-channel loop is split across tiles.
        im2col_first_layer: lower the network's first conv layer with im2col.
    """

    psum_bits: int = 32
    output_read_before_write: bool = False
    im2col_first_layer: bool = True
    objective: MappingObjective = MappingObjective.LATENCY
    latency_slack: float = 0.0
    full_width_tiles: bool = True
    pow2_edge_tiles: bool = False
    fetch_padding_halo: bool = False
    input_reads_per_multiply: bool = False
    serial_small_layers: bool = False
    keep_activations_on_chip: bool = False
    activation_bits: int = 0
    requantize_outputs: bool = False

    @property
    def authors_conventions(self) -> tuple[str, ...]:
        """The analytic-only conventions of the authors' simulator this policy turns on."""
        names = ("pow2_edge_tiles", "fetch_padding_halo", "input_reads_per_multiply",
                 "serial_small_layers")
        return tuple(name for name in names if getattr(self, name))

    def physical(self) -> MappingPolicy:
        """The same policy with every convention of the authors' simulator off."""
        return dataclasses.replace(self, **dict.fromkeys(self.authors_conventions, False))


@dataclass(frozen=True, slots=True)
class ArchConfig:
    name: str
    array: ArrayConfig
    pe: PeConfig
    buffers: BuffersConfig
    dram: DramConfig
    frequency_mhz: float
    energy: EnergyTable
    area: AreaTable
    mapping: MappingPolicy = MappingPolicy()
    technology: Technology | None = None

    @property
    def fu_count(self) -> int:
        return self.array.rows * self.array.cols

    @property
    def sram_kib(self) -> float:
        b = self.buffers
        return (b.input.size_bytes + b.weight.size_bytes + b.output.size_bytes) / 1024


# --- loading -----------------------------------------------------------------------------------

ARCH_SCHEMA_VERSION = 1
_BUFFER_NAMES = ("input", "weight", "output")


def _is_power_of_two(value: int) -> bool:
    return value > 0 and value & (value - 1) == 0


def _ratio_problem(value: int, unit: int) -> str | None:
    if value % unit == 0 and _is_power_of_two(value // unit):
        return None
    return f"must be a power-of-two multiple of {unit}"


def _pe_rule(clean: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """Per-kind consistency of the PE fields.

    bitfusion: bit widths nest, bricks inside a spatially fused unit inside temporal fusion; a
    unit of `spatial_max_bits` built from `brick_bits` BitBricks holds (spatial_max_bits /
    brick_bits)^2 bricks: 16 2-bit bricks for 8 bits (Sharma et al., ISCA 2018, Sec. III).
    fixed: one multiplier (bricks_per_unit 1); wider operands take power-of-two extra passes.
    bit_serial: bricks_per_unit is the lane count; widths are free (time = activation bits).
    """
    pe = {**dataclass_defaults(PeConfig), **clean}
    kind, temporal = pe["kind"], pe["temporal_max_bits"]
    if kind == PeKind.FIXED.value:
        yield from _fixed_pe_rule(pe)
    elif kind == PeKind.BIT_SERIAL.value:
        return
    elif (message := _ratio_problem(pe["spatial_max_bits"], pe["brick_bits"])) is not None:
        yield "spatial_max_bits", f"{message} (brick_bits)", pe["spatial_max_bits"]
    elif (message := _ratio_problem(temporal, pe["spatial_max_bits"])) is not None:
        yield "temporal_max_bits", f"{message} (spatial_max_bits)", temporal
    elif pe["bricks_per_unit"] != (pe["spatial_max_bits"] // pe["brick_bits"]) ** 2:
        yield ("bricks_per_unit", f"must be (spatial_max_bits / brick_bits)^2 = "
               f"{(pe['spatial_max_bits'] // pe['brick_bits']) ** 2} for a bitfusion PE",
               pe["bricks_per_unit"])


def _fixed_pe_rule(pe: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    if pe["bricks_per_unit"] != 1:
        yield ("bricks_per_unit", "must be 1 for a fixed PE (its one multiplier)",
               pe["bricks_per_unit"])
    if (message := _ratio_problem(pe["temporal_max_bits"], pe["multiplier_bits"])) is not None:
        yield "temporal_max_bits", f"{message} (multiplier_bits)", pe["temporal_max_bits"]


def _dataflow_rule(clean: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """SCALE-Sim's systolic dataflows model one multiply-accumulate per PE per cycle."""
    dataflow = clean["array"].get("dataflow", Dataflow.BITFUSION.value)
    if dataflow != Dataflow.BITFUSION.value and clean["pe"]["kind"] != PeKind.FIXED.value:
        yield ("array.dataflow", f"the {dataflow!r} dataflow needs a fixed PE (pe.kind: fixed); "
               f"use 'bitfusion' for a {clean['pe']['kind']} PE", dataflow)


def _energy_rule(clean: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    if clean.get("leakage_pj_per_cycle", 0.0) > 0 and not clean.get("leakage_source", "").strip():
        yield ("leakage_source", "must say where leakage_pj_per_cycle comes from when it is not 0",
               clean.get("leakage_source", ""))


def _technology_rule(clean: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    if "technology" in clean and "leakage_pj_per_cycle" in clean["energy"]:
        yield ("energy.leakage_pj_per_cycle", "is derived from technology.fu_leakage_mw and "
               "technology.sram_leakage_mw_per_kib when the arch has a technology section; "
               "remove it", clean["energy"]["leakage_pj_per_cycle"])


def _slack_rule(clean: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    if clean.get("latency_slack", 0.0) > 0 and clean.get("objective", "latency") != "latency":
        yield ("latency_slack", "applies only to objective: latency (set it to 0 or remove it)",
               clean["latency_slack"])


# Upper bounds keep every product of the cost model finite and inside int64.
MAX_ARRAY_SIDE = 1 << 16
MAX_BYTES = 1 << 40
MAX_PJ = 1e6  # per bit or per cycle: well above any technology
_PJ = number_between(0.0, MAX_PJ)
_SRAM_ENERGY = Section({"read": Field(_PJ), "write": Field(_PJ)})

_ARCH_SPEC = dataclass_section(ArchConfig, {
    "schema_version": Field(equal_to(ARCH_SCHEMA_VERSION, "the only version this hwsim reads")),
    "name": Field(text),
    "description": Field(text, required=False),
    "frequency_mhz": Field(number_between(1e-3, 1e6)),
    "array": dataclass_section(ArrayConfig, {
        "rows": Field(int_between(1, MAX_ARRAY_SIDE)),
        "cols": Field(int_between(1, MAX_ARRAY_SIDE)),
        "dataflow": Field(one_of(*(flow.value for flow in Dataflow)))}),
    "pe": dataclass_section(PeConfig, {
        "kind": Field(one_of(*(kind.value for kind in PeKind))),
        "brick_bits": Field(one_of(1, 2, 4)),
        "bricks_per_unit": Field(int_between(1, 1 << 12)),
        "spatial_max_bits": Field(int_between(1, 64)),
        "temporal_max_bits": Field(int_between(1, 64)),
        "multiplier_bits": Field(int_between(1, 64)),
    }, rules=(_pe_rule,)),
    "buffers": Section({name: dataclass_section(BufferConfig, {
        "size_bytes": Field(int_between(1, MAX_BYTES)), "double_buffered": Field(boolean)})
        for name in _BUFFER_NAMES}),
    "dram": dataclass_section(DramConfig, {
        "bandwidth_bits_per_cycle": Field(int_between(1, MAX_BYTES))}),
    "mapping": dataclass_section(MappingPolicy, {
        "psum_bits": Field(int_between(8, 64)),
        "output_read_before_write": Field(boolean),
        "im2col_first_layer": Field(boolean),
        "objective": Field(one_of(*(o.value for o in MappingObjective))),
        "latency_slack": Field(number_between(0.0, 1.0)),
        "full_width_tiles": Field(boolean),
        "pow2_edge_tiles": Field(boolean),
        "fetch_padding_halo": Field(boolean),
        "input_reads_per_multiply": Field(boolean),
        "serial_small_layers": Field(boolean),
        "keep_activations_on_chip": Field(boolean),
        "activation_bits": Field(int_between(0, 64)),
        "requantize_outputs": Field(boolean),
    }, rules=(_slack_rule,)),
    "energy": dataclass_section(EnergyTable, {
        "source": Field(text),
        "compute_pj_per_fu_cycle": Field(_PJ),
        "sram_pj_per_bit": Section({name: _SRAM_ENERGY for name in _BUFFER_NAMES}),
        "dram_pj_per_bit": Field(_PJ),
        "leakage_pj_per_cycle": Field(number_between(0.0, MAX_PJ * MAX_ARRAY_SIDE)),
        "leakage_source": Field(text),
    }, rules=(_energy_rule,)),
    "area": dataclass_section(AreaTable, {
        "fu_um2": Field(number_between(1e-6, 1e12)),
        "sram_um2_per_kib": Field(number_between(1e-6, 1e12)),
        "source": Field(text),
    }),
    "technology": TECHNOLOGY_SPEC,
}, rules=(_dataflow_rule, _technology_rule))


def _energy_from(clean: dict[str, Any]) -> EnergyTable:
    sram = {name: SramEnergy(float(pair["read"]), float(pair["write"]))
            for name, pair in clean["sram_pj_per_bit"].items()}
    return EnergyTable(
        compute_pj_per_fu_cycle=float(clean["compute_pj_per_fu_cycle"]),
        input_sram=sram["input"], weight_sram=sram["weight"], output_sram=sram["output"],
        dram_pj_per_bit=float(clean["dram_pj_per_bit"]),
        leakage_pj_per_cycle=float(clean.get("leakage_pj_per_cycle", 0.0)),
        source=clean["source"], **({"leakage_source": clean["leakage_source"]}
                                   if "leakage_source" in clean else {}))


def _mapping_from(clean: dict[str, Any]) -> MappingPolicy:
    values = dict(clean)
    if "objective" in values:
        values["objective"] = MappingObjective(values["objective"])
    if "latency_slack" in values:
        values["latency_slack"] = float(values["latency_slack"])
    return MappingPolicy(**values)


def _arch_from_clean(clean: dict[str, Any]) -> ArchConfig:
    area = clean["area"]
    return ArchConfig(
        name=clean["name"],
        array=ArrayConfig(**{**clean["array"],
                             "dataflow": Dataflow(clean["array"].get("dataflow", "bitfusion"))}),
        pe=PeConfig(**{**clean["pe"], "kind": PeKind(clean["pe"]["kind"])}),
        buffers=BuffersConfig(**{name: BufferConfig(**clean["buffers"][name])
                                 for name in _BUFFER_NAMES}),
        dram=DramConfig(**clean["dram"]),
        frequency_mhz=float(clean["frequency_mhz"]),
        energy=_energy_from(clean["energy"]),
        area=AreaTable(float(area["fu_um2"]), float(area["sram_um2_per_kib"]), area["source"]),
        **({"mapping": _mapping_from(clean["mapping"])} if "mapping" in clean else {}),
        technology=(technology_from_clean(clean["technology"]) if "technology" in clean
                    else None),
    )


def arch_from_dict(data: Any, where: str) -> ArchConfig:
    """Validate YAML-shaped data and build the ArchConfig it describes.

    Args:
        data: the parsed YAML document (see arch_configs/*.yaml for the layout).
        where: the file name (or other origin) to prefix every problem with.

    Raises:
        ConfigError: listing every problem as `where: dotted.key: what is wrong (got value)`.
    """
    return _arch_from_clean(validate(data, _ARCH_SPEC, where))


def load_arch(path: str | os.PathLike[str],
              overrides: tuple[str, ...] = ()) -> ArchConfig:
    """Read and validate an architecture YAML file, with `KEY=VALUE` overrides applied first.

    Overrides use the YAML's dotted keys and YAML values (`dram.bandwidth_bits_per_cycle=1e12`
    is a string, write the integer); the result is validated like the file itself.

    Raises:
        ConfigError: the file is missing or malformed, an override is not `KEY=VALUE` or names
            no place in the file, or any value is invalid.
    """
    data = load_yaml(path)
    where = str(path)
    if overrides:
        data = apply_overrides(data, overrides, where)
        where = f"{path} with --set {' '.join(overrides)}"
    return arch_from_dict(data, where=where)


def apply_overrides(data: Any, overrides: tuple[str, ...], where: str) -> Any:
    """A copy of YAML-shaped `data` with each `dotted.key=value` set (value parsed as YAML)."""
    data = copy.deepcopy(data)
    for item in overrides:
        key, sep, text_value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE with a dotted key of "
                              f"{where}, e.g. dram.bandwidth_bits_per_cycle=256")
        try:
            value = yaml.safe_load(text_value)
        except yaml.YAMLError as err:
            raise ConfigError(f"--set {item!r}: the value is not a YAML scalar ({err})") from None
        node = data
        *parents, leaf = key.strip().split(".")
        for depth, part in enumerate(parents):
            if not isinstance(node, dict) or part not in node:
                known = ", ".join(map(str, node)) if isinstance(node, dict) else "(a value)"
                raise ConfigError(f"--set {item!r}: {where} has no "
                                  f"{'.'.join(parents[:depth + 1])!r}; its keys there: {known}")
            node = node[part]
        if not isinstance(node, dict):
            raise ConfigError(f"--set {item!r}: {'.'.join(parents)!r} in {where} is a value, "
                              "not a section")
        node[leaf] = value  # unknown leaves are reported by validation, with a did-you-mean
    return data


def _buffer_to_dict(buffer: BufferConfig) -> dict[str, Any]:
    return {"size_bytes": buffer.size_bytes, "double_buffered": buffer.double_buffered}


def _energy_to_dict(energy: EnergyTable, derived_leakage: bool) -> dict[str, Any]:
    sram = {"input": energy.input_sram, "weight": energy.weight_sram,
            "output": energy.output_sram}
    return {
        "source": energy.source,
        "compute_pj_per_fu_cycle": energy.compute_pj_per_fu_cycle,
        "sram_pj_per_bit": {name: {"read": table.read_pj_per_bit, "write": table.write_pj_per_bit}
                            for name, table in sram.items()},
        "dram_pj_per_bit": energy.dram_pj_per_bit,
        **({} if derived_leakage else {"leakage_pj_per_cycle": energy.leakage_pj_per_cycle}),
        "leakage_source": energy.leakage_source,
    }


def arch_to_dict(arch: ArchConfig) -> dict[str, Any]:
    """The fully resolved arch (defaults filled in) in the YAML layout, plain JSON types only.

    `arch_from_dict(arch_to_dict(arch), where)` returns an equal ArchConfig.
    """
    pe, mapping = arch.pe, arch.mapping
    return {
        "schema_version": ARCH_SCHEMA_VERSION,
        "name": arch.name,
        "frequency_mhz": arch.frequency_mhz,
        "array": {"rows": arch.array.rows, "cols": arch.array.cols,
                  "dataflow": arch.array.dataflow.value},
        "pe": {"kind": pe.kind.value, "brick_bits": pe.brick_bits,
               "bricks_per_unit": pe.bricks_per_unit, "spatial_max_bits": pe.spatial_max_bits,
               "temporal_max_bits": pe.temporal_max_bits,
               "multiplier_bits": pe.multiplier_bits},
        "buffers": {name: _buffer_to_dict(getattr(arch.buffers, name)) for name in _BUFFER_NAMES},
        "dram": {"bandwidth_bits_per_cycle": arch.dram.bandwidth_bits_per_cycle},
        "mapping": {"psum_bits": mapping.psum_bits,
                    "output_read_before_write": mapping.output_read_before_write,
                    "im2col_first_layer": mapping.im2col_first_layer,
                    "objective": mapping.objective.value,
                    "latency_slack": mapping.latency_slack,
                    "full_width_tiles": mapping.full_width_tiles,
                    "pow2_edge_tiles": mapping.pow2_edge_tiles,
                    "fetch_padding_halo": mapping.fetch_padding_halo,
                    "input_reads_per_multiply": mapping.input_reads_per_multiply,
                    "serial_small_layers": mapping.serial_small_layers,
                    "keep_activations_on_chip": mapping.keep_activations_on_chip,
                    "activation_bits": mapping.activation_bits,
                    "requantize_outputs": mapping.requantize_outputs},
        "energy": _energy_to_dict(arch.energy, derived_leakage=arch.technology is not None),
        "area": {"fu_um2": arch.area.fu_um2, "sram_um2_per_kib": arch.area.sram_um2_per_kib,
                 "source": arch.area.source},
        **({"technology": technology_to_dict(arch.technology)} if arch.technology else {}),
    }
