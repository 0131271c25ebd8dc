"""Figures from result files: energy vs accuracy, per-block decisions, per-layer costs, sweeps.

Every figure is drawn from numbers already in a result file (`run --out` summary.json or
layers.csv, a sweep CSV) or a trace; nothing is re-derived by a second path. Each `plot_*`
function returns a matplotlib `Figure` (object API, no pyplot state, no display needed) so
tests can inspect its artists; `save_figure` writes it as PNG and SVG atomically.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from hwsim.errors import HwsimError

PARETO_LABEL = "Pareto front"
SWEEP_COLUMNS = ("point", "trace", "status", "latency_us_mean", "energy_uj_mean",
                 "area_total_mm2", "fu_count", "fu_utilization", "edp_uj_us")
LAYER_COLUMNS = ("layer", "kind", "compute_cycles_per_group", "stall_cycles_per_group",
                 "energy_compute_pj_per_input", "energy_input_sram_pj_per_input",
                 "energy_weight_sram_pj_per_input", "energy_output_sram_pj_per_input",
                 "energy_dram_pj_per_input", "energy_leakage_pj_per_input",
                 "energy_total_pj_per_input")
CHOICES = {"edp": "edp_uj_us", "energy": "energy_uj_mean", "latency": "latency_us_mean"}
_MAX_TICK_LABELS = 40


@dataclass(frozen=True, slots=True)
class RunPoint:
    """One `run --out` result as the energy-accuracy plot needs it (from its summary.json)."""

    label: str
    accuracy: float  # fraction
    energy_uj: float  # mean per input
    latency_us: float  # mean per input
    cp_nominal: float | None  # the trace's measured cp (block mean of (b/32)^2)
    energy_fraction: float | None  # energy / the full-precision baseline's energy


# --- reading -----------------------------------------------------------------------------------


def read_run(path: str | os.PathLike[str], label: str | None = None) -> RunPoint:
    """Read a `run --out` directory (or its summary.json).

    Raises:
        HwsimError: the file is missing or unreadable, or the trace carried no accuracy.
    """
    path = Path(path)
    path = path / "summary.json" if path.is_dir() else path
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
        cp = summary["workload"].get("cp") or {}
        per_input = summary["per_input"]
        energy, latency = per_input["energy_uj_mean"], per_input["latency_us_mean"]
    except OSError as err:
        raise HwsimError(f"{path}: cannot read ({err.strerror}); give a `run --out` "
                         "directory") from None
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise HwsimError(f"{path}: not a hwsim run summary ({err!r})") from None
    if cp.get("accuracy") is None:
        raise HwsimError(f"{path}: workload.cp.accuracy: missing; the trace header has no "
                         "cp.accuracy, so this run has no place on an accuracy axis")
    hardware = summary.get("cp_vs_hardware") or {}
    nominal = cp.get("measured")
    default = summary.get("network", "run") + (f" cp {nominal:.2f}" if nominal is not None
                                               else "")
    return RunPoint(label or default, float(cp["accuracy"]), float(energy), float(latency),
                    nominal, hardware.get("energy_fraction"))


def read_rows(path: str | os.PathLike[str], required: Sequence[str]) -> list[dict[str, str]]:
    """The rows of a CSV result file, checking it has the columns a plot needs.

    Raises:
        HwsimError: the file is missing, or lacks a required column.
    """
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
    except OSError as err:
        raise HwsimError(f"{path}: cannot read ({err.strerror}); check the path") from None
    missing = [c for c in required if c not in (reader.fieldnames or ())]
    if missing:
        raise HwsimError(f"{path}: missing column(s) {', '.join(missing)}; is this the right "
                         "kind of result file?")
    if not rows:
        raise HwsimError(f"{path}: no rows to plot")
    return rows


# --- shared pieces -----------------------------------------------------------------------------


def pareto_front(xs: Sequence[float], ys: Sequence[float], maximize_y: bool = False) -> list[int]:
    """Indices of the points no other point beats on both axes (lower x; lower or higher y).

    Ordered by x; ties broken by y, then by index, so the front is deterministic.
    """
    sign = -1.0 if maximize_y else 1.0
    order = sorted(range(len(xs)), key=lambda i: (xs[i], sign * ys[i], i))
    front, best = [], float("inf")
    for i in order:
        if sign * ys[i] < best:
            front.append(i)
            best = sign * ys[i]
    return front


def _draw_front(ax: Axes, xs: Sequence[float], ys: Sequence[float], maximize_y: bool,
                color: str | None = None) -> list[int]:
    front = pareto_front(xs, ys, maximize_y)
    ax.step([xs[i] for i in front], [ys[i] for i in front], where="post", linestyle="--",
            color=color or "black", linewidth=1.2, label=PARETO_LABEL)
    return front


def save_figure(figure: Figure, out: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write `out`.png and `out`.svg (any .png/.svg suffix of `out` is dropped), atomically.

    Raises:
        HwsimError: the folder cannot be written.
    """
    out = Path(out)
    stem = out.with_suffix("") if out.suffix in (".png", ".svg") else out
    paths = (stem.with_name(stem.name + ".png"), stem.with_name(stem.name + ".svg"))
    try:
        stem.parent.mkdir(parents=True, exist_ok=True)
        with rc_context({"svg.hashsalt": "hwsim", "svg.fonttype": "none"}):
            for path, metadata in zip(paths, ({"Software": None}, {"Date": None}), strict=True):
                fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
                try:
                    os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide figures from other users
                    with os.fdopen(fd, "wb") as handle:
                        figure.savefig(handle, format=path.suffix[1:], dpi=150,
                                       metadata=metadata, bbox_inches="tight")
                    os.replace(tmp, path)
                except BaseException:
                    Path(tmp).unlink(missing_ok=True)
                    raise
    except OSError as err:
        raise HwsimError(f"{stem.parent}: cannot write figures ({err.strerror})") from None
    return paths


