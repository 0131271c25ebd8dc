"""What the mapping objective costs the tiling search, and what it changes in the answer.

Runs the cold mapping search (every distinct layer/precision of a trace, caches cleared) under
each objective on the same arch, then the 64-point array x buffer sweep grid of
bench/bench_sweep.py (search only, serial), and prints seconds and the ratio to the
`latency` objective measured in the same run, with the mean latency, energy and DRAM traffic
per input each objective gives on the trace. Never asserts on time.

    python bench/bench_mapping.py [--trace traces/resnet74_cp20.jsonl] [--arch A.yaml]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import time
from pathlib import Path

from hwsim.cost.energy import COMPONENTS
from hwsim.cost.layer_cost import clear_cache
from hwsim.hardware.arch import ArchConfig, MappingObjective, load_arch
from hwsim.simulation import Decisions, simulate_network
from hwsim.workload.trace import load_trace

REPO = Path(__file__).resolve().parents[1]
OBJECTIVES = [("latency", 0.0), ("latency", 0.05), ("energy", 0.0), ("edp", 0.0)]


def with_objective(arch: ArchConfig, objective: str, slack: float) -> ArchConfig:
    mapping = dataclasses.replace(arch.mapping, objective=MappingObjective(objective),
                                  latency_slack=slack)
    return dataclasses.replace(arch, mapping=mapping)


def grid_points(arch: ArchConfig) -> list[ArchConfig]:
    """The 64-point grid of bench/bench_sweep.py: rows, cols 4..32 and input buffer 8..64 KiB."""
    points = []
    for rows, cols, size in itertools.product((4, 8, 16, 32), (4, 8, 16, 32),
                                              (8192, 16384, 32768, 65536)):
        buffers = dataclasses.replace(arch.buffers, input=dataclasses.replace(
            arch.buffers.input, size_bytes=size))
        points.append(dataclasses.replace(
            arch, array=dataclasses.replace(arch.array, rows=rows, cols=cols), buffers=buffers))
    return points


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trace", default=str(REPO / "traces" / "resnet74_cp20.jsonl"))
    parser.add_argument("--arch", default=str(REPO / "arch_configs" / "bitfusion_16x16.yaml"))
    args = parser.parse_args()
    trace = load_trace(args.trace)
    decisions = Decisions(trace.act_bits, trace.wgt_bits)
    base = load_arch(args.arch)
    print(f"{trace.num_inputs} inputs of {trace.header.network.name} on {base.name}")
    print(f"{'objective':<16} {'trace s':>8} {'ratio':>6} {'grid64 s':>9} {'ratio':>6} "
          f"{'Mcycles':>8} {'uJ':>8} {'DRAM MB':>8}")
    reference = None
    for objective, slack in OBJECTIVES:
        arch = with_objective(base, objective, slack)
        clear_cache()
        start = time.perf_counter()
        result = simulate_network(trace.header.network, decisions, arch)
        trace_s = time.perf_counter() - start
        clear_cache()
        start = time.perf_counter()
        for point in grid_points(arch):
            simulate_network(trace.header.network, decisions, point)
        grid_s = time.perf_counter() - start
        reference = reference or (trace_s, grid_s)
        per = result.per_input
        energy_uj = sum(per[c].mean() for c in COMPONENTS) / 1e6
        label = objective + (f" +{slack:.0%}" if slack else "")
        print(f"{label:<16} {trace_s:>8.3f} {trace_s / reference[0]:>6.2f} {grid_s:>9.2f} "
              f"{grid_s / reference[1]:>6.2f} {per['latency_cycles'].mean() / 1e6:>8.3f} "
              f"{energy_uj:>8.1f} {per['dram_bits'].mean() / 8e6:>8.2f}")


if __name__ == "__main__":
    main()
