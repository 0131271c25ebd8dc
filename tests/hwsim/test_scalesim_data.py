"""Stored SCALE-Sim 3.0.0 comparison (bench/data/scalesim_comparison.*): CI needs no SCALE-Sim.

The data come from `python bench/scalesim_compare.py run` (SCALE-Sim in its own venv, hwsim in a
fresh process; see that script). These tests hold the stored figures to the targets and hold the
current hwsim code to the stored hwsim figures, so the data cannot silently go stale.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import pytest

from hwsim.hardware.arch import DramConfig, load_arch
from hwsim.simulation import Decisions, simulate_network
from hwsim.workload.benchmarks import load_scalesim_topology

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "bench" / "data"
NETWORKS = ("resnet20_cifar", "resnet74_cifar", "resnet18_scalesim")
DATAFLOWS = ("os", "ws")
NETWORK_TOLERANCE = 0.05  # the target: total cycles within 5% per network and dataflow


@pytest.fixture(scope="module")
def summaries() -> dict[tuple[str, str], dict]:
    data = json.loads((DATA / "scalesim_comparison.json").read_text())
    assert data["setup"]["array"] == "16x16" and data["setup"]["bandwidth"] == "CALC"
    return {(s["network"], s["dataflow"]): s for s in data["networks"]}


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with open(DATA / "scalesim_comparison.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_network_and_dataflow_is_stored(summaries):
    assert set(summaries) == {(n, d) for n in NETWORKS for d in DATAFLOWS}


@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize("dataflow", DATAFLOWS)
def test_network_total_cycles_within_5_percent(summaries, rows, network, dataflow):
    summary = summaries[(network, dataflow)]
    mine = [r for r in rows if r["network"] == network and r["dataflow"] == dataflow]
    assert len(mine) == summary["layers"]
    assert sum(int(r["scalesim_cycles"]) for r in mine) == summary["scalesim_cycles"]
    assert sum(int(r["hwsim_cycles"]) for r in mine) == summary["hwsim_cycles"]
    assert summary["hwsim_cycles"] == pytest.approx(summary["scalesim_cycles"],
                                                    rel=NETWORK_TOLERANCE)


def test_cycle_model_is_exact_on_scalesim_geometry(rows):
    """Every residual is SCALE-Sim's output-size convention on strided layers, none the model."""
    for r in rows:
        assert int(r["hwsim_cycles_scalesim_geometry"]) == int(r["scalesim_cycles"]), r["layer"]
        if float(r["cycles_error"]) != 0:
            assert r["layer"] and int(r["hwsim_cycles"]) < int(r["scalesim_cycles"])


def test_only_layers_sized_differently_differ(rows):
    """Layers whose output SCALE-Sim sizes like the convolution match it cycle for cycle."""
    assert any(int(r["output_size_differs"]) for r in rows)
    for r in rows:
        if not int(r["output_size_differs"]):
            assert int(r["hwsim_cycles"]) == int(r["scalesim_cycles"]), r["layer"]


def test_utilization_matches_where_geometry_agrees(rows):
    """SCALE-Sim also counts the MACs of its extra output row and column, so compare the rest."""
    for r in rows:
        if not int(r["output_size_differs"]):
            assert float(r["hwsim_utilization"]) == pytest.approx(
                float(r["scalesim_utilization"]), rel=0.011)  # our +1 exposed-load cycle
            assert int(r["scalesim_stall_cycles"]) == 0  # CALC bandwidth never stalls


def test_hwsim_is_much_faster_and_smaller(summaries):
    scalesim_s = sum(s["scalesim_wall_s"] for s in summaries.values())
    hwsim_s = sum(s["hwsim_wall_s"] for s in summaries.values())
    assert scalesim_s / hwsim_s >= 100
    for s in summaries.values():
        assert s["wall_speedup"] >= 100  # the target, per network and dataflow
        assert s["hwsim_peak_rss_mib"] < s["scalesim_peak_rss_mib"]


@pytest.mark.parametrize("dataflow", DATAFLOWS)
def test_stored_hwsim_figures_match_the_current_code(rows, dataflow):
    topology = DATA / "topologies" / "resnet20_cifar.csv"
    network = load_scalesim_topology(topology, 8, 8)
    arch = load_arch(REPO / "arch_configs" / f"systolic8_16x16_{dataflow}.yaml")
    arch = dataclasses.replace(arch, dram=DramConfig(1 << 40))  # stall-free, like CALC
    result = simulate_network(network, Decisions.static(1), arch)
    stored = {r["layer"]: int(r["hwsim_cycles"]) for r in rows
              if r["network"] == "resnet20_cifar" and r["dataflow"] == dataflow}
    assert {s.layer.name: int(s.totals["compute_cycles"]) for s in result.layers} == stored


def test_the_stall_free_comparison_is_reproducible_from_the_cli(capsys) -> None:
    """`--set dram.bandwidth_bits_per_cycle=2^40` is SCALE-Sim's CALC mode, no YAML edits."""
    from hwsim.cli.main import main

    repo = Path(__file__).resolve().parents[2]
    stored = json.loads((repo / "bench" / "data" / "scalesim_comparison.json").read_text())
    row = next(r for r in stored["networks"]
               if r["network"] == "resnet20_cifar" and r["dataflow"] == "os")
    code = main(["run", "--arch", str(repo / "arch_configs" / "systolic8_16x16_os.yaml"),
                 "--topology", str(repo / "bench" / "data" / "topologies" / "resnet20_cifar.csv"),
                 "--act-bits", "8", "--wgt-bits", "8", "--format", "json", "--no-progress",
                 "--set", f"dram.bandwidth_bits_per_cycle={1 << 40}"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    cycles = summary["per_input"]["latency_cycles_mean"]
    assert cycles == pytest.approx(row["scalesim_cycles"], rel=0.03)  # SCALE-Sim's own figure
    assert cycles == pytest.approx(row["hwsim_cycles"], rel=0.001)  # as stored by the bench
    assert summary["arch"]["dram"]["bandwidth_bits_per_cycle"] == 1 << 40
