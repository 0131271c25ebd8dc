from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from dfs_models.checkpoint import load_model, save_model, sha256_file
from dfs_models.data import DatasetKind, Split, load_dataset
from dfs_models.evaluate import evaluate
from dfs_models.export import export_trace
from dfs_models.geometry import network_from_model, options_as_precisions
from dfs_models.resnet import ModelSpec, build_model
from hwsim.workload.synth import resnet_cifar_network
from hwsim.workload.trace import SourceKind, load_trace

REPO = Path(__file__).resolve().parents[2]


def _trained_like(path: Path, spec: ModelSpec, facts: dict) -> None:
    """A checkpoint whose gates spread their choices (so the trace is not all one option)."""
    torch.manual_seed(0)
    model = build_model(spec)
    model.train()
    model(torch.randn(16, spec.in_channels, spec.input_size, spec.input_size))
    if spec.gated:
        with torch.no_grad():
            model.controller.head.weight.mul_(40.0)
    save_model(model, path, facts)


def test_layer_table_agrees_with_hwsim_synth() -> None:
    for options in [(0, 8, 16, 32), (0, 32), ()]:
        model = build_model(ModelSpec("resnet14", 10, 1, 28, options))
        expected = resnet_cifar_network(14, 1, 28, 10, options_as_precisions(options),
                                        gated=bool(options), name="net")
        network = network_from_model(model, name="net")
        assert network == expected
        assert sum(layer.macs for layer in network.layers) == model.total_macs


def test_layer_sizes_match_a_real_forward() -> None:
    model = build_model(ModelSpec("resnet8", 10, 3, 20, options=())).eval()
    seen = {}
    for name, block in model.blocks():
        block.register_forward_hook(
            lambda _m, args, out, name=name: seen.update({name: (args[0].shape, out.shape)}))
    model(torch.randn(1, 3, 20, 20))
    layers = {layer.name: layer for layer in network_from_model(model).layers}
    for name, (in_shape, out_shape) in seen.items():
        conv1, conv2 = layers[f"{name}.conv1"], layers[f"{name}.conv2"]
        assert (conv1.in_channels, conv1.input_height) == (in_shape[1], in_shape[2])
        assert (conv2.out_channels, conv2.output_height) == (out_shape[1], out_shape[2])


def test_export_round_trip(tmp_path: Path, fmnist_dir: Path, tiny_spec: ModelSpec) -> None:
    ckpt = tmp_path / "model.pt"
    _trained_like(ckpt, tiny_spec, {"dataset": "fashion-mnist", "target_cp": 0.4})
    out = tmp_path / "traces" / "t.jsonl.gz"
    count = export_trace(ckpt, out, data_dir=str(fmnist_dir), batch_size=7)
    trace = load_trace(out)
    model, _ = load_model(ckpt)
    test = load_dataset(DatasetKind.FASHION_MNIST, Split.TEST, fmnist_dir)
    result = evaluate(model, test, 40, torch.device("cpu"))
    header = trace.header
    assert count == trace.num_inputs == 40 == header.num_inputs
    assert header.model.source is SourceKind.TRAINED
    assert header.model.checkpoint_sha256 == sha256_file(ckpt)
    assert header.model.input_shape == (1, 12, 12) and header.model.dataset.startswith("fashion")
    assert header.network == network_from_model(model)
    assert header.network.name == "dfs_resnet14"
    skipnet = build_model(dataclasses.replace(tiny_spec, options=(0, 32)))
    assert network_from_model(skipnet).name == "skipnet_resnet14"
    assert header.cp.target == 0.4 and abs(header.cp.accuracy - result.accuracy) < 1e-9
    bits = np.array(tiny_spec.options)[result.decisions.numpy()]
    assert np.array_equal(trace.act_bits, bits) and np.array_equal(trace.wgt_bits, bits)
    assert len(np.unique(trace.act_bits)) >= 2
    assert np.array_equal(trace.labels, test.labels.numpy())
    assert np.array_equal(trace.predictions, result.predictions.numpy())
    cost = (trace.act_bits / 32.0) ** 2
    assert abs(header.cp.measured - cost.mean()) < 1e-6
    assert abs(header.cp.measured_flop_weighted - result.cp_flop) < 1e-6


def test_full_precision_checkpoint_exports_a_static_network(
        tmp_path: Path, fmnist_dir: Path, tiny_spec: ModelSpec) -> None:
    ckpt = tmp_path / "base.pt"
    _trained_like(ckpt, dataclasses.replace(tiny_spec, options=()), {"dataset": "fashion-mnist"})
    out = tmp_path / "full.jsonl"
    export_trace(ckpt, out, data_dir=str(fmnist_dir), limit=10)
    trace = load_trace(out)
    assert trace.header.network.blocks == () and trace.act_bits.shape == (10, 0)
    assert all(layer.fixed is not None and layer.fixed.act_bits == 32
               for layer in trace.header.network.layers)
    assert trace.header.network.name == "resnet14" and trace.header.cp.accuracy is not None
    checked = subprocess.run([sys.executable, "-m", "hwsim", "validate", str(out)], cwd=REPO,
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr


def test_tiny_train_export_simulate_end_to_end(tmp_path: Path, fmnist_dir: Path) -> None:
    """The whole pipeline on fabricated data: base -> gate init -> joint -> trace -> hwsim run."""
    from dfs_fixtures import tiny_config

    from dfs_models.config import Stage
    from dfs_models.train import train

    train(tiny_config(tmp_path / "base", fmnist_dir, stage=Stage.BASE, steps=3,
                      zero_init_residual=True, channels_last=True))
    train(tiny_config(tmp_path / "gi", fmnist_dir, stage=Stage.GATE_INIT, steps=2,
                      init_from=str(tmp_path / "base" / "model.pt")))
    train(tiny_config(tmp_path / "joint", fmnist_dir, target_cp=0.3, gate_lr_scale=10.0,
                      init_from=str(tmp_path / "gi" / "model.pt")))
    trace_path = tmp_path / "t.jsonl"
    assert export_trace(tmp_path / "joint" / "model.pt", trace_path,
                        data_dir=str(fmnist_dir)) == 40
    out = tmp_path / "sim"
    run = subprocess.run([sys.executable, "-m", "hwsim", "run", "--arch",
                          str(REPO / "arch_configs" / "bitfusion_16x16.yaml"), "--trace",
                          str(trace_path), "--out", str(out), "--format", "json"],
                         cwd=tmp_path, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["network"] == "dfs_resnet8"
    rows = (out / "inputs.csv").read_text().splitlines()
    assert len(rows) == 41 and rows[0].startswith("id,label,prediction,latency_cycles")
