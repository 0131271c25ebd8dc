"""How a sweep's wall time grows with arch points and with worker processes.

Times `hwsim.cli.sweep.run_sweep` (the body of `python -m hwsim sweep`) on a 10,000-input
synthetic ResNet74 trace: a 1-point run, then 8-, 16- and 64-point sweeps with 1 and 2 local
workers, every run from cold caches. Prints wall seconds, seconds per point and the ratio to the
1-point run measured in the same process; never asserts on time.

    python bench/bench_sweep.py [--trace T.jsonl.gz] [--points 1,8,16,64] [--workers 1,2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from hwsim.cli.sweep import plan_sweep, run_sweep
from hwsim.cost.layer_cost import clear_cache
from hwsim.explore.sweep import _cached_trace
from hwsim.report import format_table
from hwsim.workload.synth import write_synthetic_trace
from hwsim.workload.trace import read_header

REPO = Path(__file__).resolve().parents[1]
ARCH = REPO / "arch_configs" / "bitfusion_16x16.yaml"
SHIPPED = REPO / "traces" / "resnet74_synthetic_cp20.jsonl.gz"
INPUTS = 10_000
GRIDS = {  # points -> --grid flags
    1: [],
    8: ["array.rows=8,16", "array.cols=16,32", "dram.bandwidth_bits_per_cycle=96,192"],
    16: ["array.rows=4..32", "array.cols=4..32"],
    64: ["array.rows=4..32", "array.cols=4..32", "buffers.input.size_bytes=8192..65536"],
}


def _trace(path: str | None, folder: Path) -> str:
    if path:
        return path
    if SHIPPED.exists() and read_header(SHIPPED).num_inputs == INPUTS:
        return str(SHIPPED)
    made = folder / "resnet74_cp20.jsonl.gz"
    write_synthetic_trace(made, 74, INPUTS, 0.2, seed=0)
    return str(made)


def _time(trace: str, points: int, workers: int, out: Path) -> float:
    clear_cache()  # cold caches in this process; worker processes start empty
    _cached_trace.cache_clear()
    start = time.perf_counter()
    plan = plan_sweep(str(ARCH), None, GRIDS[points], [trace])
    assert len(plan.points) == points
    outcome = run_sweep(plan, out, workers=workers, restart=True)
    assert outcome.computed == points
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trace", help="trace to sweep (default: a 10,000-input ResNet74)")
    parser.add_argument("--points", default="1,8,16,64")
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        trace = _trace(args.trace, Path(folder))
        header = read_header(trace)
        print(f"trace {trace}: {header.network.name}, {header.num_inputs} inputs")
        baseline = _time(trace, 1, 1, Path(folder) / "base.csv")
        rows = [["1", "1", f"{baseline:.2f}", f"{baseline:.2f}", "1.00"]]
        for points in (int(p) for p in args.points.split(",") if p != "1"):
            for workers in (int(w) for w in args.workers.split(",")):
                wall = _time(trace, points, workers, Path(folder) / f"s{points}_{workers}.csv")
                rows.append([str(points), str(workers), f"{wall:.2f}", f"{wall / points:.2f}",
                             f"{wall / baseline:.2f}"])
                print(f"  {points} points, {workers} worker(s): {wall:.2f} s", flush=True)
    print(format_table(["points", "workers", "wall s", "s per point", "x 1-point run"], rows))


if __name__ == "__main__":
    main()
