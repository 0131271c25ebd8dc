"""The cost table: per (gated block, option) costs whose per-input sums are `hwsim run`'s."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hwsim.explore.cost_table import FORMAT, cost_table, table_costs
from hwsim.simulation import Decisions, simulate_network
from hwsim.workload.synth import write_synthetic_trace
from hwsim.workload.trace import load_trace

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def small_trace(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ct") / "t.jsonl"
    write_synthetic_trace(path, 14, 40, 0.3, seed=3, input_size=16, in_channels=1)
    return path


@pytest.mark.parametrize("arch_name", ["arch_16x16", "isca18_arch"])
def test_per_input_sums_reproduce_the_simulation_exactly_at_batch_1(request, arch_name,
                                                                     small_trace) -> None:
    arch = request.getfixturevalue(arch_name)
    trace = load_trace(small_trace)
    table = cost_table(trace.header.network, arch)
    energy, cycles = table_costs(table, trace.act_bits, trace.wgt_bits)
    result = simulate_network(trace.header.network, Decisions(trace.act_bits, trace.wgt_bits),
                              arch)
    assert np.allclose(energy, result.energy_pj(), rtol=1e-9)
    assert np.allclose(cycles, result.per_input["latency_cycles"], rtol=1e-9)
    skip = next(e for e in table["entries"] if e["option"] == [0, 0]
                and e["block"] == "group2.block0")
    assert skip["energy_pj"] > 0  # a skipped downsampling block still runs its shortcut + gate


def test_the_cli_writes_the_versioned_json(small_trace, tmp_path) -> None:
    out = tmp_path / "table.json"
    done = subprocess.run([sys.executable, "-m", "hwsim", "cost-table", "--arch",
                           "bitfusion_16x16", "--trace", str(small_trace), "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    table = json.loads(out.read_text())
    assert table["format"] == FORMAT and table["arch"] == "bitfusion_16x16"
    assert len(table["arch_sha256"]) == 64 and table["input_shape"] == [1, 16, 16]
    assert len(table["entries"]) == len(table["blocks"]) * len(table["options"]) == 5 * 4
    static = subprocess.run([sys.executable, "-m", "hwsim", "cost-table", "--trace",
                             str(REPO / "traces" / "resnet74_full.jsonl.gz"), "--out",
                             str(tmp_path / "x.json")], cwd=REPO, capture_output=True,
                            text=True, check=False)
    assert static.returncode == 2 and "no gated blocks" in static.stderr
    assert not (tmp_path / "x.json").exists()
