"""The documented API example (docs/api.md) runs, and agrees with `hwsim run`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import hwsim
from hwsim.errors import HwsimError

REPO = Path(__file__).resolve().parents[2]


def test_the_documented_example_runs(capsys) -> None:
    text = (REPO / "docs" / "api.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    exec(compile(code, "docs/api.md", "exec"), {})  # noqa: S102 - our own documented example
    out = capsys.readouterr().out
    assert "uJ and" in out and "most expensive class:" in out


def test_api_numbers_are_the_command_lines(tmp_path) -> None:
    import json

    from hwsim.cli.main import main

    result = hwsim.simulate("bitfusion_16x16", benchmark="lenet5", inputs=2)
    assert main(["run", "--benchmark", "lenet5", "--inputs", "2", "--out", str(tmp_path),
                 "--no-progress", "--summary"]) == 0
    assert json.loads((tmp_path / "summary.json").read_text()) == json.loads(
        json.dumps(result.summary))
    with pytest.raises(HwsimError, match="give a trace or a benchmark"):
        hwsim.simulate("bitfusion_16x16")