# --- energy vs accuracy ------------------------------------------------------------------------


def plot_energy_accuracy(runs: Sequence[RunPoint]) -> Figure:
    """Accuracy against energy and latency per input, one point per run, Pareto front marked.

    Each point is annotated with its nominal cp and the energy it really costs on the hardware
    as a fraction of full precision, which is where the paper's cp and the hardware part ways.
    """
    if not runs:
        raise HwsimError("plot energy-accuracy: give at least one run")
    figure = Figure(figsize=(13, 5.5), layout="constrained")
    accuracy = [100 * r.accuracy for r in runs]
    for ax, values, unit in zip(figure.subplots(1, 2),
                                ([r.energy_uj for r in runs], [r.latency_us for r in runs]),
                                ("Energy per input (uJ)", "Latency per input (us)"), strict=True):
        for i, (run, x, y) in enumerate(zip(runs, values, accuracy, strict=True)):
            ax.scatter([x], [y], s=60, color=f"C{i % 10}", label=run.label, zorder=3)
            ax.annotate(_cp_note(run), (x, y), textcoords="offset points", fontsize=8,
                        xytext=(6, 8 if i % 2 else -22), color=f"C{i % 10}")
        _draw_front(ax, values, accuracy, maximize_y=True)
        ax.set_xlabel(unit)
        ax.set_ylabel("Accuracy (%)")
        ax.set_title(f"Accuracy vs {unit.split(' (')[0].lower()}")
        ax.margins(x=0.15, y=0.15)
        ax.grid(alpha=0.3)
    figure.legend(*figure.axes[0].get_legend_handles_labels(), loc="outside lower center",
                  ncols=min(len(runs) + 1, 4), fontsize=9)
    figure.suptitle("Simulated cost per input on the accelerator vs accuracy; "
                    "notes: nominal cp → energy as a share of full precision")
    return figure


def _cp_note(run: RunPoint) -> str:
    if run.cp_nominal is None:
        return ""
    note = f"cp {run.cp_nominal:.0%}"
    if run.energy_fraction is not None:
        note += f"\n→ {run.energy_fraction:.0%} of FP energy"
    return note


