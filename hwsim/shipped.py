"""The arch configs and traces that ship with hwsim, found by name or by path.

`--arch bitfusion_16x16` and `--trace resnet74_cp20` resolve to the shipped files whether hwsim
runs from a source checkout (the repository's `arch_configs/` and `traces/`) or from an
installed wheel (the same files under `<prefix>/share/hwsim/`, installed as data files). A value
that names an existing file, or looks like a path, is used as given.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

from hwsim.errors import ConfigError

KINDS = {"arch": ("arch_configs", (".yaml",)), "trace": ("traces", (".jsonl", ".jsonl.gz"))}


def roots(kind: str) -> list[Path]:
    """Folders holding the shipped files of `kind`, checkout first."""
    folder = KINDS[kind][0]
    return [Path(__file__).resolve().parents[1] / folder,
            Path(sysconfig.get_path("data")) / "share" / "hwsim" / folder]


def shipped(kind: str) -> dict[str, Path]:
    """Name -> file of every shipped arch or trace (the first root that has it wins)."""
    found: dict[str, Path] = {}
    suffixes = KINDS[kind][1]
    for root in roots(kind):
        if not root.is_dir():
            continue
        for path in sorted(root.iterdir()):
            for suffix in suffixes:
                if path.name.endswith(suffix) and path.is_file():
                    found.setdefault(path.name[: -len(suffix)], path)
    return found


def resolve(kind: str, value: str, option: str) -> Path:
    """The file `value` means: a path as given, else a shipped file of that name.

    Raises:
        ConfigError: `value` is a bare name that is neither a file here nor shipped.
    """
    path = Path(value)
    if path.exists() or "/" in value or path.suffix in (".yaml", ".yml", ".jsonl", ".gz"):
        return path
    files = shipped(kind)
    if value in files:
        return files[value]
    names = ", ".join(files) or "none found"
    raise ConfigError(f"{option} {value!r}: no such file, and no shipped {kind} of that name "
                      f"(shipped: {names}; `hwsim list` shows them)")
