"""Benchmark: `python -m hwsim run` wall time on 1k, 10k and 100k-input ResNet74 traces.

Prints ratios against the 1k-input run measured in the same invocation (no absolute targets are
asserted anywhere; the issue's target is the 10k run end to end under 2 s on a 2-core machine),
the split between trace loading, simulation and reporting, and the per-layer simulation rate
(distinct (layer geometry, bits, sub-batch) combinations costed per second, cold cache).

    python bench/bench_run.py [--arch arch_configs/bitfusion_16x16.yaml] [--sizes 1000 10000 100000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hwsim.cost.layer_cost import _simulate, clear_cache
from hwsim.hardware.arch import load_arch
from hwsim.simulation import Decisions, simulate_network
from hwsim.workload.synth import write_synthetic_trace
from hwsim.workload.trace import load_trace


def time_cli(arch: str, trace: Path, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "hwsim", "run", "--arch", arch, "--trace", str(trace),
                    "--out", str(out), "--no-progress"], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def time_phases(arch_path: str, trace_path: Path) -> dict[str, float]:
    arch = load_arch(arch_path)
    start = time.perf_counter()
    trace = load_trace(trace_path)
    loaded = time.perf_counter()
    clear_cache()
    simulate_network(trace.header.network, Decisions(trace.act_bits, trace.wgt_bits), arch)
    simulated = time.perf_counter()
    combos = _simulate.cache_info().misses
    return {"load_s": loaded - start, "simulate_s": simulated - loaded, "combinations": combos,
            "combinations_per_s": combos / (simulated - loaded)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--arch", default="arch_configs/bitfusion_16x16.yaml")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            trace = Path(tmp) / f"r74_{size}.jsonl.gz"
            write_synthetic_trace(trace, 74, size, 0.2, seed=0)
            wall = time_cli(args.arch, trace, Path(tmp) / f"out{size}")
            rows.append((size, wall, time_phases(args.arch, trace)))
    base = rows[0][1]
    print(f"{'inputs':>8} {'wall s':>8} {'ratio':>7} {'load s':>8} {'sim s':>7} "
          f"{'combos':>7} {'combos/s':>9}")
    for size, wall, phase in rows:
        print(f"{size:>8} {wall:>8.2f} {wall / base:>7.2f} {phase['load_s']:>8.3f} "
              f"{phase['simulate_s']:>7.3f} {phase['combinations']:>7} "
              f"{phase['combinations_per_s']:>9.0f}")
    print(f"inputs grow {args.sizes[-1] // args.sizes[0]}x; wall time grows "
          f"{rows[-1][1] / base:.2f}x (distinct combinations: "
          f"{rows[0][2]['combinations']} -> {rows[-1][2]['combinations']})")


if __name__ == "__main__":
    main()
