"""The bodies of `run`, `validate` and `synth-trace`: I/O around the pure simulation."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from hwsim import __version__
from hwsim.cost.timing import TimingKind
from hwsim.errors import HwsimError, MappingError
from hwsim.hardware.arch import ArchConfig, arch_to_dict, load_arch
from hwsim.report import (
    columns_csv_text,
    compare,
    csv_rows_text,
    format_layer_table,
    format_summary,
    input_columns,
    input_stats,
    json_text,
    layer_rows,
    mean_cycles,
    write_outputs,
)
from hwsim.shipped import resolve
from hwsim.simulation import Decisions, SimulationResult, simulate_network, static_variant
from hwsim.workload.layer import FULL, Network, Precision

EIGHT_BIT = Precision(8, 8)


@dataclass(frozen=True, slots=True)
class Workload:
    """What `run` simulates: a network, per-input decisions, and where they came from."""

    network: Network
    decisions: Decisions
    ids: np.ndarray
    labels: np.ndarray
    predictions: np.ndarray
    source: dict


MAX_STATIC_INPUTS = 10_000_000
MAX_BATCH = 1 << 20


def add_workload_arguments(parser: argparse.ArgumentParser) -> None:
    """--trace | --benchmark | --topology (+ --act-bits/--wgt-bits), --inputs and --batch."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--trace", help="hwsim trace (.jsonl or .jsonl.gz), or the name of a "
                                        "shipped one, e.g. resnet74_cp20 (`hwsim list`)")
    source.add_argument("--benchmark", help="a Bit Fusion benchmark network, e.g. lenet5")
    source.add_argument("--topology", help="a SCALE-Sim topology CSV (needs --act-bits/--wgt-bits)")
    parser.add_argument("--act-bits", type=int, help="activation bits for --topology")
    parser.add_argument("--wgt-bits", type=int, help="weight bits for --topology")
    parser.add_argument("--inputs", type=int, default=None,
                        help="inputs of a --benchmark or --topology workload (default 1; use "
                             "the batch size); a trace has its own")
    parser.add_argument("--batch", type=int, default=1,
                        help="group N consecutive inputs (default 1: dynamic, per-input inference)")


def _show_progress(args: argparse.Namespace) -> bool:
    return not args.no_progress and sys.stderr.isatty()


def _refuse_ignored(args: argparse.Namespace) -> None:
    """An option that the chosen workload would ignore is an error, not a silent surprise."""
    source = "--trace" if args.trace else "--benchmark" if args.benchmark else "--topology"
    ignored = []
    if not args.topology:
        ignored += [name for name, value in (("--act-bits", args.act_bits),
                                             ("--wgt-bits", args.wgt_bits)) if value is not None]
    if args.trace and args.inputs is not None:
        ignored.append("--inputs")
    if ignored:
        what = ("a trace fixes its inputs and their bits" if args.trace else
                f"{source} fixes every layer's bits")
        raise HwsimError(f"{', '.join(ignored)}: not used with {source} ({what}); remove it")


def load_workload(args: argparse.Namespace) -> Workload:
    _refuse_ignored(args)
    if args.trace:
        args.trace = str(resolve("trace", args.trace, "--trace"))
        from hwsim.workload.trace import header_to_dict, load_trace

        trace = load_trace(args.trace, progress=_show_progress(args))
        if trace.num_inputs == 0:
            raise HwsimError(f"{args.trace}: the trace has no input records, so there is "
                             "nothing to simulate; export or synthesize at least one input")
        header = header_to_dict(trace.header)
        source = {"kind": "trace", "path": str(args.trace), "sha256": trace.sha256,
                  "model": header["model"], "cp": header["cp"]}
        return Workload(trace.header.network, Decisions(trace.act_bits, trace.wgt_bits),
                        trace.ids, trace.labels, trace.predictions, source)
    if args.benchmark:
        from hwsim.workload.benchmarks import load_benchmark

        network = load_benchmark(args.benchmark)
        source = {"kind": "benchmark", "name": args.benchmark}
    else:
        if args.act_bits is None or args.wgt_bits is None:
            raise HwsimError(f"{args.topology}: --topology needs --act-bits and --wgt-bits")
        from hwsim.workload.benchmarks import load_scalesim_topology

        network = load_scalesim_topology(args.topology, args.act_bits, args.wgt_bits)
        source = {"kind": "topology", "path": str(args.topology)}
    n = 1 if args.inputs is None else args.inputs
    if not 1 <= n <= MAX_STATIC_INPUTS:
        raise HwsimError(f"--inputs must be in 1..{MAX_STATIC_INPUTS:,} (got {n}); a static "
                         "network costs the same for every input, so a few suffice")
    missing = np.full(n, -1, dtype=np.int64)
    return Workload(network, Decisions.static(n), np.arange(n), missing, missing, source)


def _simulate(workload: Workload, network: Network, decisions: Decisions, arch: ArchConfig,
              args: argparse.Namespace, where: str) -> SimulationResult:
    layers = network.layers
    if _show_progress(args):
        from tqdm import tqdm

        layers = tqdm(layers, desc=f"simulating {network.name}", unit="layer", leave=False)
    try:
        return simulate_network(network, decisions, arch, args.batch,
                                TimingKind(args.timing), layers)
    except MappingError as err:
        raise MappingError(f"{where}: {err}") from None


