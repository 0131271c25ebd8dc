"""Evaluating a sweep: one result row per (arch point, trace), and the CSV columns.

Each (point, trace) is simulated with `simulate_network` on the trace's decisions and summarised
with `hwsim.report.input_stats`, as `run` does. Layer costs are cached per process on (layer
geometry, bits, sub-batch, arch point), so a point costs what the distinct combinations in the
trace cost, whatever its number of inputs; each trace is loaded once per worker process. The spec
and the points are `hwsim.explore.sweep_spec`; the command around them is `hwsim.cli.sweep`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from hwsim.cost.energy import COMPONENTS
from hwsim.cost.timing import TimingKind
from hwsim.errors import MappingError, TraceError
from hwsim.explore.sweep_spec import SweepPoint
from hwsim.hardware.arch import ArchConfig, arch_to_dict
from hwsim.report import PERCENTILES, input_stats
from hwsim.simulation import Decisions, SimulationResult, simulate_network

STATUS_OK = "ok"

KEY_COLUMNS = ("point", "arch_sha256", "trace", "trace_sha256", "batch", "timing")
_ARCH_COLUMNS = ("status", "base_arch", "network", "cp_target", "cp_measured",
                 "cp_flop_weighted", "accuracy", "array_rows", "array_cols", "fu_count",
                 "frequency_mhz", "dram_bandwidth_bits_per_cycle", "input_sram_bytes",
                 "weight_sram_bytes", "output_sram_bytes", "area_fu_mm2", "area_sram_mm2",
                 "area_total_mm2")
_STAT_COLUMNS = ("inputs", *(f"{name}_{stat}" for name in
                             ("latency_cycles", "latency_us", "energy_uj")
                             for stat in ("mean", *(f"p{q}" for q in PERCENTILES))))
_ENERGY_COLUMNS = tuple(f"energy_{c.removesuffix('_pj')}_uj_mean" for c in COMPONENTS)
_DERIVED_COLUMNS = ("compute_cycles_mean", "stall_cycles_mean", "dram_bytes_mean",
                    "fu_utilization", "brick_utilization", "edp_uj_us")
COLUMNS = KEY_COLUMNS + _ARCH_COLUMNS + _STAT_COLUMNS + _ENERGY_COLUMNS + _DERIVED_COLUMNS
"""The sweep CSV header: units in every name (cycles, us, uJ, bytes, mm2; cp, accuracy and
utilization are fractions); `edp_uj_us` = mean energy per input x mean latency per input."""


@dataclass(frozen=True, slots=True)
class TraceRef:
    """A trace as the sweep saw it when it started; workers check they read the same bytes."""

    path: str
    sha256: str


@dataclass(frozen=True, slots=True)
class SweepTask:
    """One arch point and the traces it still needs (one row each)."""

    point: SweepPoint
    base_arch: str
    traces: tuple[TraceRef, ...]
    batch: int
    timing: TimingKind


@dataclass(frozen=True, slots=True)
class Area:
    fu_mm2: float
    sram_mm2: float

    @property
    def total_mm2(self) -> float:
        return self.fu_mm2 + self.sram_mm2


# --- evaluation --------------------------------------------------------------------------------


def area_of(arch: ArchConfig) -> Area:
    """Silicon area from the arch's area table: Fusion Units plus all three SRAMs."""
    buffers = arch.buffers
    sram_kib = (buffers.input.size_bytes + buffers.weight.size_bytes
                + buffers.output.size_bytes) / 1024
    return Area(arch.fu_count * arch.area.fu_um2 / 1e6, sram_kib * arch.area.sram_um2_per_kib / 1e6)


def arch_sha256(arch: ArchConfig) -> str:
    """A digest of the fully resolved arch, so a resumed sweep never reuses a stale row."""
    canonical = json.dumps(arch_to_dict(arch), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex digest of a file's bytes as stored (equal to `Trace.sha256`)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise TraceError(f"{path}:1: cannot read the trace ({exc.strerror}); "
                         "check the path") from None
    return digest.hexdigest()


@functools.lru_cache(maxsize=16)
def _cached_trace(ref: TraceRef) -> Any:
    from hwsim.workload.trace import load_trace

    trace = load_trace(ref.path)
    if trace.num_inputs == 0:
        raise TraceError(f"{ref.path}: the trace has no input records, so there is nothing "
                         "to simulate; export or synthesize at least one input")
    if trace.sha256 != ref.sha256:
        raise TraceError(f"{ref.path}:1: the file changed since the sweep started (or this "
                         "worker sees another file); re-run the sweep")
    return trace


