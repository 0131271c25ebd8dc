"""`python -m hwsim plot KIND`: figures (PNG and SVG) from result files and traces.

Kinds: `energy-accuracy` (run --out directories), `decisions` (a trace), `layers` (a run's
layers.csv), `sweep` (a sweep CSV). Each reads its files and calls the matching
`hwsim.explore.plot.plot_*`; no number is computed here.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hwsim.errors import HwsimError

KINDS = ("energy-accuracy", "decisions", "layers", "sweep")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plot", help="draw figures (PNG and SVG) from result files or a trace")
    kinds = p.add_subparsers(dest="plot_kind", required=True, metavar="KIND")
    energy = kinds.add_parser("energy-accuracy", help="energy and latency per input vs accuracy")
    energy.add_argument("runs", nargs="+", help="`run --out` directories (or summary.json)")
    energy.add_argument("--label", action="append", default=[],
                        help="a legend label per run, in order (default: network and cp)")
    decisions = kinds.add_parser("decisions", help="per-block share of each option, one trace")
    decisions.add_argument("trace", help="a trace (.jsonl[.gz])")
    layers = kinds.add_parser("layers", help="per-layer cycles and energy breakdown")
    layers.add_argument("layers_csv", help="a run's layers.csv (or its --out directory)")
    layers.add_argument("--title", default="", help="a title prefix, e.g. the trace name")
    layers.add_argument("--gates", action="store_true", help="draw the gate layers too")
    sweep = kinds.add_parser("sweep", help="Pareto of energy vs latency and area; utilization")
    sweep.add_argument("sweep_csv", help="the CSV written by `hwsim sweep`")
    sweep.add_argument("--choose", choices=["edp", "energy", "latency"], default="edp",
                       help="the point labelled on each trace (default: lowest EDP)")
    for kind in (energy, decisions, layers, sweep):
        kind.add_argument("--out", required=True,
                          help="output path without extension: writes OUT.png and OUT.svg")


def _figure(args: argparse.Namespace):
    from hwsim.explore import plot

    if args.plot_kind == "energy-accuracy":
        if args.label and len(args.label) != len(args.runs):
            raise HwsimError(f"--label: give one per run ({len(args.runs)}), "
                             f"got {len(args.label)}")
        labels = args.label or [None] * len(args.runs)
        return plot.plot_energy_accuracy([plot.read_run(run, label)
                                          for run, label in zip(args.runs, labels, strict=True)])
    if args.plot_kind == "decisions":
        from hwsim.workload.trace import load_trace

        return plot.plot_decisions(load_trace(args.trace))
    if args.plot_kind == "layers":
        path = Path(args.layers_csv)
        path = path / "layers.csv" if path.is_dir() else path
        return plot.plot_layers(plot.read_rows(path, plot.LAYER_COLUMNS), args.title,
                                include_gates=args.gates)
    return plot.plot_sweep(plot.read_rows(args.sweep_csv, plot.SWEEP_COLUMNS), args.choose)


def run(args: argparse.Namespace) -> int:
    from hwsim.explore.plot import save_figure

    for path in save_figure(_figure(args), args.out):
        print(f"wrote {path}")
    return 0
