"""`hwsim plot`: each figure holds the artists its numbers call for, read from result files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.container import BarContainer

from hwsim.cli.main import main
from hwsim.cli.sweep import plan_sweep, run_sweep
from hwsim.errors import HwsimError
from hwsim.explore.plot import (
    LAYER_COLUMNS,
    PARETO_LABEL,
    SWEEP_COLUMNS,
    pareto_front,
    plot_decisions,
    plot_energy_accuracy,
    plot_layers,
    plot_sweep,
    read_rows,
    read_run,
)
from hwsim.workload.synth import write_synthetic_trace
from hwsim.workload.trace import load_trace

REPO = Path(__file__).resolve().parents[2]
ARCH = str(REPO / "arch_configs" / "bitfusion_16x16.yaml")


def _stand_in_accuracy(path: Path) -> None:
    """Give a synthetic trace the accuracy of its drawn predictions, as a trained model's
    trace would carry its measured accuracy (synthetic headers say null)."""
    import json

    lines = path.read_text().splitlines()
    header, records = json.loads(lines[0]), [json.loads(line) for line in lines[1:]]
    right = sum(r["label"] == r["prediction"] for r in records)
    header["cp"]["accuracy"] = right / len(records)
    path.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, Path]:
    """Two traces, their `run --out` directories and a small sweep CSV with a failing point."""
    folder = tmp_path_factory.mktemp("results")
    paths = {}
    for cp in (0.3, 0.6):
        trace = folder / f"r8_cp{cp}.jsonl"
        write_synthetic_trace(trace, 8, 40, cp, seed=int(10 * cp))
        _stand_in_accuracy(trace)
        out = folder / f"run_cp{cp}"
        assert main(["run", "--arch", ARCH, "--trace", str(trace), "--out", str(out),
                     "--no-progress"]) == 0
        paths[f"trace{cp}"], paths[f"run{cp}"] = trace, out
    paths["sweep"] = folder / "sweep.csv"
    plan = plan_sweep(ARCH, None, ["array.rows=8,16", "array.cols=8,16",
                                   "buffers.weight.size_bytes=64,65536"],
                      [str(paths["trace0.3"])])
    run_sweep(plan, paths["sweep"], workers=1)
    return paths


def lines_labelled(ax, label):
    return [line for line in ax.get_lines() if line.get_label() == label]


def scatter_points(ax) -> int:
    return sum(len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection))


def test_pareto_front_is_deterministic():
    xs, ys = [3.0, 1.0, 2.0, 1.0, 4.0], [1.0, 5.0, 2.0, 5.0, 0.5]
    assert pareto_front(xs, ys) == [1, 2, 0, 4]  # the tie (1, 5) keeps the lower index
    assert pareto_front(xs, [-y for y in ys], maximize_y=True) == [1, 2, 0, 4]
    assert pareto_front([1.0, 2.0], [1.0, 2.0]) == [0]


def test_energy_accuracy(results):
    runs = [read_run(results["run0.3"]), read_run(results["run0.6"] / "summary.json", "DFS 60")]
    figure = plot_energy_accuracy(runs)
    energy_ax, latency_ax = figure.axes[:2]
    assert energy_ax.get_xlabel() == "Energy per input (uJ)"
    assert latency_ax.get_xlabel() == "Latency per input (us)"
    assert energy_ax.get_ylabel() == "Accuracy (%)"
    summary = json.loads((results["run0.3"] / "summary.json").read_text())
    offsets = np.concatenate([c.get_offsets() for c in energy_ax.collections])
    assert list(offsets[0]) == pytest.approx([summary["per_input"]["energy_uj_mean"],
                                        100 * summary["workload"]["cp"]["accuracy"]])
    assert scatter_points(energy_ax) == 2 and lines_labelled(energy_ax, PARETO_LABEL)
    notes = [t.get_text() for t in energy_ax.texts]
    cp = summary["workload"]["cp"]["measured"]
    fraction = summary["cp_vs_hardware"]["energy_fraction"]
    assert notes[0] == f"cp {cp:.0%}\n→ {fraction:.0%} of FP energy"
    assert [t.get_text() for t in figure.legends[0].get_texts()][1] == "DFS 60"


def test_energy_accuracy_needs_an_accuracy(results, tmp_path):
    summary = json.loads((results["run0.3"] / "summary.json").read_text())
    summary["workload"]["cp"]["accuracy"] = None
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(HwsimError, match=r"workload\.cp\.accuracy: missing"):
        read_run(tmp_path)


def test_decisions_bars_share_every_block(results):
    trace = load_trace(results["trace0.3"])
    ax = plot_decisions(trace).axes[0]
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    blocks, options = trace.header.network.blocks, trace.header.network.options
    assert len(bars) == len(options) and all(len(b) == len(blocks) for b in bars)
    heights = np.array([[patch.get_height() for patch in b] for b in bars])
    assert heights.sum(axis=0) == pytest.approx(np.full(len(blocks), 100.0))
    skip_share = 100 * (trace.act_bits == 0).mean(axis=0)
    assert heights[0] == pytest.approx(skip_share)
    assert ax.get_ylabel() == "Share of inputs (%)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [str(o) for o in options]


def test_layers_stacks_match_the_csv(results):
    rows = read_rows(results["run0.3"] / "layers.csv", LAYER_COLUMNS)
    convs = [r for r in rows if r["kind"] != "gate"]
    figure = plot_layers(rows, "r8")
    cycles_ax, energy_ax = figure.axes
    assert len(cycles_ax.containers) == 2 and len(energy_ax.containers) == 4
    assert all(len(c) == len(convs) for c in energy_ax.containers)
    totals = np.sum([[p.get_height() for p in c] for c in energy_ax.containers], axis=0)
    assert totals == pytest.approx([float(r["energy_total_pj_per_input"]) / 1e6 for r in convs])
    assert energy_ax.get_ylabel() == "Energy per input (uJ)"
    assert "gate layers not shown" in cycles_ax.get_title()
    with_gates = plot_layers(rows, include_gates=True)
    assert len(with_gates.axes[0].containers[0]) == len(rows)


def test_sweep_pareto_and_chosen_point(results):
    rows = read_rows(results["sweep"], SWEEP_COLUMNS)
    ok = [r for r in rows if r["status"] == "ok"]
    assert len(ok) == 4 and len(rows) == 8  # the 64-byte weight buffer maps nothing
    figure = plot_sweep(rows)
    latency_ax, area_ax, size_ax = figure.axes
    best = min(ok, key=lambda r: float(r["edp_uj_us"]))
    for ax in (latency_ax, area_ax):
        assert lines_labelled(ax, PARETO_LABEL)
        assert [t.get_text() for t in ax.texts] == [best["point"]]
        assert ax.get_ylabel() == "Energy per input (uJ)"
    assert "(mm²" in area_ax.get_xlabel() and "(us" in latency_ax.get_xlabel()
    assert latency_ax.get_xscale() == "log" and size_ax.get_xscale() == "log"
    assert size_ax.get_ylabel() == "FU utilization (%)" and scatter_points(size_ax) == 4
    fastest = min(ok, key=lambda r: float(r["latency_us_mean"]))
    assert [t.get_text() for t in plot_sweep(rows, "latency").axes[0].texts] == [
        fastest["point"]]


def test_cli_writes_png_and_svg_for_every_kind(results, tmp_path, capsys):
    commands = [["energy-accuracy", str(results["run0.3"]), str(results["run0.6"])],
                ["decisions", str(results["trace0.3"])],
                ["layers", str(results["run0.3"])],
                ["sweep", str(results["sweep"])]]
    for i, command in enumerate(commands):
        assert main(["plot", *command, "--out", str(tmp_path / f"fig{i}.png")]) == 0
        assert (tmp_path / f"fig{i}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert "<svg" in (tmp_path / f"fig{i}.svg").read_text()[:2000]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"fig{i}.{ext}" for i in range(4) for ext in ("png", "svg"))
    capsys.readouterr()


def test_cli_rejects_the_wrong_file(results, tmp_path, capsys):
    code = main(["plot", "sweep", str(results["run0.3"] / "layers.csv"), "--out",
                 str(tmp_path / "x")])
    assert code == 2 and "missing column(s) point" in capsys.readouterr().err
    with open(results["sweep"], newline="") as handle:
        assert "status" in next(csv.reader(handle))
    assert not list(tmp_path.iterdir())
