"""Regenerate docs/results.md: the trained Fashion-MNIST DFS / SkipNet results, end to end.

For every shipped trained trace: the training schedule and accuracy from its run's metrics.json,
the measured cp (paper and FLOP-weighted) from the trace header, and what the decisions cost on
arch_configs/bitfusion_16x16.yaml (hwsim, batch 1), beside the paper's CIFAR figures
(reference dfs.md, typed from the paper and marked as such). Nothing here is typed in but the
paper's figures.

    python bench/make_results.py [--out docs/results.md]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from hwsim.cli.run import EIGHT_BIT
from hwsim.hardware.arch import load_arch
from hwsim.report import compare
from hwsim.simulation import Decisions, simulate_network, static_variant
from hwsim.workload.layer import FULL
from hwsim.workload.trace import load_trace

REPO = Path(__file__).resolve().parents[1]
ARCH = REPO / "arch_configs" / "bitfusion_16x16.yaml"
RUNS = REPO / "runs" / "fmnist"
# (trace, run directory, label)
SHIPPED = [
    ("traces/resnet74_full.jsonl.gz", "base", "ResNet74, full precision (no gates)"),
    ("traces/resnet74_cp20.jsonl", "dfs_cp20", "DFS-ResNet74, target cp 0.20"),
    ("traces/resnet74_cp40.jsonl.gz", "dfs_cp40", "DFS-ResNet74, target cp 0.40"),
    ("traces/resnet74_cp60.jsonl.gz", "dfs_cp60", "DFS-ResNet74, target cp 0.60"),
    ("traces/skipnet74_cp20.jsonl.gz", "skipnet_cp20", "SkipNet-ResNet74, target cp 0.20"),
]
PAPER = """| paper (CIFAR, Shen et al. AAAI 2020) | accuracy |
|---|---:|
| ResNet74 full precision, CIFAR-10 | 93.55% |
| DFS-ResNet74 cp 20%, CIFAR-10 | 93.61% |
| SkipNet-ResNet74 cp 20%, CIFAR-10 | 89.26% |
| DFS-ResNet74 target 40% (actual 40.20%), CIFAR-10 | 93.53% |
| DFS-ResNet38 / SkipNet-ResNet38 cp 20%, CIFAR-100 | 68.91% / 60.38% |"""


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}%"


def _row(trace_path: Path, run: str, label: str, arch) -> tuple[list[str], dict]:
    trace = load_trace(trace_path)
    network = trace.header.network
    dynamic = simulate_network(network, Decisions(trace.act_bits, trace.wgt_bits), arch)
    full = simulate_network(static_variant(network, FULL, "full"),
                            Decisions.static(1), arch)
    eight = simulate_network(static_variant(network, EIGHT_BIT, "8"), Decisions.static(1), arch)
    vs_full, vs_eight = compare("full", dynamic, full), compare("8-bit", dynamic, eight)
    metrics = json.loads((RUNS / run / "metrics.json").read_text())
    cp = trace.header.cp
    cells = [label, _pct(cp.accuracy), _pct(cp.target), _pct(cp.measured),
             _pct(cp.measured_flop_weighted), f"{1 / vs_full.speedup:.3f}",
             f"{1 - vs_full.energy_saving:.3f}", f"{vs_eight.speedup:.2f}x",
             f"{float(dynamic.energy_pj().mean()) / 1e6:.0f}"]
    return cells, metrics


def _schedules(metrics: dict[str, dict]) -> list[str]:
    lines = ["| run | stage | steps | epochs | batch | lr | |alpha| | wall s | command |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for run, m in metrics.items():
        s = m["schedule"]
        lines.append(f"| {run} | {m['stage']} | {s['steps']} | {s['epochs']:.2f} | "
                     f"{s['batch_size']} | {s['lr']} | {s.get('alpha_abs', '')} | "
                     f"{m['final']['wall_s']:.0f} | `{m['command']}` |")
    return lines


def _block_usage(trace_path: Path) -> str:
    """Share of (input, block) decisions per option, e.g. 'skip 0%, 8/8 32%, 16/16 66%'."""
    trace = load_trace(trace_path)
    total = trace.act_bits.size
    parts = []
    for option in trace.header.network.options:
        share = ((trace.act_bits == option.act_bits) & (trace.wgt_bits == option.wgt_bits)).sum()
        parts.append(f"{option} {100 * share / total:.0f}%")
    return ", ".join(parts)


def _findings(rows: list[list[str]]) -> list[str]:
    by_label = {r[0]: r for r in rows}
    dfs = by_label.get("DFS-ResNet74, target cp 0.20")
    skip = by_label.get("SkipNet-ResNet74, target cp 0.20")
    if not (dfs and skip):
        return []
    lines = ["## What the hardware says", "",
             f"- At the same nominal cp 0.20, DFS keeps {dfs[1]} accuracy against SkipNet's "
             f"{skip[1]}, but on Bit Fusion it spends {dfs[6]} of the full-precision energy "
             f"against SkipNet's {skip[6]} (cycles: {dfs[5]} vs {skip[5]}).",
             f"- Why: DFS's decisions over (input, block) pairs are "
             f"{_block_usage(REPO / 'traces/resnet74_cp20.jsonl')}; SkipNet's are "
             f"{_block_usage(REPO / 'traces/skipnet74_cp20.jsonl.gz')}. Compute falls with "
             "(b/32)^2, so cycles track the nominal cp, but DRAM traffic falls only with b and "
             "dominates energy; only skipping removes it.", ""]
    return lines


def build(out: Path) -> None:
    arch = load_arch(ARCH)
    rows, metrics = [], {}
    for trace, run, label in SHIPPED:
        if (REPO / trace).exists() and (RUNS / run / "metrics.json").exists():
            cells, metrics[run] = _row(REPO / trace, run, label, arch)
            rows.append(cells)
    for extra in ("dfs_gate_init", "skipnet_gate_init"):
        if (RUNS / extra / "metrics.json").exists():
            metrics[extra] = json.loads((RUNS / extra / "metrics.json").read_text())
    header = ("| model | test accuracy | target cp | measured cp (paper) | measured cp (FLOPs) | "
              "cycles / full | energy / full | speedup vs all-8-bit | uJ / input |")
    text = "\n".join([
        "# Results: DFS and SkipNet on Fashion-MNIST, priced on Bit Fusion",
        "",
        "Generated by `python bench/make_results.py`; do not edit by hand. Accuracy on the full",
        "Fashion-MNIST test set (10,000 inputs), from the trace headers; cp measured on the same",
        "inputs; cycles and energy from `hwsim` on `arch_configs/bitfusion_16x16.yaml` at batch 1,",
        "as fractions of the same network at full precision with nothing skipped and no gates.",
        "", header, "|---|---:|---:|---:|---:|---:|---:|---:|---:|", *("| " + " | ".join(r) + " |"
                                                                    for r in rows),
        "", *_findings(rows),
        "## Schedules actually used (reduced: 2 CPU cores, no GPU)", "",
        "Caveats: the base network is far from converged (1.17 epochs; converged ResNets reach",
        "93-95% on Fashion-MNIST), and the DFS and SkipNet runs train 190 steps more than the",
        "base (gate init + joint), which is why DFS at cp 0.40/0.60 scores slightly above it.",
        "|alpha| is 1e-3 for the joint stage instead of the paper's 5e-6: with the short",
        "schedule, 5e-6 left cp at 1.0 (see docs/dfs-training.md). DFS and SkipNet share one",
        "schedule.", "",
        *_schedules(metrics), "",
        "## The paper's figures, for comparison (not reproduced here: different data set and "
        "schedule)", "", PAPER, ""])
    out.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "results.md")
    build(parser.parse_args().out)


if __name__ == "__main__":
    main()
