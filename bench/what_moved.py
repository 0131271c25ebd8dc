"""What moved the headline: the cp 0.20 DFS trace on bitfusion_16x16 under each model change.

Rows, each adding one change to the one above:
  (a) the model before the cost-model issue (git revision BASELINE_REV, run from a temporary
      worktree of this repository),
  (b) + energy-aware mapping (EDP objective), first load / last store counted once, channel
      tiles filling the array,
  (c) + technology that scales (leakage per FU and KiB through the clock, SRAM energy by
      capacity, clock-gated idle FUs),
  (d) + outputs requantized and activations kept on chip (the shipped bitfusion_16x16.yaml).
Prints mean energy per input, the energy fraction of the full-precision network, the cycles
fraction, and DRAM MB per input. Regenerate the README table with:

    python bench/what_moved.py [--trace traces/resnet74_cp20.jsonl]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
ARCH = REPO / "arch_configs" / "bitfusion_16x16.yaml"
BASELINE_REV = "1a5f5a5"  # main before the cost-model issue (energy-aware mapping onwards)


def _run(cwd: Path, arch: Path, trace: Path) -> dict:
    """`hwsim run` from `cwd`'s code; adds the mean DRAM bytes from its inputs.csv."""
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([sys.executable, "-m", "hwsim", "run", "--arch", str(arch), "--trace",
                        str(trace), "--out", out, "--no-progress"], cwd=cwd, check=True,
                       capture_output=True, env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"})
        summary = json.loads((Path(out) / "summary.json").read_text())
        with (Path(out) / "inputs.csv").open() as handle:
            column = handle.readline().strip().split(",").index("dram_bytes")
            values = [float(line.split(",")[column]) for line in handle]
    summary["per_input"]["dram_bytes_mean"] = sum(values) / len(values)
    return summary


def _variant(folder: Path, name: str, change) -> Path:
    data = yaml.safe_load(ARCH.read_text())
    change(data)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _b(data: dict) -> None:
    _c(data)
    data.pop("technology")
    data["energy"]["leakage_pj_per_cycle"] = 11.7504  # the former fixed array-wide figure


def _c(data: dict) -> None:
    data["mapping"].update(keep_activations_on_chip=False, requantize_outputs=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trace", default=str(REPO / "traces" / "resnet74_cp20.jsonl"))
    args = parser.parse_args()
    trace = Path(args.trace).resolve()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        old = folder / "baseline"
        subprocess.run(["git", "worktree", "add", "--detach", str(old), BASELINE_REV],
                       cwd=REPO, check=True, capture_output=True)
        try:
            rows.append(("(a) before", _run(old, old / "arch_configs" / ARCH.name, trace)))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=REPO,
                           check=True, capture_output=True)
        rows.append(("(b) + energy-aware mapping, timing fixes",
                     _run(REPO, _variant(folder, "b", _b), trace)))
        rows.append(("(c) + scaled technology", _run(REPO, _variant(folder, "c", _c), trace)))
        rows.append(("(d) + on-chip activations, requantized outputs", _run(REPO, ARCH, trace)))
    print("| model | uJ/input | energy vs full precision | cycles vs full precision "
          "| DRAM MB/input |")
    print("|---|---:|---:|---:|---:|")
    for name, summary in rows:
        cp = summary["cp_vs_hardware"]
        per = summary["per_input"]
        dram = per.get("dram_bytes_mean")
        print(f"| {name} | {per['energy_uj_mean']:,.0f} | {cp['energy_fraction']:.3f} | "
              f"{cp['cycles_fraction']:.3f} | {'-' if dram is None else f'{dram / 1e6:.2f}'} |")


if __name__ == "__main__":
    main()
