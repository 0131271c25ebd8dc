"""`python -m hwsim compare`: one workload on several architectures, side by side.

Each arch runs the same workload (a trace, a benchmark or a SCALE-Sim topology) at the same batch
through the same engine; the table holds per-input cycles, energy and utilization per arch, with
speedup and energy reduction against the FIRST arch (first arch cycles / this arch's cycles, first
arch energy / this arch's energy: above 1 means this arch is better). `--out DIR` writes the same
rows to DIR/compare.csv atomically.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass

from hwsim.cli.run import add_workload_arguments, load_workload
from hwsim.cost.energy import COMPONENTS
from hwsim.cost.timing import TimingKind
from hwsim.errors import HwsimError, MappingError
from hwsim.hardware.arch import ArchConfig, load_arch
from hwsim.report import csv_rows_text, format_table, json_text, write_outputs
from hwsim.shipped import resolve
from hwsim.simulation import Decisions, SimulationResult, simulate_network
from hwsim.workload.layer import Network


@dataclass(frozen=True, slots=True)
class ArchComparison:
    """One arch's per-input means on the shared workload, and its ratios to the first arch.

    `latency_cycles` is what an input waits (its whole group's latency, as in `run`); compute,
    stall and energy are each input's share of its group's cost.
    """

    arch: str
    pe_kind: str
    dataflow: str
    pe_count: int
    latency_cycles: float
    compute_cycles: float
    stall_cycles: float
    latency_us: float
    energy_pj: float
    dram_energy_pj: float
    fu_utilization: float  # PE-cycles the products need / (PEs x total cycles)
    brick_utilization: float  # bit-level units busy / (units x total cycles)
    speedup: float  # first arch's latency / this latency
    energy_reduction: float  # first arch's energy / this energy


CSV_HEADERS = {  # field -> CSV header (units in every name)
    "arch": "arch", "pe_kind": "pe_kind", "dataflow": "dataflow", "pe_count": "pe_count",
    "latency_cycles": "latency_cycles_per_input", "compute_cycles": "compute_cycles_per_input",
    "stall_cycles": "stall_cycles_per_input", "latency_us": "latency_us_per_input",
    "energy_pj": "energy_pj_per_input", "dram_energy_pj": "energy_dram_pj_per_input",
    "fu_utilization": "pe_utilization", "brick_utilization": "brick_utilization",
    "speedup": "speedup_vs_first", "energy_reduction": "energy_reduction_vs_first",
}


def _summarize(result: SimulationResult) -> dict[str, float]:
    """Per-input means of one result: cycles, energy and the two utilizations."""
    arch, per_input = result.arch, result.per_input
    latency = float(per_input["latency_cycles"].mean())
    busy_fus = float(per_input["busy_fus"].mean())
    busy_bricks = float(per_input["busy_bricks"].mean())
    cycles = float((per_input["compute_cycles"] + per_input["stall_cycles"]).mean())
    return {
        "latency_cycles": latency,
        "compute_cycles": float(per_input["compute_cycles"].mean()),
        "stall_cycles": float(per_input["stall_cycles"].mean()),
        "latency_us": latency / arch.frequency_mhz,
        "energy_pj": float(sum(per_input[c] for c in COMPONENTS).mean()),
        "dram_energy_pj": float(per_input["dram_pj"].mean()),
        "fu_utilization": busy_fus / (arch.fu_count * cycles) if cycles else 0.0,
        "brick_utilization": (busy_bricks / (arch.fu_count * arch.pe.bricks_per_unit * cycles)
                              if cycles else 0.0),
    }


def compare_archs(results: list[SimulationResult]) -> list[ArchComparison]:
    """Rows of the comparison, ratios taken against the first result.

    Raises:
        HwsimError: no results, or a first arch whose latency or energy is zero.
    """
    if not results:
        raise HwsimError("compare needs at least one arch")
    summaries = [_summarize(result) for result in results]
    first = summaries[0]
    if first["latency_cycles"] <= 0 or first["energy_pj"] <= 0:
        raise HwsimError(f"{results[0].arch.name}: the workload costs nothing (every layer "
                         f"skipped?); nothing to compare against")
    return [ArchComparison(
        arch=result.arch.name, pe_kind=result.arch.pe.kind.value,
        dataflow=result.arch.array.dataflow.value, pe_count=result.arch.fu_count, **summary,
        speedup=first["latency_cycles"] / summary["latency_cycles"],
        energy_reduction=first["energy_pj"] / summary["energy_pj"])
        for result, summary in zip(results, summaries, strict=True)]


def csv_rows(rows: list[ArchComparison]) -> list[dict[str, object]]:
    return [{CSV_HEADERS[key]: value for key, value in asdict(row).items()} for row in rows]


def format_comparison(rows: list[ArchComparison]) -> str:
    headers = ["arch", "PE kind", "dataflow", "PEs", "latency cyc", "compute cyc/in",
               "stall cyc/in", "latency us", "uJ/input", "DRAM uJ/in", "util PE", "util brick",
               "speedup", "energy red."]
    body = [[r.arch, r.pe_kind, r.dataflow, str(r.pe_count), f"{r.latency_cycles:,.0f}",
             f"{r.compute_cycles:,.0f}", f"{r.stall_cycles:,.0f}", f"{r.latency_us:,.2f}",
             f"{r.energy_pj / 1e6:,.3f}",
             f"{r.dram_energy_pj / 1e6:,.3f}", f"{100 * r.fu_utilization:.1f}%",
             f"{100 * r.brick_utilization:.1f}%", f"{r.speedup:.2f}x",
             f"{r.energy_reduction:.2f}x"] for r in rows]
    return format_table(headers, body)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="one workload on several archs: cycles, energy, ratios")
    p.add_argument("--arch", nargs="+", required=True,
                   help="arch YAMLs; ratios are against the first")
    add_workload_arguments(p)
    p.add_argument("--timing", choices=["analytic", "event"], default="analytic")
    p.add_argument("--out", help="directory for compare.csv")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("--no-progress", action="store_true", help="never show progress bars")


def _simulate(path: str, arch: ArchConfig, network: Network, decisions: Decisions,
              args: argparse.Namespace) -> SimulationResult:
    try:
        return simulate_network(network, decisions, arch, args.batch, TimingKind(args.timing))
    except MappingError as err:
        raise MappingError(f"{path}: {err}") from None


def run(args: argparse.Namespace) -> int:
    if args.batch < 1:
        raise HwsimError(f"--batch must be >= 1 (got {args.batch})")
    args.arch = [str(resolve("arch", value, "--arch")) for value in args.arch]
    archs = [load_arch(path) for path in args.arch]  # every file validated before simulating
    workload = load_workload(args)
    results = [_simulate(path, arch, workload.network, workload.decisions, args)
               for path, arch in zip(args.arch, archs, strict=True)]
    rows = compare_archs(results)
    if args.out:
        write_outputs(args.out, {"compare.csv": lambda: csv_rows_text(csv_rows(rows))})
    if args.format == "json":
        print(json_text({"network": workload.network.name, "workload": workload.source,
                         "batch": args.batch, "archs": [asdict(row) for row in rows]}), end="")
    else:
        print(f"{workload.network.name}: {workload.decisions.count} inputs, batch {args.batch}, "
              f"ratios against {archs[0].name}")
        print(format_comparison(rows))
    return 0