def format_cell(value: Any) -> str:
    """How every CSV cell is written: shortest round-trip floats, so reruns are byte-equal."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _result_columns(result: SimulationResult) -> dict[str, Any]:
    stats, per_input = input_stats(result), result.per_input
    row: dict[str, Any] = {key: stats[key] for key in _STAT_COLUMNS}
    row["inputs"] = int(stats["inputs"])
    for column, component in zip(_ENERGY_COLUMNS, COMPONENTS, strict=True):
        row[column] = float(per_input[component].mean()) / 1e6
    cycles = float((per_input["compute_cycles"] + per_input["stall_cycles"]).sum())
    bricks = result.arch.fu_count * result.arch.pe.bricks_per_unit
    row.update(compute_cycles_mean=float(per_input["compute_cycles"].mean()),
               stall_cycles_mean=float(per_input["stall_cycles"].mean()),
               dram_bytes_mean=float(per_input["dram_bits"].mean()) / 8,
               fu_utilization=float(per_input["busy_fus"].sum()) / (result.arch.fu_count * cycles),
               brick_utilization=float(per_input["busy_bricks"].sum()) / (bricks * cycles),
               edp_uj_us=stats["energy_uj_mean"] * stats["latency_us_mean"])
    return row


def _arch_columns(task: SweepTask, ref: TraceRef, trace: Any) -> dict[str, Any]:
    arch, area, cp = task.point.arch, area_of(task.point.arch), trace.header.cp
    return {"point": task.point.name, "arch_sha256": arch_sha256(arch), "trace": ref.path,
            "trace_sha256": ref.sha256, "batch": task.batch, "timing": task.timing.value,
            "base_arch": task.base_arch, "network": trace.header.network.name,
            "cp_target": cp.target, "cp_measured": cp.measured,
            "cp_flop_weighted": cp.measured_flop_weighted, "accuracy": cp.accuracy,
            "array_rows": arch.array.rows, "array_cols": arch.array.cols,
            "fu_count": arch.fu_count, "frequency_mhz": arch.frequency_mhz,
            "dram_bandwidth_bits_per_cycle": arch.dram.bandwidth_bits_per_cycle,
            "input_sram_bytes": arch.buffers.input.size_bytes,
            "weight_sram_bytes": arch.buffers.weight.size_bytes,
            "output_sram_bytes": arch.buffers.output.size_bytes,
            "area_fu_mm2": area.fu_mm2, "area_sram_mm2": area.sram_mm2,
            "area_total_mm2": area.total_mm2}


def evaluate_row(task: SweepTask, ref: TraceRef) -> dict[str, str]:
    """One CSV row: the point on one trace. A mapping that does not fit is a row, not an error.

    Raises:
        TraceError: the trace is unreadable or changed since the sweep started.
    """
    trace = _cached_trace(ref)
    row = _arch_columns(task, ref, trace)
    try:
        result = simulate_network(trace.header.network, Decisions(trace.act_bits, trace.wgt_bits),
                                  task.point.arch, task.batch, task.timing)
    except MappingError as err:
        row["status"] = "unmappable: " + " ".join(str(err).split())
    else:
        row["status"] = STATUS_OK
        row.update(_result_columns(result))
    return {column: format_cell(row.get(column)) for column in COLUMNS}


def evaluate_task(task: SweepTask) -> tuple[int, tuple[dict[str, str], ...]]:
    """(point index, one row per trace of the task); the unit of work sent to a worker."""
    return task.point.index, tuple(evaluate_row(task, ref) for ref in task.traces)


def row_key(row: Mapping[str, str]) -> tuple[str, ...]:
    """What makes two rows the same result: point, arch and trace digests, batch, timing."""
    return tuple(row[column] for column in KEY_COLUMNS)


def task_keys(task: SweepTask) -> Iterator[tuple[str, ...]]:
    """The row keys a task will produce, in the order it produces them."""
    for ref in task.traces:
        yield (task.point.name, arch_sha256(task.point.arch), ref.path, ref.sha256,
               str(task.batch), task.timing.value)
