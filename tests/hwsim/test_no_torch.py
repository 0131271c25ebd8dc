"""hwsim must import and run without torch (the trace file is the only contract)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
import importlib, pkgutil, sys
import hwsim
for module in pkgutil.walk_packages(hwsim.__path__, "hwsim."):
    if module.name != "hwsim.__main__":
        importlib.import_module(module.name)
from hwsim.cli.main import main
main(["run", "--arch", "arch_configs/bitfusion_isca18.yaml", "--benchmark", "lenet5"])
assert "torch" not in sys.modules, "hwsim imported torch"
print("no torch")
"""


def test_hwsim_never_imports_torch():
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("no torch")
