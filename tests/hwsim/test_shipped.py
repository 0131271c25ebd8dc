"""Shipped arch configs and traces resolve by name; `hwsim list` shows them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hwsim import shipped
from hwsim.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_names_resolve_to_the_checkout_files() -> None:
    assert shipped.resolve("arch", "bitfusion_16x16", "--arch") == (
        REPO / "arch_configs" / "bitfusion_16x16.yaml")
    assert shipped.resolve("trace", "resnet74_cp40", "--trace") == (
        REPO / "traces" / "resnet74_cp40.jsonl.gz")
    assert shipped.resolve("trace", "my/own.jsonl", "--trace") == Path("my/own.jsonl")


def test_an_installed_layout_is_found(tmp_path, monkeypatch) -> None:
    """A wheel installs the files under <prefix>/share/hwsim/ (pyproject data-files)."""
    folder = tmp_path / "share" / "hwsim" / "arch_configs"
    folder.mkdir(parents=True)
    (folder / "mine.yaml").write_text("x: 1\n")
    monkeypatch.setattr(shipped, "roots", lambda kind: [tmp_path / "nowhere",
                                                        tmp_path / "share" / "hwsim"
                                                        / shipped.KINDS[kind][0]])
    assert shipped.resolve("arch", "mine", "--arch") == folder / "mine.yaml"
    with pytest.raises(ConfigError, match="no shipped arch of that name .*shipped: mine"):
        shipped.resolve("arch", "yours", "--arch")


def test_run_by_name_from_another_folder_and_list(tmp_path) -> None:
    done = subprocess.run([sys.executable, "-m", "hwsim", "run", "--trace", "resnet74_cp20",
                           "--no-progress"], cwd=tmp_path, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "dfs_resnet74 on bitfusion_16x16" in done.stdout  # the default arch
    listed = subprocess.run([sys.executable, "-m", "hwsim", "list"], cwd=tmp_path,
                            capture_output=True, text=True, check=True).stdout
    for name in ("bitfusion_16x16", "bitfusion_isca18", "lenet5", "resnet74_cp20"):
        assert name in listed
