"""Sweep specs: a base arch, a grid of overrides, and the validated arch point of each combination.

A sweep spec (YAML, or `--grid` flags) names dotted keys of the arch YAML layout (`array.rows`,
`buffers.input.size_bytes`, `dram.bandwidth_bits_per_cycle`, `frequency_mhz`, ...) and the values
each takes: a list, or a range `{start, stop, factor}` (geometric) / `{start, stop, step}`. The
points are the cartesian product in spec order (the last key varies fastest). Every point is the
base arch with its overrides applied to `arch_to_dict(base)` and rebuilt by `arch_from_dict`, so
each one passes the same validation as a hand-written arch file. Layout: docs/sweep.md.
"""

from __future__ import annotations

import copy
import itertools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hwsim.cost.timing import TimingKind
from hwsim.errors import ConfigError
from hwsim.hardware.arch import ArchConfig, arch_from_dict, arch_to_dict, load_arch
from hwsim.schema import (
    INVALID,
    Check,
    Field,
    ListOf,
    MapOf,
    Problems,
    Section,
    closest,
    equal_to,
    load_yaml,
    one_of,
    positive_int,
    positive_number,
    text,
    validate,
)

Scalar = int | float | bool | str

SWEEP_SCHEMA_VERSION = 1
MAX_POINTS = 100_000
BASE_POINT = "base"
# Short names of the usual axes in point names ("r16_c32_ib32768"); other keys appear as key=value.
SHORT_NAMES = {"array.rows": "r", "array.cols": "c", "buffers.input.size_bytes": "ib",
               "buffers.weight.size_bytes": "wb", "buffers.output.size_bytes": "ob",
               "dram.bandwidth_bits_per_cycle": "bw", "frequency_mhz": "f", "pe.kind": "",
               "array.dataflow": ""}
_NOT_SWEEPABLE = ("schema_version", "name", "description")

@dataclass(frozen=True, slots=True)
class SweepSpec:
    """A validated sweep spec; paths are resolved against the spec file's folder."""

    name: str
    grid: tuple[tuple[str, tuple[Scalar, ...]], ...]
    arch_path: str | None = None
    trace_paths: tuple[str, ...] = ()
    batch: int | None = None
    timing: TimingKind | None = None


@dataclass(frozen=True, slots=True)
class SweepPoint:
    index: int
    name: str
    overrides: tuple[tuple[str, Scalar], ...]
    arch: ArchConfig


# --- spec --------------------------------------------------------------------------------------


def sweepable_keys(arch: ArchConfig) -> dict[str, Scalar]:
    """Dotted key -> base value for every scalar of the arch layout a sweep may override."""
    keys: dict[str, Scalar] = {}

    def walk(node: Mapping[str, Any], prefix: str) -> None:
        for key, value in node.items():
            dotted = f"{prefix}{key}"
            if isinstance(value, Mapping):
                walk(value, dotted + ".")
            elif key not in _NOT_SWEEPABLE and not key.endswith("source"):
                keys[dotted] = value

    walk(arch_to_dict(arch), "")
    return keys


def _scalar(value: Any) -> str | None:
    ok = isinstance(value, int | float | str) and (not isinstance(value, str) or value.strip())
    return None if ok else "must be a number, true/false or a non-empty string"


def _greater_than_one(value: Any) -> str | None:
    return positive_number(value) or (None if value > 1 else "must be a number > 1")


_RANGE = Section({"start": Field(positive_number), "stop": Field(positive_number),
                  "factor": Field(_greater_than_one, required=False),
                  "step": Field(positive_number, required=False)})


def _expand_range(start: float, stop: float, factor: float | None,
                  step: float | None) -> list[Scalar]:
    values: list[Scalar] = []
    value = start
    while value <= stop * (1 + 1e-12) and len(values) <= MAX_POINTS:
        values.append(value)
        value = value * factor if factor is not None else value + step
    return values


