from __future__ import annotations

from pathlib import Path

import pytest

from dfs_models.config import Stage, TrainConfig, config_from_dict, load_config
from dfs_models.errors import TrainConfigError

SHIPPED = Path(__file__).resolve().parents[2] / "dfs_models" / "configs"


def test_flags_and_yaml_values_are_converted() -> None:
    cfg = config_from_dict({"stage": "joint", "options": "0,32", "milestones": [0.5],
                            "steps": "10", "init_from": "none"})
    assert cfg.stage is Stage.JOINT and cfg.options == (0, 32) and cfg.steps == 10
    assert cfg.init_from is None and cfg.milestones == (0.5,)


def test_every_problem_is_listed_with_a_suggestion(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("schema_version: 1\nname: x\nstpes: 3\nlr: fast\nalpha: 1e-3\n")
    with pytest.raises(TrainConfigError) as info:
        load_config(path)
    lines = str(info.value).splitlines()
    assert f"{path}: stpes: unknown key; did you mean 'steps'? (got 3)" in lines
    assert any(line.startswith(f"{path}: lr: not a valid") and "(got 'fast')" in line
               for line in lines)
    assert len(lines) == 2


def test_range_checks() -> None:
    with pytest.raises(TrainConfigError, match=r"target_cp: must be in \[0, 1\] \(got 1.5\)"):
        config_from_dict({"target_cp": 1.5})
    with pytest.raises(TrainConfigError, match="options: distinct bits"):
        config_from_dict({"options": [0, 8]})


def test_yaml_needs_schema_version_and_name(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("steps: 3\n")
    with pytest.raises(TrainConfigError, match="schema_version: required key missing"):
        load_config(path)


@pytest.mark.parametrize("name", ["fmnist_base", "fmnist_gate_init", "fmnist_joint"])
def test_shipped_configs_load(name: str) -> None:
    cfg = load_config(SHIPPED / f"{name}.yaml")
    assert isinstance(cfg, TrainConfig) and cfg.arch == "resnet74"
    assert config_from_dict(cfg.to_dict()) == cfg
