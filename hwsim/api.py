"""A small Python API for notebooks: `hwsim.simulate(arch, trace)` -> tables as plain data.

    import hwsim
    result = hwsim.simulate("bitfusion_16x16", "resnet74_cp20")
    result.summary["per_input"]["energy_uj_mean"]     # summary.json, as a dict
    result.layers[0]["total_cycles_per_group"]        # layers.csv rows, as dicts
    result.inputs["energy_total_uj"]                  # inputs.csv columns, as numpy arrays

`pandas.DataFrame(result.layers)` and `pandas.DataFrame(result.inputs)` give the tables; the
same numbers `hwsim run --out` writes. Errors are `hwsim.errors.HwsimError` with the message
the command line prints.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

from hwsim.cli.run import _baselines, _simulate, build_summary, load_workload
from hwsim.hardware.arch import ArchConfig, load_arch
from hwsim.report import input_columns, layer_rows
from hwsim.shipped import resolve
from hwsim.simulation import SimulationResult


@dataclass(frozen=True, slots=True)
class Result:
    """One simulation: `summary` (summary.json), `layers` (layers.csv rows), `inputs`
    (inputs.csv columns) and `raw`, the `SimulationResult` they are made from."""

    summary: dict
    layers: list[dict]
    inputs: dict[str, np.ndarray]
    raw: SimulationResult


def simulate(arch: str | ArchConfig = "bitfusion_16x16", trace: str | None = None, *,
             benchmark: str | None = None, inputs: int | None = None, batch: int = 1,
             timing: str = "analytic", overrides: tuple[str, ...] = ()) -> Result:
    """Simulate a trace (path or shipped name) or a Bit Fusion benchmark on an arch (path,
    shipped name or ArchConfig), like `hwsim run`.

    Raises:
        HwsimError: bad arch, trace or arguments (the command line's one-line message).
    """
    if isinstance(arch, ArchConfig):
        config = arch
    else:
        config = load_arch(resolve("arch", arch, "arch"), tuple(overrides))
    args = argparse.Namespace(trace=trace, benchmark=benchmark, topology=None, act_bits=None,
                              wgt_bits=None, inputs=inputs, batch=batch, timing=timing,
                              no_progress=True)
    if trace is None and benchmark is None:
        from hwsim.errors import HwsimError

        raise HwsimError("simulate: give a trace or a benchmark")
    workload = load_workload(args)
    where = workload.source.get("path") or workload.source.get("name")
    result = _simulate(workload, workload.network, workload.decisions, config, args, where)
    summary = build_summary(workload, result, _baselines(workload, config, args, where))
    columns = input_columns(result, workload.ids, workload.labels, workload.predictions)
    return Result(summary, layer_rows(result), columns, result)
