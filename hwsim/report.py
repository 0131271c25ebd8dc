"""Run reports: the per-layer table, per-input statistics, baselines, and atomic output files.

Everything here reads a finished `SimulationResult`; nothing is re-derived by a second path.
Units are in every column name. Energies in the files are picojoules (pJ) unless a name says
otherwise; latency in cycles and microseconds at the arch's clock.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwsim import __version__
from hwsim.cost.energy import COMPONENTS
from hwsim.errors import HwsimError
from hwsim.simulation import LayerSummary, SimulationResult

PERCENTILES = (50, 95, 99)


@dataclass(frozen=True, slots=True)
class Comparison:
    """A dynamic run beside a static baseline of the same network (per-input means)."""

    name: str
    baseline_cycles: float
    baseline_energy_pj: float
    speedup: float  # baseline cycles / dynamic cycles
    energy_saving: float  # 1 - dynamic energy / baseline energy


def input_stats(result: SimulationResult) -> dict[str, float]:
    """Mean and percentiles of per-input latency (cycles, us) and energy (uJ)."""
    latency = result.per_input["latency_cycles"]
    energy_uj = result.energy_pj() / 1e6
    mhz = result.arch.frequency_mhz
    p = result.per_input
    stats = {"inputs": float(result.input_count), "latency_cycles_mean": float(latency.mean()),
             "latency_us_mean": float(latency.mean() / mhz),
             "energy_uj_mean": float(energy_uj.mean()),
             "dram_bytes_mean": float(p["dram_bits"].mean() / 8),
             "compulsory_bytes_mean": float(p["compulsory_bits"].mean() / 8),
             "onchip_bytes_mean": float(p["onchip_bits"].mean() / 8)}
    for q in PERCENTILES:
        cycles = float(np.percentile(latency, q))
        stats[f"latency_cycles_p{q}"] = cycles
        stats[f"latency_us_p{q}"] = cycles / mhz
        stats[f"energy_uj_p{q}"] = float(np.percentile(energy_uj, q))
    return stats


def mean_cycles(result: SimulationResult) -> float:
    return float(result.per_input["latency_cycles"].mean())


def compare(name: str, dynamic: SimulationResult, baseline: SimulationResult) -> Comparison:
    base_cycles, base_energy = mean_cycles(baseline), float(baseline.energy_pj().mean())
    dyn_energy = float(dynamic.energy_pj().mean())
    return Comparison(name, base_cycles, base_energy, base_cycles / mean_cycles(dynamic),
                      1.0 - dyn_energy / base_energy)


def bits_distribution(summary: LayerSummary) -> str:
    """'8/8:61% 16/16:20% skip:19%' over inputs, most frequent first."""
    total = sum(count for _, count in summary.precision_counts)
    parts = sorted(summary.precision_counts, key=lambda pc: (-pc[1], pc[0]))
    return " ".join(f"{p}:{100 * c / total:.0f}%" for p, c in parts)


def layer_rows(result: SimulationResult) -> list[dict[str, object]]:
    """One row per layer; the columns of layers.csv.

    Cycles are per group of `batch` consecutive inputs (at batch 1, per input): the layer's
    share of the latency every input of the group sees, so they sum to the printed latency.
    MACs, DRAM bytes and energies are per input (a group's cost split evenly).
    """
    n = max(result.input_count, 1)
    groups = max(-(-result.input_count // result.batch), 1)
    bricks = result.arch.fu_count * result.arch.pe.bricks_per_unit
    rows = []
    for s in result.layers:
        t = s.totals
        cycles = t["compute_cycles"] + t["stall_cycles"]
        row = {"layer": s.layer.name, "kind": s.layer.kind.value, "block": s.block_name or "",
               "bits_distribution": bits_distribution(s),
               "macs_per_input": t["macs"] / n,
               "compute_cycles_per_group": t["compute_cycles"] / groups,
               "stall_cycles_per_group": t["stall_cycles"] / groups,
               "total_cycles_per_group": cycles / groups,
               "brick_utilization": t["busy_bricks"] / (bricks * cycles) if cycles else 0.0,
               "fu_utilization": t["busy_fus"] / (result.arch.fu_count * cycles) if cycles else 0.0,
               "dram_bytes_per_input": t["dram_bits"] / 8 / n,
               "onchip_bytes_per_input": t["onchip_bits"] / 8 / n,
               "compulsory_bytes_per_input": t["compulsory_bits"] / 8 / n}
        for c in COMPONENTS:
            row[f"energy_{c.removesuffix('_pj')}_pj_per_input"] = t[c] / n
        row["energy_total_pj_per_input"] = sum(t[c] for c in COMPONENTS) / n
        rows.append(row)
    return rows


def input_columns(result: SimulationResult, ids, labels, predictions) -> dict[str, np.ndarray]:
    """The columns of inputs.csv."""
    p = result.per_input
    columns = {"id": ids, "label": labels, "prediction": predictions,
               "latency_cycles": p["latency_cycles"],
               "latency_us": p["latency_cycles"] / result.arch.frequency_mhz,
               "compute_cycles": p["compute_cycles"], "stall_cycles": p["stall_cycles"],
               "dram_bytes": p["dram_bits"] / 8}
    for c in COMPONENTS:
        columns[f"energy_{c.removesuffix('_pj')}_pj"] = p[c]
    columns["energy_total_uj"] = result.energy_pj() / 1e6
    return columns


def _csv_text(rows: list[dict[str, object]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else [])
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def columns_csv_text(columns: dict[str, np.ndarray]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    values = [c.tolist() for c in columns.values()]
    writer.writerows(zip(*values, strict=True))
    return buffer.getvalue()


MANIFEST = "manifest.json"
TEMP_PREFIX = ".hwsim-tmp-"


def pid_alive(pid: int) -> bool:
    """Whether a process of this machine is still running."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def _remove_stale(out: Path, names: list[str]) -> None:
    """Temporaries of interrupted runs: result-set folders whose writer is gone, and the hidden
    per-file temporaries of earlier versions."""
    for entry in out.iterdir():
        if entry.name.startswith(TEMP_PREFIX) and entry.is_dir():
            pid = entry.name[len(TEMP_PREFIX):].split("-", 1)[0]
            if pid.isdigit() and not pid_alive(int(pid)):
                shutil.rmtree(entry, ignore_errors=True)
        elif any(entry.name.startswith(f".{name}.") for name in names) and entry.is_file():
            entry.unlink(missing_ok=True)


def write_outputs(out_dir: str | os.PathLike[str], files: dict[str, Callable[[], str]]) -> None:
    """Write a result set as one unit: every file, then `manifest.json` (their sha256) last.

    Everything is rendered before anything is written; the files go to a temporary folder in
    `out_dir` first, so a failure (a full disk) leaves nothing new behind. The old manifest is
    removed before the files are renamed into place and the new one is renamed last: a reader
    that finds a manifest whose hashes match has a complete, unmixed set, even after a kill
    between two renames. Temporaries of interrupted runs are removed by the next run.
    """
    out = Path(out_dir)
    try:
        if out.exists() and not out.is_dir():
            raise HwsimError(f"{out}: exists and is not a folder; --out names a folder for "
                             f"{', '.join(files)}")
        out.mkdir(parents=True, exist_ok=True)
        _remove_stale(out, [*files, MANIFEST])
        texts = {name: render() for name, render in files.items()}
        manifest = {"format": "hwsim.result_set/1", "hwsim_version": __version__,
                    "files": {name: hashlib.sha256(text.encode()).hexdigest()
                              for name, text in texts.items()}}
        texts[MANIFEST] = json_text(manifest)
        tmp = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", dir=out))
        try:
            for name, text in texts.items():
                (tmp / name).write_text(text, newline="")
                os.chmod(tmp / name, 0o644)  # results are meant to be shared
            (out / MANIFEST).unlink(missing_ok=True)
            for name in files:
                os.replace(tmp / name, out / name)
            os.replace(tmp / MANIFEST, out / MANIFEST)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    except OSError as err:
        raise HwsimError(f"{out}: cannot write results ({err.strerror}); "
                         f"choose a writable --out directory") from None


def write_file_atomic(path: str | os.PathLike[str], text: str, what: str = "--out") -> None:
    """One file, rendered first, written to a temporary beside it and renamed into place."""
    target = Path(path)
    try:
        if target.is_dir():
            raise HwsimError(f"{target}: is a folder; {what} names a file")
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(fd, "w", newline="") as handle:
                handle.write(text)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as err:
        raise HwsimError(f"{target}: cannot write ({err.strerror}); choose a writable "
                         f"{what}") from None


def json_text(data: dict) -> str:
    return json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n"


def csv_rows_text(rows: list[dict[str, object]]) -> str:
    return _csv_text(rows)


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    """Plain aligned text table (first column left-aligned, the rest right-aligned)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def _si(value: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.2f}{unit}"
    return f"{value:.0f}"


def format_layer_table(rows: list[dict[str, object]], batch: int = 1) -> str:
    """The per-layer table; a first line says what is per group and what per input."""
    headers = ["layer", "bits (share of inputs)", "MACs", "compute cyc", "stall cyc",
               "total cyc", "util brick", "util FU", "DRAM B", "E comp nJ", "E SRAM nJ",
               "E DRAM nJ", "E leak nJ"]
    note = ("per input" if batch == 1 else
            f"cycles per group of {batch} inputs (the latency each input sees); MACs, DRAM "
            f"bytes and energy per input")
    body = []
    for r in rows:
        sram = (r["energy_input_sram_pj_per_input"] + r["energy_weight_sram_pj_per_input"]
                + r["energy_output_sram_pj_per_input"])
        body.append([r["layer"], r["bits_distribution"], _si(r["macs_per_input"]),
                     _si(r["compute_cycles_per_group"]), _si(r["stall_cycles_per_group"]),
                     _si(r["total_cycles_per_group"]), f"{100 * r['brick_utilization']:.1f}%",
                     f"{100 * r['fu_utilization']:.1f}%", _si(r["dram_bytes_per_input"]),
                     f"{r['energy_compute_pj_per_input'] / 1e3:.1f}", f"{sram / 1e3:.1f}",
                     f"{r['energy_dram_pj_per_input'] / 1e3:.1f}",
                     f"{r['energy_leakage_pj_per_input'] / 1e3:.1f}"])
    return f"per layer, {note}:\n" + format_table(headers, body)


def _fraction(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def format_summary(summary: dict) -> str:
    """The per-input statistics and baseline comparison, as text."""
    s = summary["per_input"]
    lines = [f"per input ({int(s['inputs'])} inputs, batch {summary['batch']}, "
             f"{summary['timing']} timing, {summary['arch']['frequency_mhz']:g} MHz):",
             format_table(["", "mean", "p50", "p95", "p99"], [
                 ["latency (cycles)", *(_si(s[f"latency_cycles_{k}"]) for k in
                                        ("mean", "p50", "p95", "p99"))],
                 ["latency (us)", *(f"{s[f'latency_us_{k}']:.2f}" for k in
                                    ("mean", "p50", "p95", "p99"))],
                 ["energy (uJ)", *(f"{s[f'energy_uj_{k}']:.3f}" for k in
                                   ("mean", "p50", "p95", "p99"))]])]
    if "compulsory_bytes_mean" in s:
        dram, need = s["dram_bytes_mean"], s["compulsory_bytes_mean"]
        lines += ["", f"DRAM traffic per input: {dram / 1e6:.2f} MB, "
                      f"{dram / need if need else 0:.2f}x the per-layer compulsory "
                      f"{need / 1e6:.2f} MB (weights, inputs and outputs of every executed "
                      f"layer once, at their widths); kept on chip: "
                      f"{s['onchip_bytes_mean'] / 1e6:.2f} MB"]
    rows = [[c["name"], _si(c["baseline_cycles"]), f"{c['baseline_energy_pj'] / 1e6:.3f}",
             f"{c['speedup']:.2f}x", f"{100 * c['energy_saving']:.1f}%"]
            for c in summary["baselines"]]
    lines += ["", "against static baselines (same network, nothing skipped, no gates):",
              format_table(["baseline", "cycles/input", "uJ/input", "speedup", "energy saved"],
                           rows)]
    cp = summary.get("cp_vs_hardware")
    if cp:
        lines += ["", "nominal cp (trace) vs hardware spend (fraction of full precision):",
                  f"  cp paper {_fraction(cp['cp_nominal'])}  "
                  f"cp FLOP-weighted {_fraction(cp['cp_flop_weighted'])}  "
                  f"cycles {cp['cycles_fraction']:.3f}  energy {cp['energy_fraction']:.3f}"]
    if summary.get("rounded"):
        lines += ["", "bit widths rounded up to what the PE runs natively:"]
        lines += [f"  {r['layer']}: {r['requested']} -> {r['native']}" for r in summary["rounded"]]
    return "\n".join(lines)
