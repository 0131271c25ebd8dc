"""Cost models for the alpha term: paper, FLOPs, and the simulator's energy/latency table."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from dfs_fixtures import tiny_config

from dfs_models.config import config_from_dict
from dfs_models.costs import CostModel, flop_costs, table_costs
from dfs_models.errors import DfsError, TrainConfigError
from dfs_models.geometry import network_from_model
from dfs_models.resnet import ModelSpec, build_model
from hwsim.explore.cost_table import cost_table
from hwsim.hardware.arch import load_arch
from hwsim.simulation import Decisions, simulate_network

REPO = Path(__file__).resolve().parents[2]
SPEC = ModelSpec("resnet8", 10, 1, 12, (0, 8, 16, 32))


def _table(tmp_path: Path, model) -> tuple[Path, dict, object]:
    arch = load_arch(REPO / "arch_configs" / "bitfusion_16x16.yaml")
    network = network_from_model(model)
    table = {"format": "hwsim.cost_table/1", "arch": arch.name, "arch_sha256": "0" * 64,
             "input_shape": [1, 12, 12], **{k: v for k, v in cost_table(network, arch).items()
                                            if k != "format"}}
    path = tmp_path / "table.json"
    path.write_text(json.dumps(table))
    return path, table, (network, arch)


def test_flop_costs_make_cp_cost_the_flop_weighted_cp() -> None:
    model = build_model(SPEC)
    costs = flop_costs(SPEC.options, model.block_macs.tolist(), float(model.fixed_macs))
    assert costs.fixed + float(costs.matrix[:, -1].mean()) == pytest.approx(1.0)
    model.set_block_costs(costs.matrix, costs.fixed, "flops")
    decisions = torch.tensor([[1, 2], [0, 3], [3, 3]])
    _, flop, cost = model.cp_of_decisions(decisions)
    assert torch.allclose(cost, flop, atol=1e-6)


def test_energy_costs_are_the_simulators_fraction(tmp_path) -> None:
    """cp_cost under the energy model = the simulated energy / the full-precision energy."""
    model = build_model(SPEC)
    path, table, (network, arch) = _table(tmp_path, model)
    blocks = [name for name, _ in model.gated_blocks()]
    costs = table_costs(path, CostModel.ENERGY, blocks, SPEC.options, (1, 12, 12))
    assert costs.fixed + float(costs.matrix[:, -1].mean()) == pytest.approx(1.0)
    assert len(costs.table_sha256) == 64
    model.set_block_costs(costs.matrix, costs.fixed, "energy")
    choice = torch.tensor([[1, 2], [0, 3], [2, 1]])
    _, _, fraction = model.cp_of_decisions(choice)
    bits = np.array(SPEC.options)[choice.numpy()]
    full = np.full_like(bits, 32)
    energy = simulate_network(network, Decisions(bits, bits), arch).energy_pj()
    reference = simulate_network(network, Decisions(full, full), arch).energy_pj()
    assert np.allclose(fraction.numpy(), energy / reference, rtol=1e-5)


@pytest.mark.parametrize(("key", "value", "message"), [
    ("blocks", ["a", "b"], "blocks: the table has"),
    ("options", [[0, 0], [32, 32]], "options: the table has"),
    ("input_shape", [3, 32, 32], "input_shape: the table has"),
    ("format", "other/1", "format: expected 'hwsim.cost_table/1'"),
])
def test_a_table_for_another_model_is_refused(tmp_path, key, value, message) -> None:
    model = build_model(SPEC)
    path, table, _ = _table(tmp_path, model)
    table[key] = value
    path.write_text(json.dumps(table))
    blocks = [name for name, _ in model.gated_blocks()]
    with pytest.raises(DfsError, match=message):
        table_costs(path, CostModel.ENERGY, blocks, SPEC.options, (1, 12, 12))


def test_config_requires_a_table_for_energy() -> None:
    with pytest.raises(TrainConfigError, match="cost_table: required with cost_model energy"):
        config_from_dict({"stage": "joint", "cost_model": "energy"})
    with pytest.raises(TrainConfigError, match="cost_table: only read with cost_model"):
        config_from_dict({"stage": "joint", "cost_table": "t.json"})


def test_energy_aware_training_records_its_table(tmp_path, fmnist_dir) -> None:
    from dfs_models.config import Stage
    from dfs_models.export import export_trace
    from dfs_models.train import train
    from hwsim.workload.trace import read_header

    model = build_model(ModelSpec("resnet8", 10, 1, 12, (0, 8, 16, 32)))
    path, _, _ = _table(tmp_path, model)
    train(tiny_config(tmp_path / "gi", fmnist_dir, stage=Stage.GATE_INIT, steps=2))
    final = train(tiny_config(tmp_path / "joint", fmnist_dir, target_cp=0.5,
                              cost_model=CostModel.ENERGY, cost_table=str(path),
                              init_from=str(tmp_path / "gi" / "model.pt")))
    metrics = json.loads((tmp_path / "joint" / "metrics.json").read_text())
    digest = metrics["schedule"]["cost_table_sha256"]
    assert len(digest) == 64 and metrics["schedule"]["cost_model"] == "energy"
    assert 0.0 < final["test_cp_cost"] <= 1.0
    trace = tmp_path / "t.jsonl"
    export_trace(tmp_path / "joint" / "model.pt", trace, data_dir=str(fmnist_dir))
    assert read_header(trace).model.cost_table_sha256 == digest