@dataclass(frozen=True, slots=True)
class _Axis:
    """A grid axis: a list of distinct values, or a range {start, stop, factor | step}."""

    required: bool = True

    def walk(self, value: Any, path: str, problems: Problems) -> Any:
        if isinstance(value, dict):
            return self._range(value, path, problems)
        values = ListOf(Field(_scalar)).walk(value, path, problems)
        if not isinstance(values, list):
            return values
        duplicates = [v for i, v in enumerate(values) if v in values[:i]]
        if duplicates:
            problems.add(path, "values must be distinct", duplicates[0])
            return INVALID
        return tuple(values)

    @staticmethod
    def _range(value: dict, path: str, problems: Problems) -> Any:
        clean = _RANGE.walk(value, path, problems)
        if not isinstance(clean, dict):
            return clean
        if ("factor" in clean) == ("step" in clean):
            problems.add(path, "a range needs exactly one of 'factor' (geometric) or 'step'",
                         value)
        elif clean["stop"] < clean["start"]:
            problems.add(f"{path}.stop", "must be >= start", clean["stop"])
        else:
            return tuple(_expand_range(clean["start"], clean["stop"], clean.get("factor"),
                                       clean.get("step")))
        return INVALID


def _known_key(sweepable: Mapping[str, Scalar]) -> Check:
    def check(key: Any) -> str | None:
        if key in sweepable:
            return None
        hint = closest(str(key), sweepable)
        return "not an arch key a sweep can set" + (f"; did you mean '{hint}'?" if hint else
                                                     "; see docs/sweep.md")
    return check


def _spec_node(sweepable: Mapping[str, Scalar]) -> Section:
    return Section({
        "schema_version": Field(equal_to(SWEEP_SCHEMA_VERSION, "the only version this reads")),
        "name": Field(text), "description": Field(text, required=False),
        "arch": Field(text, required=False),
        "traces": ListOf(Field(text), required=False),
        "batch": Field(positive_int, required=False),
        "timing": Field(one_of(*(kind.value for kind in TimingKind)), required=False),
        "grid": MapOf(_Axis(), key_check=_known_key(sweepable)),
    })


def _resolve(path: str, folder: Path) -> str:
    return os.path.normpath(folder / path)


def spec_arch_path(data: Any, spec_path: str | os.PathLike[str]) -> str | None:
    """The base arch a raw spec names (resolved against its folder), if it names one."""
    if isinstance(data, dict) and isinstance(data.get("arch"), str) and data["arch"].strip():
        return _resolve(data["arch"], Path(spec_path).parent)
    return None


def sweep_spec_from_dict(data: Any, where: str, base: ArchConfig,
                         folder: Path = Path()) -> SweepSpec:
    """Validate a parsed spec against the base arch's keys; ConfigError lists every problem."""
    clean = validate(data, _spec_node(sweepable_keys(base)), where)
    grid = tuple((key, values) for key, values in clean["grid"].items())
    timing = clean.get("timing")
    return SweepSpec(
        name=clean["name"], grid=grid,
        arch_path=_resolve(clean["arch"], folder) if "arch" in clean else None,
        trace_paths=tuple(_resolve(p, folder) for p in clean.get("traces", ())),
        batch=clean.get("batch"), timing=TimingKind(timing) if timing else None)


def load_sweep_spec(path: str | os.PathLike[str],
                    arch_path: str | None = None) -> tuple[SweepSpec, ArchConfig]:
    """Read a spec file and its base arch (`arch_path` wins over the spec's own `arch:`).

    Raises:
        ConfigError: the spec or the arch file is missing or invalid.
    """
    data = load_yaml(path)
    arch_path = arch_path or spec_arch_path(data, path)
    if arch_path is None:
        raise ConfigError(f"{path}: arch: missing; name the base arch here or with --arch")
    base = load_arch(arch_path)
    return sweep_spec_from_dict(data, str(path), base, Path(path).parent), base


def _parse_flag_value(word: str) -> Scalar:
    for kind in (int, float):
        try:
            return kind(word)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(word, word)


