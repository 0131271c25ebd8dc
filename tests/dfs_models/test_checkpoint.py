from __future__ import annotations

from pathlib import Path

import pytest
import torch

from dfs_models.checkpoint import load_backbone, load_model, save_model
from dfs_models.cli import main
from dfs_models.errors import CheckpointError
from dfs_models.resnet import ModelSpec, build_model


def test_model_round_trip(tmp_path: Path, tiny_spec: ModelSpec) -> None:
    model = build_model(tiny_spec)
    save_model(model, tmp_path / "m.pt", {"test_acc": 0.5})
    loaded, facts = load_model(tmp_path / "m.pt")
    assert loaded.spec == tiny_spec and facts == {"test_acc": 0.5}
    assert all(torch.equal(v, loaded.state_dict()[k]) for k, v in model.state_dict().items())
    assert not list(tmp_path.glob(".*tmp"))  # the atomic save left no temporary file


def test_corrupt_and_foreign_checkpoints_are_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "junk.pt").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(CheckpointError, match="junk.pt: not a readable checkpoint"):
        load_model(tmp_path / "junk.pt")
    torch.save({"weights": 1}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="other.pt: expected a dfs_models"):
        load_model(tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="missing.pt: checkpoint not found"):
        load_model(tmp_path / "missing.pt")


def test_truncated_checkpoint_is_an_error(tmp_path: Path, tiny_spec: ModelSpec) -> None:
    save_model(build_model(tiny_spec), tmp_path / "m.pt", {})
    data = (tmp_path / "m.pt").read_bytes()
    (tmp_path / "m.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_model(tmp_path / "m.pt")


def test_init_from_a_full_precision_checkpoint(tmp_path: Path, tiny_spec: ModelSpec) -> None:
    base = build_model(ModelSpec(tiny_spec.arch, 10, 1, 12, options=()))
    save_model(base, tmp_path / "base.pt", {})
    gated = build_model(tiny_spec)
    load_backbone(gated, tmp_path / "base.pt")
    assert torch.equal(gated.fc.weight, base.fc.weight)
    other = build_model(ModelSpec("resnet8", 10, 1, 12))
    with pytest.raises(CheckpointError, match="does not fit resnet8"):
        load_backbone(other, tmp_path / "base.pt")


def test_cli_turns_known_errors_into_one_line_and_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.pt").write_bytes(b"nope")
    code = main(["export", "--checkpoint", str(tmp_path / "bad.pt"), "--out",
                 str(tmp_path / "t.jsonl")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1
    assert "bad.pt: not a readable checkpoint" in err
    code = main(["train", "--stage", "joint", "--data-dir", str(tmp_path), "--steps", "1"])
    err = capsys.readouterr().err
    assert code == 2 and "apt-get install -y dataset-fashion-mnist" in err


def test_a_full_precision_backbone_fills_every_options_bn_statistics(tmp_path: Path) -> None:
    torch.manual_seed(0)
    base = build_model(ModelSpec("resnet8", 10, 1, 12, ()))
    base.groups[1][0].bn1.running_var.uniform_(0.5, 2.0)
    save_model(base, tmp_path / "base.pt", {})
    gated = build_model(ModelSpec("resnet8", 10, 1, 12, (0, 8, 16, 32)))
    load_backbone(gated, tmp_path / "base.pt")
    stats = gated.groups[1][0].bn1.running_var
    assert stats.shape == (3, 32)
    assert all(torch.equal(stats[k], base.groups[1][0].bn1.running_var) for k in range(3))
