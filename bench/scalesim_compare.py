"""Run SCALE-Sim 3.0.0 and hwsim side by side on the same layers; store the figures as data.

SCALE-Sim (Samajdar et al., ISPASS 2020) is a reference, never a dependency: it lives in its own
virtual environment (`python -m venv /work/scalesim-venv && /work/scalesim-venv/bin/pip install
scalesim==3.0.0 "numpy<2.3"`). This one file runs under both interpreters:

    python bench/scalesim_compare.py run [--networks resnet20_cifar ...] [--dataflows os ws]
        the driver (repo python): writes the CIFAR topologies, then for every network and
        dataflow runs the SCALE-Sim side in the venv and the hwsim side in a fresh process (so
        each tool's wall time and peak memory are measured alone), and writes
        bench/data/scalesim_comparison.csv and .json atomically.
    <venv>/bin/python bench/scalesim_compare.py scalesim-side TOPOLOGY DATAFLOW OUT.json
    python bench/scalesim_compare.py hwsim-side TOPOLOGY DATAFLOW OUT.json

SCALE-Sim setup (reference bitfusion.md): 16x16 array, 64 KiB per SRAM, interface bandwidth CALC
(stall-free), topology IFMAP sizes include padding; its "Total Cycles" column excludes the initial
prefetch. hwsim runs arch_configs/systolic8_16x16_{os,ws,is}.yaml at 8/8 bits, batch 1, with the
DRAM interface widened so that, like CALC, memory never stalls the array; its compute cycles are
the counterpart of SCALE-Sim's "Total Cycles" (our stall-free total adds only the exposed first
tile load, 1 cycle, the counterpart of SCALE-Sim's excluded prefetch). A second run with the YAML's
own DRAM interface reports the stalls it causes, and a third uses SCALE-Sim's output-size
convention (see `_scalesim_geometry`) to separate that convention from the cycle model.
SCALE-Sim results are cached per (network, dataflow) in bench/data/scalesim_raw/
(`--rerun-scalesim` to redo them: ResNet-18 takes minutes and gigabytes per dataflow).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "bench" / "data"
RAW = DATA / "scalesim_raw"
TOPOLOGIES = DATA / "topologies"
VENV_PYTHON = Path(os.environ.get("SCALESIM_PYTHON", "/work/scalesim-venv/bin/python"))
NETWORKS = {  # name -> topology CSV (SCALE-Sim layout, padded IFMAP sizes)
    "resnet20_cifar": TOPOLOGIES / "resnet20_cifar.csv",
    "resnet74_cifar": TOPOLOGIES / "resnet74_cifar.csv",
    "resnet18_scalesim": REPO / "hwsim" / "benchmarks" / "scalesim_resnet18_topology.csv",
}
ARRAY_SIDE = 16
SRAM_KIB = 64
STALL_FREE_BITS_PER_CYCLE = 1 << 40  # wide enough that DRAM never stalls: SCALE-Sim's CALC mode

_CONFIG = """[general]
run_name = {run_name}

[architecture_presets]
ArrayHeight = {side}
ArrayWidth = {side}
ifmapsramszkB = {kib}
filtersramszkB = {kib}
ofmapsramszkB = {kib}
IfmapOffset = 0
FilterOffset = 10000000
OfmapOffset = 20000000
Dataflow = {dataflow}
ReadRequestBuffer = 32
WriteRequestBuffer = 32

[layout]
IfmapCustomLayout = False
FilterCustomLayout = False
IfmapSRAMBankBandwidth = 10
IfmapSRAMBankNum = 10
IfmapSRAMBankPort = 2
FilterSRAMBankBandwidth = 10
FilterSRAMBankNum = 10
FilterSRAMBankPort = 2

[run_presets]
InterfaceBandwidth = CALC
UseRamulatorTrace = False

