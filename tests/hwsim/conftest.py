"""Shared fixtures for hwsim tests: the shipped architectures and a YAML file writer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from hwsim.hardware.arch import ArchConfig, load_arch

REPO_ROOT = Path(__file__).resolve().parents[2]
ARCH_CONFIG_DIR = REPO_ROOT / "arch_configs"


@pytest.fixture(scope="session")
def isca18_arch() -> ArchConfig:
    """The paper's evaluated configuration (16x32 FUs, mapping as in the authors' simulator)."""
    return load_arch(ARCH_CONFIG_DIR / "bitfusion_isca18.yaml")


@pytest.fixture(scope="session")
def arch_16x16() -> ArchConfig:
    """16x16 FUs, the paper's 45 nm constants, realistic mapping and assumed leakage."""
    return load_arch(ARCH_CONFIG_DIR / "bitfusion_16x16.yaml")


@pytest.fixture
def write_yaml(tmp_path: Path) -> Callable[..., Path]:
    """`write_yaml(content, name="config.yaml") -> Path`: a dict is dumped as YAML, text as is."""

    def write(content: dict[str, Any] | str, name: str = "config.yaml") -> Path:
        path = tmp_path / name
        body = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
        path.write_text(body, encoding="utf-8")
        return path

    return write
