"""A Markdown table of the runs under a folder, from their metrics.json files."""

from __future__ import annotations

import json
from pathlib import Path

from dfs_models.errors import DfsError

_COLUMNS = ("run", "stage", "options", "target cp", "steps", "epochs", "lr", "|alpha|",
            "test acc %", "cp paper", "cp FLOP-weighted", "wall min")


def _row(path: Path) -> list[str]:
    data = json.loads(path.read_text())
    final, sched, cfg = data["final"], data["schedule"], data["config"]
    gated = data["stage"] != "base"
    joint = data["stage"] == "joint"
    return [path.parent.name, data["stage"],
            "{" + ",".join(str(b) for b in cfg["options"]) + "}" if gated else "full",
            f"{sched['target_cp']:.2f}" if joint else "-", str(sched["steps"]),
            f"{sched['epochs']:.2f}", f"{sched['lr']:g}",
            f"{sched['alpha_abs']:g}" if joint else "-", f"{100 * final['test_acc']:.2f}",
            f"{final['test_cp_paper']:.3f}", f"{final['test_cp_flop']:.3f}",
            f"{final['wall_s'] / 60:.1f}"]


def summarize_runs(root: Path) -> str:
    """One table row per finished run folder under `root` (sorted by name)."""
    paths = sorted(p for p in root.glob("*/metrics.json")
                   if json.loads(p.read_text()).get("finished"))
    if not paths:
        raise DfsError(f"{root}: no finished run (no */metrics.json with finished: true)")
    lines = ["| " + " | ".join(_COLUMNS) + " |", "|" + "---|" * len(_COLUMNS)]
    lines += ["| " + " | ".join(_row(p)) + " |" for p in paths]
    return "\n".join(lines)