[sparsity]
SparsitySupport = false
SparseRep = ellpack_block
OptimizedMapping = false
BlockSize = 8
RandomNumberGeneratorSeed = 40
"""
_LAYOUT_ROW = "1,1,1,1,1,1,0,1,2,0,1,2,0,1,2,3,0,1,2,3,"  # default layout (unused: custom off)


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _layer_names(topology: Path) -> list[str]:
    lines = [line for line in topology.read_text().splitlines() if line.strip()]
    return [line.split(",")[0].strip() for line in lines[1:]]


def _write_scalesim_inputs(topology: Path, dataflow: str, work: Path) -> tuple[Path, Path]:
    config = work / "scalesim.cfg"
    config.write_text(_CONFIG.format(run_name="run", side=ARRAY_SIDE, kib=SRAM_KIB,
                                     dataflow=dataflow))
    layout = work / "layout.csv"
    rows = [f"{name},{_LAYOUT_ROW}" for name in _layer_names(topology)]
    layout.write_text("Layer name," + ",".join(["x"] * 20) + ",\n" + "\n".join(rows) + "\n")
    return config, layout


def _read_compute_report(report: Path, names: list[str]) -> list[dict]:
    lines = [line for line in report.read_text().splitlines() if line.strip()][1:]
    layers = []
    for name, line in zip(names, lines, strict=True):
        cells = [cell.strip() for cell in line.split(",")]
        layers.append({"layer": name, "cycles_with_prefetch": int(cells[1]),
                       "cycles": int(cells[2]), "stall_cycles": int(cells[3]),
                       "utilization": float(cells[4]) / 100})
    return layers


def scalesim_side(topology: Path, dataflow: str, out: Path) -> None:
    """Run SCALE-Sim on one topology (venv interpreter); write per-layer figures as JSON."""
    from scalesim.scale_sim import scalesim  # only in the SCALE-Sim virtual environment

    with tempfile.TemporaryDirectory(prefix="scalesim-") as tmp:
        work = Path(tmp)
        config, layout = _write_scalesim_inputs(topology, dataflow, work)
        start = time.perf_counter()
        sim = scalesim(save_disk_space=True, verbose=False, config=str(config),
                       topology=str(topology), layout=str(layout))
        sim.run_scale(top_path=str(work / "out"))
        wall_s = time.perf_counter() - start
        layers = _read_compute_report(work / "out" / "run" / "COMPUTE_REPORT.csv",
                                      _layer_names(topology))
    _write_json(out, {"tool": "scalesim 3.0.0", "dataflow": dataflow, "wall_s": wall_s,
                      "peak_rss_mib": peak_rss_mib(), "layers": layers})


def _hwsim_arch(dataflow: str, stall_free: bool):
    import dataclasses

    from hwsim.hardware.arch import load_arch

    arch = load_arch(REPO / "arch_configs" / f"systolic8_16x16_{dataflow}.yaml")
    if not stall_free:
        return arch
    return dataclasses.replace(arch, dram=dataclasses.replace(
        arch.dram, bandwidth_bits_per_cycle=STALL_FREE_BITS_PER_CYCLE))


def _scalesim_geometry(network):
    """The network with every input grown so that its output size is SCALE-Sim's.

    SCALE-Sim sizes an output as ceil((I - K + S) / S), one more row and column than the true
    floor((I - K) / S) + 1 when a stride leaves a partial window at the edge (a 34-wide padded
    input, 3x3 kernel, stride 2: 17 outputs instead of 16). Only used to show that the
    remaining difference is this convention, not the cycle model.
    """
    import dataclasses

    from hwsim.workload.layer import Network

    layers = []
    for layer in network.layers:
        size = -(-(layer.input_height - layer.kernel + layer.stride) // layer.stride)
        grown = (size - 1) * layer.stride + layer.kernel
        layers.append(dataclasses.replace(layer, input_height=grown, input_width=grown))
    return Network(network.name, tuple(layers))


def _hwsim_layers(result) -> list[dict]:
    arch = result.arch
    rows = []
    for summary in result.layers:
        totals = summary.totals
        cycles = totals["compute_cycles"] + totals["stall_cycles"]
        rows.append({"layer": summary.layer.name, "compute_cycles": int(totals["compute_cycles"]),
                     "cycles": int(cycles), "stall_cycles": int(totals["stall_cycles"]),
                     "utilization": totals["busy_fus"] / (arch.fu_count * cycles)})
    return rows


def hwsim_side(topology: Path, dataflow: str, out: Path) -> None:
    """Run hwsim on one topology at 8/8 bits, batch 1 (repo interpreter); write JSON.

    Timed: loading the topology and the arch and simulating the network, stall-free like
    SCALE-Sim's CALC mode. Then (untimed) once more with the YAML's own DRAM interface, whose
    stall cycles are reported beside.
    """
    from hwsim.simulation import Decisions, simulate_network
    from hwsim.workload.benchmarks import load_scalesim_topology

    start = time.perf_counter()
    network = load_scalesim_topology(topology, 8, 8)
    result = simulate_network(network, Decisions.static(1), _hwsim_arch(dataflow, True))
    wall_s = time.perf_counter() - start
    peak = peak_rss_mib()
    limited = simulate_network(network, Decisions.static(1), _hwsim_arch(dataflow, False))
    grown = _scalesim_geometry(network)
    same_geometry = simulate_network(grown, Decisions.static(1), _hwsim_arch(dataflow, True))
    layers = _hwsim_layers(result)
    for row, other, same, before, after in zip(
            layers, _hwsim_layers(limited), _hwsim_layers(same_geometry), network.layers,
            grown.layers, strict=True):
        row["stall_cycles_dram_limited"] = other["stall_cycles"]
        row["cycles_dram_limited"] = other["cycles"]
        row["compute_cycles_scalesim_geometry"] = same["compute_cycles"]
        row["output_size_differs"] = before.output_height != after.output_height
    _write_json(out, {"tool": "hwsim", "dataflow": dataflow, "wall_s": wall_s,
                      "peak_rss_mib": peak, "layers": layers})


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=1)
        handle.write("\n")
    os.chmod(tmp, 0o644)  # mkstemp makes files private; these are repository data
    os.replace(tmp, path)


def cifar_topology_text(depth: int) -> str:
    """SCALE-Sim topology of hwsim's CIFAR ResNet (no gates), IFMAP sizes padded as it expects."""
    from hwsim.workload.synth import resnet_cifar_network

    lines = ["Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
             "Num Filter, Strides,"]
    for layer in resnet_cifar_network(depth, gated=False).layers:
        height = layer.input_height + 2 * layer.padding
        width = layer.input_width + 2 * layer.padding
        lines.append(f"{layer.name},{height},{width},{layer.kernel},{layer.kernel},"
                     f"{layer.in_channels},{layer.out_channels},{layer.stride},")
    return "\n".join(lines) + "\n"