def _flag_values(values: str) -> list[Scalar] | dict[str, Any]:
    if ".." not in values:
        return [_parse_flag_value(v.strip()) for v in values.split(",")]
    start, _, rest = values.partition("..")
    for mark, name in (("*", "factor"), ("+", "step")):
        if mark in rest:
            stop, _, by = rest.partition(mark)
            return {"start": _parse_flag_value(start), "stop": _parse_flag_value(stop),
                    name: _parse_flag_value(by)}
    return {"start": _parse_flag_value(start), "stop": _parse_flag_value(rest), "factor": 2}


def grid_from_flags(flags: list[str], base: ArchConfig) -> tuple[tuple[str, tuple], ...]:
    """Parse `--grid KEY=V1,V2,...`, `KEY=START..STOP` (doubling), `..STOP*F` or `..STOP+S`.

    Raises:
        ConfigError: listing every bad flag as `--grid: KEY: what is wrong (got value)`.
    """
    data: dict[str, Any] = {}
    problems = Problems("--grid")
    for flag in flags:
        key, sep, values = flag.partition("=")
        if not sep or not key.strip() or not values.strip():
            problems.add(flag, "must be KEY=V1,V2,... or KEY=START..STOP")
            continue
        data[key.strip()] = _flag_values(values)
    problems.raise_if_any()
    node = MapOf(_Axis(), key_check=_known_key(sweepable_keys(base)), min_items=0)
    clean = validate(data, node, "--grid")
    return tuple(clean.items())


def merge_grids(*grids: tuple[tuple[str, tuple], ...]) -> tuple[tuple[str, tuple], ...]:
    """Later grids replace the values of keys already present (keeping their place)."""
    merged: dict[str, tuple] = {}
    for grid in grids:
        merged.update(grid)
    return tuple(merged.items())


# --- points ------------------------------------------------------------------------------------


def _format_value(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        short = f"{value:g}"
        return short if float(short) == value else repr(value)
    return str(value)


def point_name(overrides: tuple[tuple[str, Scalar], ...]) -> str:
    """A deterministic name such as 'r16_c32_ib32768'; 'base' for no override."""
    parts = [f"{SHORT_NAMES[key]}{_format_value(value)}" if key in SHORT_NAMES
             else f"{key}={_format_value(value)}" for key, value in overrides]
    return "_".join(parts) or BASE_POINT


def _apply(base: dict[str, Any], overrides: tuple[tuple[str, Scalar], ...],
           name: str) -> dict[str, Any]:
    data = copy.deepcopy(base)
    data["name"] = name
    for key, value in overrides:
        *parents, leaf = key.split(".")
        node = data
        for parent in parents:
            node = node[parent]
        node[leaf] = value
    return data


def enumerate_points(base: ArchConfig, grid: tuple[tuple[str, tuple], ...],
                     where: str) -> tuple[SweepPoint, ...]:
    """Every grid point as a validated ArchConfig, in spec order.

    Raises:
        ConfigError: too many points, or points whose arch is invalid (the first few listed).
    """
    count = 1
    for _, values in grid:
        count *= len(values)
    if count > MAX_POINTS:
        raise ConfigError(f"{where}: grid: {count} points is more than {MAX_POINTS}; "
                          "narrow the grid or split the sweep")
    keys = [key for key, _ in grid]
    base_dict, points, errors = arch_to_dict(base), [], []
    for index, combo in enumerate(itertools.product(*(values for _, values in grid))):
        overrides = tuple(zip(keys, combo, strict=True))
        name = point_name(overrides)
        arch_name = base.name if name == BASE_POINT else f"{base.name}_{name}"
        try:
            arch = arch_from_dict(_apply(base_dict, overrides, arch_name), f"{where}: {name}")
        except ConfigError as err:
            errors.append(str(err))
            continue
        points.append(SweepPoint(index, name, overrides, arch))
    if errors:
        shown = errors[:5] + ([f"... and {len(errors) - 5} more invalid points"]
                              if len(errors) > 5 else [])
        raise ConfigError(f"{where}: {len(errors)} of {count} grid points are not valid "
                          f"archs:\n" + "\n".join(shown))
    return tuple(points)
