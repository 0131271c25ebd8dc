"""Fixtures for dfs_models tests: tiny models and fabricated data files (CPU, fast)."""

from __future__ import annotations

from pathlib import Path

import pytest
from dfs_fixtures import FAKE_SIZE, fabricate_fashion_mnist

from dfs_models.resnet import ModelSpec


@pytest.fixture
def fmnist_dir(tmp_path: Path) -> Path:
    return fabricate_fashion_mnist(tmp_path / "fmnist")


@pytest.fixture
def tiny_spec() -> ModelSpec:
    return ModelSpec("resnet14", num_classes=10, in_channels=1, input_size=FAKE_SIZE)