def write_cifar_topologies() -> None:
    for depth in (20, 74):
        path = NETWORKS[f"resnet{depth}_cifar"]
        path.parent.mkdir(parents=True, exist_ok=True)
        text = cifar_topology_text(depth)
        if not path.exists() or path.read_text() != text:
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            with os.fdopen(fd, "w") as handle:
                handle.write(text)
            os.chmod(tmp, 0o644)  # mkstemp makes files private; these are repository data
            os.replace(tmp, path)


def _side(python: Path, side: str, network: str, dataflow: str, out: Path) -> dict:
    """Run one side in a fresh process (so its wall time and peak memory are its own)."""
    command = [str(python), str(Path(__file__).resolve()), side, str(NETWORKS[network]),
               dataflow, str(out)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run(command, check=True, cwd=REPO, env=env)
    return json.loads(out.read_text())


def _scalesim_result(network: str, dataflow: str, rerun: bool) -> dict:
    raw = RAW / f"{network}_{dataflow}.json"
    if raw.exists() and not rerun:
        return json.loads(raw.read_text())
    if not VENV_PYTHON.exists():
        sys.exit(f"error: {VENV_PYTHON} not found; create the SCALE-Sim venv (see the docstring) "
                 f"or set SCALESIM_PYTHON")
    print(f"running SCALE-Sim on {network} ({dataflow}) ...", flush=True)
    return _side(VENV_PYTHON, "scalesim-side", network, dataflow, raw)


def _layer_rows(network: str, dataflow: str, theirs: dict, ours: dict) -> list[dict]:
    rows = []
    for t, o in zip(theirs["layers"], ours["layers"], strict=True):
        if t["layer"] != o["layer"]:
            sys.exit(f"error: layer order differs: {t['layer']} vs {o['layer']}")
        rows.append({
            "network": network, "dataflow": dataflow, "layer": t["layer"],
            "scalesim_cycles": t["cycles"], "hwsim_cycles": o["compute_cycles"],
            "hwsim_total_cycles": o["cycles"],
            "cycles_error": o["compute_cycles"] / t["cycles"] - 1,
            "hwsim_cycles_scalesim_geometry": o["compute_cycles_scalesim_geometry"],
            "cycles_error_scalesim_geometry": o["compute_cycles_scalesim_geometry"] / t["cycles"]
            - 1,
            "scalesim_utilization": t["utilization"], "hwsim_utilization": o["utilization"],
            "output_size_differs": int(o["output_size_differs"]),
            "scalesim_stall_cycles": t["stall_cycles"],
            "hwsim_stall_cycles_dram_limited": o["stall_cycles_dram_limited"]})
    return rows


def _summary(network: str, dataflow: str, rows: list[dict], theirs: dict, ours: dict) -> dict:
    import numpy as np

    errors = np.array([row["cycles_error"] for row in rows])
    scalesim_total = sum(row["scalesim_cycles"] for row in rows)
    hwsim_total = sum(row["hwsim_cycles"] for row in rows)
    return {
        "network": network, "dataflow": dataflow, "layers": len(rows),
        "scalesim_cycles": scalesim_total, "hwsim_cycles": hwsim_total,
        "cycles_error": hwsim_total / scalesim_total - 1,
        "cycles_error_scalesim_geometry": sum(
            row["hwsim_cycles_scalesim_geometry"] for row in rows) / scalesim_total - 1,
        "layer_error_abs_mean": float(np.abs(errors).mean()),
        "layer_error_abs_max": float(np.abs(errors).max()),
        "layer_error_p50": float(np.percentile(errors, 50)),
        "layer_error_p95_abs": float(np.percentile(np.abs(errors), 95)),
        "scalesim_wall_s": theirs["wall_s"], "hwsim_wall_s": ours["wall_s"],
        "wall_speedup": theirs["wall_s"] / ours["wall_s"],
        "scalesim_peak_rss_mib": theirs["peak_rss_mib"], "hwsim_peak_rss_mib": ours["peak_rss_mib"],
        "hwsim_stall_cycles_dram_limited": sum(r["hwsim_stall_cycles_dram_limited"] for r in rows),
    }


def run_all(networks: list[str], dataflows: list[str], rerun: bool) -> None:
    """Both tools on every (network, dataflow); rewrite the CSV and JSON data files."""
    write_cifar_topologies()
    rows, summaries = [], []
    with tempfile.TemporaryDirectory(prefix="hwsim-side-") as tmp:
        for network in networks:
            for dataflow in dataflows:
                theirs = _scalesim_result(network, dataflow, rerun)
                ours = _side(Path(sys.executable), "hwsim-side", network, dataflow,
                             Path(tmp) / f"{network}_{dataflow}.json")
                layer_rows = _layer_rows(network, dataflow, theirs, ours)
                rows += layer_rows
                summaries.append(_summary(network, dataflow, layer_rows, theirs, ours))
                print(_summary_line(summaries[-1]), flush=True)
    _write_data(rows, summaries)


def _summary_line(s: dict) -> str:
    return (f"{s['network']:>18} {s['dataflow']}: SCALE-Sim {s['scalesim_cycles']:,} cycles in "
            f"{s['scalesim_wall_s']:.1f} s ({s['scalesim_peak_rss_mib']:,.0f} MiB), hwsim "
            f"{s['hwsim_cycles']:,} ({100 * s['cycles_error']:+.3f}%) in {s['hwsim_wall_s']:.3f} s "
            f"({s['hwsim_peak_rss_mib']:,.0f} MiB): {s['wall_speedup']:,.0f}x faster")


def _write_data(rows: list[dict], summaries: list[dict]) -> None:
    import csv
    import io
    import platform

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    path = DATA / "scalesim_comparison.csv"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=DATA)
    with os.fdopen(fd, "w", newline="") as handle:
        handle.write(buffer.getvalue())
    os.chmod(tmp, 0o644)  # mkstemp makes files private; these are repository data
    os.replace(tmp, path)
    setup = {"scalesim": "3.0.0", "array": f"{ARRAY_SIDE}x{ARRAY_SIDE}", "sram_kib": SRAM_KIB,
             "bandwidth": "CALC", "act_bits": 8, "wgt_bits": 8, "batch": 1,
             "hwsim_archs": "arch_configs/systolic8_16x16_{os,ws,is}.yaml, DRAM interface "
                            "widened to stall-free", "machine": platform.platform(),
             "cpu_count": os.cpu_count(), "generated_utc": time.strftime(
                 "%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    _write_json(DATA / "scalesim_comparison.json", {"setup": setup, "networks": summaries})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("topologies", help="(re)write the CIFAR ResNet topology CSVs")
    side = sub.add_parser("scalesim-side")
    ours = sub.add_parser("hwsim-side")
    run = sub.add_parser("run", help="both tools on every network and dataflow; store the data")
    run.add_argument("--networks", nargs="+", choices=list(NETWORKS), default=list(NETWORKS))
    run.add_argument("--dataflows", nargs="+", choices=["os", "ws", "is"], default=["os", "ws"])
    run.add_argument("--rerun-scalesim", action="store_true",
                     help="run SCALE-Sim again even where bench/data/scalesim_raw has its result")
    for p in (side, ours):
        p.add_argument("topology", type=Path)
        p.add_argument("dataflow", choices=["os", "ws", "is"])
        p.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    if args.command == "topologies":
        write_cifar_topologies()
    if args.command == "scalesim-side":
        scalesim_side(args.topology, args.dataflow, args.out)
    if args.command == "hwsim-side":
        hwsim_side(args.topology, args.dataflow, args.out)
    if args.command == "run":
        run_all(args.networks, args.dataflows, args.rerun_scalesim)
    return 0


if __name__ == "__main__":
    sys.exit(main())