def _baselines(workload: Workload, arch: ArchConfig, args: argparse.Namespace,
               where: str) -> dict[str, SimulationResult]:
    n = min(workload.decisions.count, args.batch)
    static = Decisions.static(n)
    return {label: _simulate(workload, static_variant(workload.network, p, label), static,
                             arch, args, where)
            for label, p in (("full precision (32/32)", FULL), ("all 8-bit (8/8)", EIGHT_BIT))}


def build_summary(workload: Workload, result: SimulationResult,
                  baselines: dict[str, SimulationResult]) -> dict:
    comparisons = [compare(name, result, base) for name, base in baselines.items()]
    summary = {"hwsim_version": __version__, "workload": workload.source,
               "network": result.network.name, "batch": result.batch,
               "timing": result.timing.value, "arch": arch_to_dict(result.arch),
               "per_input": input_stats(result),
               "baselines": [asdict(c) for c in comparisons],
               "rounded": [{"layer": s.layer.name, "requested": str(r), "native": str(nv)}
                           for s in result.layers for r, nv in s.rounded]}
    cp = workload.source.get("cp")
    if cp is not None:
        full = next(iter(baselines.values()))
        summary["cp_vs_hardware"] = {
            "cp_nominal": cp.get("measured"), "cp_target": cp.get("target"),
            "cp_flop_weighted": cp.get("measured_flop_weighted"),
            "cycles_fraction": mean_cycles(result) / mean_cycles(full),
            "energy_fraction": float(result.energy_pj().mean() / full.energy_pj().mean())}
    return summary


def run_command(args: argparse.Namespace) -> int:
    if not 1 <= args.batch <= MAX_BATCH:
        raise HwsimError(f"--batch must be in 1..{MAX_BATCH:,} (got {args.batch})")
    arch = load_arch(resolve("arch", args.arch, "--arch"), tuple(args.set))
    workload = load_workload(args)
    where = workload.source.get("path") or workload.source.get("name")
    result = _simulate(workload, workload.network, workload.decisions, arch, args, where)
    summary = build_summary(workload, result, _baselines(workload, arch, args, where))
    rows = layer_rows(result)
    if args.out:
        columns = input_columns(result, workload.ids, workload.labels, workload.predictions)
        write_outputs(args.out, {"layers.csv": lambda: csv_rows_text(rows),
                                 "inputs.csv": lambda: columns_csv_text(columns),
                                 "summary.json": lambda: json_text(summary)})
    if args.format == "json":
        print(json_text(summary), end="")
    else:
        print(f"{result.network.name} on {arch.name} ({arch.array.rows}x{arch.array.cols} FUs)")
        if not args.summary:
            shown = rows
            if args.top is not None:
                if args.top < 1:
                    raise HwsimError(f"--top must be >= 1 (got {args.top})")
                shown = sorted(rows, key=lambda r: -r["energy_total_pj_per_input"])[:args.top]
                print(f"the {len(shown)} costliest of {len(rows)} layers by energy per input")
            print(format_layer_table(shown, result.batch))
            print()
        print(format_summary(summary))
    return 0


def validate_command(files: list[str]) -> int:
    """Check each file by its kind (YAML arch or JSONL trace); all files are checked."""
    from hwsim.workload.trace import iter_records, read_header

    for name in files:
        path = Path(name)
        if path.suffix in (".yaml", ".yml"):
            arch = load_arch(path)
            print(f"ok  {name}: arch {arch.name}, {arch.array.rows}x{arch.array.cols} FUs")
        elif name.endswith((".jsonl", ".jsonl.gz")):
            header = read_header(path)
            count = sum(1 for _ in iter_records(path, header))
            print(f"ok  {name}: trace of {header.model.name}, {count} inputs, "
                  f"{len(header.network.layers)} layers, {len(header.network.blocks)} gated blocks")
        else:
            raise HwsimError(f"{name}: unknown file kind; expected .yaml/.yml (arch) or "
                             f".jsonl/.jsonl.gz (trace)")
    return 0


def synth_command(args: argparse.Namespace) -> int:
    from hwsim.workload.synth import write_synthetic_trace

    if not 0.0 <= args.cp <= 1.0:
        raise HwsimError(f"--cp must be a fraction in [0, 1] (got {args.cp})")
    if not 0 <= args.seed < 1 << 63:
        raise HwsimError(f"--seed must be an integer in 0..2^63-1 (got {args.seed})")
    if not 1 <= args.inputs <= MAX_STATIC_INPUTS:
        raise HwsimError(f"--inputs must be in 1..{MAX_STATIC_INPUTS:,} (got {args.inputs})")
    header = write_synthetic_trace(args.out, args.depth, args.inputs, args.cp, args.seed,
                                   input_size=args.input_size, in_channels=args.in_channels)
    print(f"wrote {args.out}: {header.num_inputs} inputs, {len(header.network.blocks)} gated "
          f"blocks, measured cp {header.cp.measured:.4f} (target {args.cp})")
    return 0