# --- decisions ---------------------------------------------------------------------------------


def plot_decisions(trace: object) -> Figure:
    """Share of inputs taking each option at every gated block, as stacked bars (DFS Figs 8-10).

    Args:
        trace: a `hwsim.workload.trace.Trace`.
    """
    network, header = trace.header.network, trace.header
    if not network.blocks:
        raise HwsimError(f"{trace.path}: the network has no gated blocks: no decisions to plot")
    figure = Figure(figsize=(max(8.0, 0.28 * len(network.blocks) + 2), 4.5), layout="constrained")
    ax = figure.subplots()
    x, bottom = np.arange(len(network.blocks)), np.zeros(len(network.blocks))
    shades = _option_colors(len(network.options))
    for option, color in zip(network.options, shades, strict=True):
        chosen = (trace.act_bits == option.act_bits) & (trace.wgt_bits == option.wgt_bits)
        share = 100 * chosen.mean(axis=0) if trace.num_inputs else np.zeros(len(x))
        ax.bar(x, share, bottom=bottom, color=color, label=str(option), width=0.85)
        bottom += share
    ax.set_xticks(x, [_short_block(b) for b in network.blocks], rotation=90, fontsize=7)
    ax.set_xlim(-0.6, len(x) - 0.4)
    ax.set_ylim(0, 100)
    ax.set_xlabel("Gated residual block")
    ax.set_ylabel("Share of inputs (%)")
    cp = header.cp.measured
    ax.set_title(f"{header.model.name}: option chosen per block over {trace.num_inputs} inputs"
                 + (f" (cp {cp:.2f})" if cp is not None else ""))
    ax.legend(title="act/wgt bits", fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return figure


def _option_colors(count: int) -> list:
    from matplotlib import colormaps

    return [colormaps["viridis"](0.15 + 0.8 * i / max(count - 1, 1)) for i in range(count)]


def _short_block(name: str) -> str:
    return name.replace("group", "g").replace(".block", ".b")


# --- layers ------------------------------------------------------------------------------------


_ENERGY_PARTS = (("compute", ("compute",)),
                 ("SRAM", ("input_sram", "weight_sram", "output_sram")),
                 ("DRAM", ("dram",)), ("leakage", ("leakage",)))


def plot_layers(rows: Sequence[dict[str, str]], title: str = "",
                include_gates: bool = False) -> Figure:
    """Per-layer cycles (compute, stall) and energy (compute, SRAM, DRAM, leakage) per input.

    Args:
        rows: the rows of a `run --out` layers.csv.
        include_gates: draw the gates' small layers too; by default their share is only stated.
    """
    shown = [r for r in rows if include_gates or r["kind"] != "gate"]
    if not shown:
        raise HwsimError("plot layers: no layer to show")
    figure = Figure(figsize=(max(10.0, 0.12 * len(shown) + 3), 7), layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True)
    x = np.arange(len(shown))
    _stack(top, x, [("compute", [float(r["compute_cycles_per_group"]) for r in shown]),
                    ("stall", [float(r["stall_cycles_per_group"]) for r in shown])])
    top.set_ylabel("Cycles per group of inputs\n(per input at batch 1)")
    parts = [(label, [sum(float(r[f"energy_{c}_pj_per_input"]) for c in columns) / 1e6
                      for r in shown]) for label, columns in _ENERGY_PARTS]
    _stack(bottom, x, parts)
    bottom.set_ylabel("Energy per input (uJ)")
    step = max(1, -(-len(shown) // _MAX_TICK_LABELS))
    bottom.set_xticks(x[::step], [r["layer"] for r in shown][::step], rotation=90, fontsize=7)
    bottom.set_xlabel("Layer (execution order)")
    top.set_title((title + ": " if title else "") + "cycles and energy per layer, per input"
                  + _gate_note(rows, include_gates))
    return figure


def _stack(ax: Axes, x: np.ndarray, parts: list[tuple[str, list[float]]]) -> None:
    bottom = np.zeros(len(x))
    for i, (label, values) in enumerate(parts):
        ax.bar(x, values, bottom=bottom, width=0.85, label=label, color=f"C{i}")
        bottom += np.asarray(values)
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(axis="y", alpha=0.3)


def _gate_note(rows: Sequence[dict[str, str]], include_gates: bool) -> str:
    gates = [r for r in rows if r["kind"] == "gate"]
    if include_gates or not gates:
        return ""
    total = sum(float(r["energy_total_pj_per_input"]) for r in rows)
    share = sum(float(r["energy_total_pj_per_input"]) for r in gates) / total if total else 0.0
    return f"\n({len(gates)} gate layers not shown: {share:.1%} of the energy)"


# --- sweep -------------------------------------------------------------------------------------


def plot_sweep(rows: Sequence[dict[str, str]], choose: str = "edp") -> Figure:
    """Energy vs latency and vs area across arch points (Pareto fronts, the chosen point
    labelled), and FU utilization vs array size; one colour per trace.

    Args:
        rows: the rows of a sweep CSV; rows whose status is not 'ok' are left out.
        choose: the point to label per trace: lowest 'edp', 'energy' or 'latency'.
    """
    if choose not in CHOICES:
        raise HwsimError(f"--choose must be one of {', '.join(CHOICES)} (got {choose!r})")
    ok = [r for r in rows if r["status"] == "ok"]
    if not ok:
        raise HwsimError("plot sweep: no row with status 'ok' to plot")
    traces = list(dict.fromkeys(r["trace"] for r in ok))
    figure = Figure(figsize=(16, 5), layout="constrained")
    by_latency, by_area, by_size = figure.subplots(1, 3)
    for i, trace in enumerate(traces):
        mine = [r for r in ok if r["trace"] == trace]
        color, name = f"C{i % 10}", Path(trace).name
        chosen = min(range(len(mine)), key=lambda j: (float(mine[j][CHOICES[choose]]), j))
        for ax, x_column in ((by_latency, "latency_us_mean"), (by_area, "area_total_mm2")):
            _sweep_panel(ax, mine, x_column, color, name, chosen)
        sizes = [float(r["fu_count"]) for r in mine]
        by_size.scatter(sizes, [100 * float(r["fu_utilization"]) for r in mine], color=color,
                        label=name, s=25)
    _label_axes(by_latency, "Latency per input (us, log scale)", "Energy per input (uJ)",
                "Energy vs latency across arch points")
    _label_axes(by_area, "Area: Fusion Units + SRAM (mm², log scale)", "Energy per input (uJ)",
                "Energy vs area (compare points at equal area)")
    _label_axes(by_size, "Array size (Fusion Units)", "FU utilization (%)",
                "Utilization vs array size")
    by_size.set_xscale("log", base=2)
    for ax in (by_latency, by_area):
        _plain_log_axis(ax)
    criterion = "EDP" if choose == "edp" else choose
    figure.suptitle(f"Arch sweep: {len(ok)} results; circled: lowest {criterion} per trace")
    return figure


def _sweep_panel(ax: Axes, rows: list[dict[str, str]], x_column: str, color: str, name: str,
                 chosen: int) -> None:
    xs = [float(r[x_column]) for r in rows]
    ys = [float(r["energy_uj_mean"]) for r in rows]
    ax.scatter(xs, ys, color=color, s=25, alpha=0.7, label=name)
    _draw_front(ax, xs, ys, maximize_y=False, color=color)
    ax.scatter([xs[chosen]], [ys[chosen]], s=160, facecolors="none", edgecolors="red",
               linewidths=1.5, zorder=4)
    ax.annotate(rows[chosen]["point"], (xs[chosen], ys[chosen]), textcoords="offset points",
                xytext=(8, 8), fontsize=8, color="red")


def _plain_log_axis(ax: Axes) -> None:
    """A log x axis with ticks at 1, 2, 5 x 10^k written as plain numbers."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _label_axes(ax: Axes, xlabel: str, ylabel: str, title: str) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))  # one Pareto entry per legend
    ax.legend(unique.values(), unique.keys(), fontsize=8)
