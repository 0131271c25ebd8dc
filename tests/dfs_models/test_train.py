from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch
from dfs_fixtures import tiny_config

import dfs_models.train as train_module
from dfs_models.checkpoint import load_model
from dfs_models.config import Stage
from dfs_models.resnet import ModelSpec, build_model
from dfs_models.summary import summarize_runs
from dfs_models.train import stage_loss, train


def _states_equal(a: Path, b: Path) -> bool:
    first, _ = load_model(a)
    second, _ = load_model(b)
    sa, sb = first.state_dict(), second.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_resume_reproduces_the_uninterrupted_run(tmp_path: Path, fmnist_dir: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    whole = tiny_config(tmp_path / "whole", fmnist_dir)
    train(whole)
    split = dataclasses.replace(whole, run_dir=str(tmp_path / "split"))
    real_periodic = train_module._periodic

    def crash_after_step_2(session, run):
        real_periodic(session, run)
        if run.step == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "_periodic", crash_after_step_2)
    with pytest.raises(KeyboardInterrupt):
        train(split)
    assert not (tmp_path / "split" / "model.pt").exists()
    monkeypatch.setattr(train_module, "_periodic", real_periodic)
    train(split, resume=True)
    assert _states_equal(tmp_path / "whole" / "model.pt", tmp_path / "split" / "model.pt")
    history = [json.loads((tmp_path / d / "metrics.json").read_text())["history"]
               for d in ("whole", "split")]
    strip = [[{k: v for k, v in e.items() if k != "wall_s"} for e in h] for h in history]
    assert strip[0] == strip[1]


def test_two_stage_pipeline_writes_shippable_outputs(tmp_path: Path, fmnist_dir: Path) -> None:
    base = tiny_config(tmp_path / "base", fmnist_dir, stage=Stage.BASE, steps=3)
    final = train(base, command="python -m dfs_models train ...")
    assert final["final"] and final["test_cp_paper"] == 1.0 and final["test_inputs"] == 40
    init = tiny_config(tmp_path / "gi", fmnist_dir, stage=Stage.GATE_INIT, steps=3,
                       init_from=str(tmp_path / "base" / "model.pt"))
    before, _ = load_model(tmp_path / "base" / "model.pt")
    train(init)
    after, facts = load_model(tmp_path / "gi" / "model.pt")
    assert torch.equal(before.groups[1][0].conv1.weight, after.groups[1][0].conv1.weight)
    # Gate init keeps the frozen backbone's BN in eval mode: statistics unchanged, copied to
    # every option slot; only the quantizers' activation ranges learn.
    assert torch.equal(before.stem[1].running_mean, after.stem[1].running_mean)
    block_before, block_after = before.groups[1][0], after.groups[1][0]
    for k in range(3):
        assert torch.equal(after_stats := block_after.bn2.running_var[k],
                           block_before.bn2.running_var), after_stats
    # 8, 16 (32: none)
    assert block_after.conv1.act_quant.initialized.tolist() == [True, True, False]
    assert facts["stage"] == "gate_init" and after.spec.options == (0, 8, 16, 32)
    joint = tiny_config(tmp_path / "joint", fmnist_dir, target_cp=0.4,
                        init_from=str(tmp_path / "gi" / "model.pt"))
    train(joint)
    metrics = json.loads((tmp_path / "joint" / "metrics.json").read_text())
    assert metrics["finished"] and metrics["schedule"]["steps"] == 4
    assert metrics["schedule"]["alpha_abs"] == 1e-3 and metrics["config"]["target_cp"] == 0.4
    for key in ("test_acc", "train_acc", "test_cp_paper", "test_cp_flop", "wall_s"):
        assert key in metrics["final"]
    assert json.loads((tmp_path / "joint" / "config.json").read_text())["stage"] == "joint"
    table = summarize_runs(tmp_path).splitlines()
    assert len(table) == 2 + 3 and table[4].startswith("| joint | joint | {0,8,16,32} | 0.40 |")


def test_dynamic_sign_steers_cp_to_the_target() -> None:
    """Toy problem: only the gates learn; the cp term alone must pull cp to each target."""
    spec = ModelSpec("resnet14", num_classes=10, in_channels=1, input_size=8)
    generator = torch.Generator().manual_seed(0)  # the test must not depend on test order
    x = torch.randn(64, 1, 8, 8, generator=generator)
    y = torch.randint(0, 10, (64,), generator=generator)
    for target in (0.15, 0.7):
        torch.manual_seed(0)
        model = build_model(spec)
        gates = [p for n, p in model.named_parameters()
                 if "gate_proj" in n or n.startswith("controller.")]
        optimizer = torch.optim.SGD(gates, lr=0.2)
        cfg = dataclasses.replace(tiny_config(Path("."), Path(".")), target_cp=target,
                                  alpha=0.05)
        cps = []
        for _ in range(80):
            logits, stats = model(x)
            loss = stage_loss(cfg, model, logits, y, stats)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            cps.append(float(stats.cp_paper.detach()))
        late = sum(cps[-20:]) / 20
        assert abs(late - target) < 0.12, (target, cps[::10])
