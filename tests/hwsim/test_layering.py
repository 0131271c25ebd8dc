"""hwsim's packages mirror the machine and import only downward (ZigZag's layout).

Ranks, bottom to top: shared infrastructure (errors, schema, shipped files), workload, hardware,
mapping, cost, simulation and report, explore, cli, the notebook API. A module may import its
own rank or a lower one; the package's __init__ is a facade over the API.
"""

from __future__ import annotations

import ast
from pathlib import Path

HWSIM = Path(__file__).resolve().parents[2] / "hwsim"
RANKS = {"errors": 0, "schema": 0, "shipped": 0, "workload": 1, "hardware": 2, "mapping": 3,
         "cost": 4, "simulation": 5, "report": 5, "explore": 6, "cli": 7, "api": 8, "__main__": 8,
         "__init__": 9}  # the package facade: `hwsim.simulate` imports the API lazily


def _unit(module: str) -> str:
    """'hwsim.cost.timing' -> 'cost'; 'hwsim.report' -> 'report'; 'hwsim' -> '__init__'."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("hwsim"):
            found.add(node.module)
            found.update(f"hwsim.{a.name}" for a in node.names
                         if node.module == "hwsim" and a.name != "__version__")
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("hwsim"))
    return found


def test_every_module_imports_only_its_rank_or_below() -> None:
    violations = []
    for path in HWSIM.rglob("*.py"):
        own = ".".join(("hwsim", *path.relative_to(HWSIM).with_suffix("").parts))
        unit = _unit(own)
        assert unit in RANKS, f"{own}: add its package to RANKS"
        for imported in _imports(path):
            target = _unit(imported)
            if target != "__init__" and RANKS[target] > RANKS[unit]:
                violations.append(f"{own} imports {imported}")
    assert not violations, violations


def test_the_folders_mirror_the_machine() -> None:
    packages = {p.name for p in HWSIM.iterdir() if (p / "__init__.py").is_file()}
    assert packages == {"workload", "hardware", "mapping", "cost", "explore", "cli"}
