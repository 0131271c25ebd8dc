"""hwsim.hardware.arch loading: the shipped configs, strict validation, and the resolved-dict round
trip."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hwsim.errors import ConfigError, HwsimError
from hwsim.hardware.arch import (
    ArchConfig,
    BufferConfig,
    MappingObjective,
    MappingPolicy,
    PeConfig,
    PeKind,
    SramEnergy,
    arch_from_dict,
    arch_to_dict,
    load_arch,
)

KIB = 1024


def test_isca18_matches_the_paper(isca18_arch: ArchConfig) -> None:
    arch = isca18_arch
    assert arch.name == "bitfusion_isca18"
    assert (arch.array.rows, arch.array.cols, arch.fu_count) == (16, 32, 512)
    assert arch.frequency_mhz == 500.0
    assert arch.pe == PeConfig(PeKind.BITFUSION, 2, 16, 8, 32)
    assert arch.buffers.input == BufferConfig(32 * KIB, True)
    assert arch.buffers.weight == BufferConfig(64 * KIB, True)
    assert arch.buffers.output == BufferConfig(16 * KIB, True)
    assert arch.dram.bandwidth_bits_per_cycle == 192
    assert arch.mapping == MappingPolicy(
        32, output_read_before_write=True, im2col_first_layer=True,
        objective=MappingObjective.LATENCY, pow2_edge_tiles=True, fetch_padding_halo=True,
        input_reads_per_multiply=True, serial_small_layers=True)
    energy = arch.energy
    assert energy.compute_pj_per_fu_cycle * 512 == pytest.approx(235.1, rel=1e-3)
    assert energy.input_sram == SramEnergy(0.059, 0.114)
    assert energy.weight_sram == SramEnergy(0.021, 0.029)
    assert energy.output_sram == SramEnergy(0.033, 0.073)
    assert (energy.dram_pj_per_bit, energy.leakage_pj_per_cycle) == (15.0, 0.0)
    assert "235.1" in energy.source and "not count" in energy.leakage_source


def test_isca18_area_is_derived_from_the_paper(isca18_arch: ArchConfig) -> None:
    area = isca18_arch.area
    assert area.fu_um2 == 1734.6
    assert 512 * area.fu_um2 == pytest.approx(0.888e6, rel=1e-3)  # the stated core area
    assert area.sram_um2_per_kib == pytest.approx((2.14 - 0.888) * 1e6 / 112, abs=0.01)
    assert "2.14" in area.source and "112 KiB" in area.source


def test_16x16_is_the_same_technology_with_realistic_mapping(
        isca18_arch: ArchConfig, arch_16x16: ArchConfig) -> None:
    arch = arch_16x16
    assert (arch.array.rows, arch.array.cols, arch.fu_count) == (16, 16, 256)
    assert (arch.buffers, arch.dram, arch.pe) == (
        isca18_arch.buffers, isca18_arch.dram, isca18_arch.pe)
    assert arch.mapping == MappingPolicy(32, output_read_before_write=False,
                                         im2col_first_layer=True,
                                         objective=MappingObjective.EDP,
                                         requantize_outputs=True,
                                         keep_activations_on_chip=True, activation_bits=0)
    assert isca18_arch.mapping.objective is MappingObjective.LATENCY
    # Leakage is derived from the technology: 256 FUs and 112 KiB of SRAM through the clock.
    assert arch.technology is not None and isca18_arch.technology is None
    assert "assumption, not from the paper" in arch.technology.fu_leakage_mw.source.lower()
    same_dynamic = dataclasses.replace(arch.energy, source="", leakage_source="")
    assert same_dynamic == dataclasses.replace(isca18_arch.energy, source="", leakage_source="",
                                               leakage_pj_per_cycle=0.0)
    assert arch.area == isca18_arch.area


@pytest.mark.parametrize("fixture", ["isca18_arch", "arch_16x16"])
def test_arch_to_dict_round_trips(fixture: str, request: pytest.FixtureRequest,
                                  write_yaml: Callable[..., Path]) -> None:
    arch = request.getfixturevalue(fixture)
    resolved = arch_to_dict(arch)
    assert arch_from_dict(resolved, "summary.json") == arch
    assert arch_from_dict(json.loads(json.dumps(resolved)), "summary.json") == arch
    assert load_arch(write_yaml(resolved)) == arch


def test_optional_keys_take_the_dataclass_defaults(
        isca18_arch: ArchConfig, write_yaml: Callable[..., Path]) -> None:
    data = arch_to_dict(isca18_arch)
    del data["mapping"], data["energy"]["leakage_source"]
    data["pe"] = {"kind": "bitfusion"}
    data["buffers"]["input"] = {"size_bytes": 4096}
    arch = load_arch(write_yaml(data))
    assert arch.mapping == MappingPolicy()
    assert arch.pe == PeConfig(PeKind.BITFUSION)
    assert arch.buffers.input == BufferConfig(4096)
    assert arch.energy.leakage_source == ""


@pytest.mark.parametrize("kind", [PeKind.FIXED, PeKind.BIT_SERIAL])
def test_other_pe_kinds_load(kind: PeKind, isca18_arch: ArchConfig,
                             write_yaml: Callable[..., Path]) -> None:
    data = arch_to_dict(isca18_arch)
    data["pe"] = {"kind": kind.value, "brick_bits": 1, "bricks_per_unit": 1,
                  "spatial_max_bits": 8, "temporal_max_bits": 8}
    assert load_arch(write_yaml(data)).pe == PeConfig(kind, 1, 1, 8, 8)


def _set(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for key in parents:
        data = data[key]
    data[last] = value


def _delete(data: dict[str, Any], dotted: str) -> None:
    *parents, last = dotted.split(".")
    for key in parents:
        data = data[key]
    del data[last]


BAD_VALUES = [
    ("array.rows", 0, r"array\.rows: must be an integer in 1\.\.65536 \(got 0\)"),
    ("array.cols", -3, r"array\.cols: must be an integer in 1\.\.65536 \(got -3\)"),
    ("array.rows", "16", r"array\.rows: must be an integer in 1\.\.65536 \(got '16'\)"),
    ("array.rows", 16.0, r"array\.rows: must be an integer in 1\.\.65536 \(got 16\.0\)"),
    ("array.rows", True, r"array\.rows: must be an integer in 1\.\.65536 \(got true\)"),
    ("array", [16, 32], r"array: must be a mapping of keys to values \(got \[16, 32\]\)"),
    ("buffers.input.size_bytes", -1,
     r"buffers\.input\.size_bytes: must be an integer in 1\.\.1099511627776 \(got -1\)"),
    ("buffers.weight.double_buffered", 1,
     r"buffers\.weight\.double_buffered: must be true or false \(got 1\)"),
    ("mapping.output_read_before_write", "yes",
     r"mapping\.output_read_before_write: must be true or false \(got 'yes'\)"),
    ("dram.bandwidth_bits_per_cycle", 0,
     r"dram\.bandwidth_bits_per_cycle: must be an integer in 1\.\."),
    ("frequency_mhz", 0, r"frequency_mhz: must be a number in 0\.001\.\.1000000\.0 \(got 0\)"),
    ("frequency_mhz", True, r"frequency_mhz: must be a number in 0\.001\.\.1000000\.0"),
    ("energy.dram_pj_per_bit", -1.0, r"energy\.dram_pj_per_bit: must be a number in 0\.0\.\."),
    ("energy.sram_pj_per_bit.output.write", -0.1,
     r"energy\.sram_pj_per_bit\.output\.write: must be a number in 0\.0\.\.1000000\.0 "
     r"\(got -0\.1\)"),
    ("energy.source", "", r"energy\.source: must be a non-empty string \(got ''\)"),
    ("area.fu_um2", 0, r"area\.fu_um2: must be a number in 1e-06\.\."),
    ("array.cols", 10**30, r"array\.cols: must be an integer in 1\.\.65536"),
    ("energy.dram_pj_per_bit", 1e308, r"energy\.dram_pj_per_bit: must be a number in 0\.0\.\."),
    ("pe.kind", "bitfusoin", r"pe\.kind: must be one of 'bitfusion', 'fixed', 'bit_serial'; "
     r"did you mean 'bitfusion'\? \(got 'bitfusoin'\)"),
    ("pe.brick_bits", 3, r"pe\.brick_bits: must be one of 1, 2, 4 \(got 3\)"),
    ("pe.spatial_max_bits", 6, r"pe\.spatial_max_bits: must be a power-of-two multiple of 2"),
    ("pe.temporal_max_bits", 24, r"pe\.temporal_max_bits: must be a power-of-two multiple of 8"),
    ("pe.bricks_per_unit", 8, r"pe\.bricks_per_unit: must be .* = 16 for a bitfusion PE"),
    ("mapping.psum_bits", 4, r"mapping\.psum_bits: must be an integer in 8\.\.64 \(got 4\)"),
    ("mapping.psum_bits", 128, r"mapping\.psum_bits: must be an integer in 8\.\.64"),
    ("schema_version", 2, r"schema_version: must be 1 \(the only version this hwsim reads\)"),
    ("description", 5, r"description: must be a non-empty string \(got 5\)"),
    ("buffers.input.size", 1, r"buffers\.input\.size: unknown key, did you mean 'size_bytes'\?"),
]


@pytest.mark.parametrize(("dotted", "value", "pattern"), BAD_VALUES)
def test_bad_value_is_reported_with_file_and_key(
        dotted: str, value: Any, pattern: str, isca18_arch: ArchConfig,
        write_yaml: Callable[..., Path]) -> None:
    data = copy.deepcopy(arch_to_dict(isca18_arch))
    _set(data, dotted, value)
    path = write_yaml(data, name="bad.yaml")
    with pytest.raises(ConfigError, match=pattern) as caught:
        load_arch(path)
    assert str(caught.value).startswith(f"{path}: ")


@pytest.mark.parametrize("dotted", ["name", "array.rows", "buffers.output", "energy.source",
                                    "area", "pe.kind"])
def test_missing_required_key(dotted: str, isca18_arch: ArchConfig,
                              write_yaml: Callable[..., Path]) -> None:
    data = arch_to_dict(isca18_arch)
    _delete(data, dotted)
    with pytest.raises(ConfigError, match=rf"{re.escape(dotted)}: missing required key"):
        load_arch(write_yaml(data))


def test_leakage_needs_a_source(isca18_arch: ArchConfig, write_yaml: Callable[..., Path]) -> None:
    data = arch_to_dict(isca18_arch)
    data["energy"]["leakage_pj_per_cycle"] = 1.0
    del data["energy"]["leakage_source"]
    with pytest.raises(ConfigError, match=r"energy\.leakage_source: must say where"):
        load_arch(write_yaml(data))


def test_missing_file_says_to_check_the_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nonexistent\.yaml: file not found; check the path"):
        load_arch(tmp_path / "nonexistent.yaml")


def test_malformed_yaml_gives_line_and_column(write_yaml: Callable[..., Path]) -> None:
    path = write_yaml("schema_version: 1\nname: x\nfrequency_mhz: 500: 1\n")
    with pytest.raises(ConfigError, match=rf"{re.escape(str(path))}:3:\d+: invalid YAML"):
        load_arch(path)


def test_duplicate_key_is_malformed(write_yaml: Callable[..., Path]) -> None:
    path = write_yaml("schema_version: 1\nname: a\nname: b\n")
    with pytest.raises(ConfigError, match=r":3:1: invalid YAML: duplicate key 'name' \(first at"):
        load_arch(path)


def test_unquoted_yes_is_not_a_boolean(isca18_arch: ArchConfig,
                                       write_yaml: Callable[..., Path]) -> None:
    data = arch_to_dict(isca18_arch)
    data["mapping"] = {"psum_bits": 32, "output_read_before_write": "@YES@"}
    text = write_yaml(data).read_text().replace("'@YES@'", "yes")
    with pytest.raises(ConfigError, match=r"output_read_before_write: must be true or false "
                                          r"\(got 'yes'\)"):
        load_arch(write_yaml(text))


def test_unknown_key_suggests_the_closest(isca18_arch: ArchConfig,
                                          write_yaml: Callable[..., Path]) -> None:
    data = arch_to_dict(isca18_arch)
    data["arrray"] = data.pop("array")
    with pytest.raises(ConfigError, match=r"arrray: unknown key, did you mean 'array'\?"):
        load_arch(write_yaml(data))


@pytest.mark.parametrize(("text", "got"), [("", "null"), ("- 1\n- 2\n", r"\[1, 2\]")])
def test_top_level_must_be_a_mapping(text: str, got: str,
                                     write_yaml: Callable[..., Path]) -> None:
    with pytest.raises(ConfigError, match=rf"\(top level\): must be a mapping .*\(got {got}\)"):
        load_arch(write_yaml(text))


def test_every_problem_is_listed_once(isca18_arch: ArchConfig,
                                      write_yaml: Callable[..., Path]) -> None:
    data = arch_to_dict(isca18_arch)
    data["array"] = {"rows": 0, "cols": -2}
    data["pe"]["kind"] = "systolic"
    data["buffers"]["weight"]["size_bytes"] = "64KiB"
    data["extra"] = 1
    path = write_yaml(data, name="x.yaml")
    with pytest.raises(ConfigError) as caught:
        load_arch(path)
    first, *lines = str(caught.value).splitlines()
    assert first == (f"{path}: 5 problems: extra, array.rows, array.cols, pe.kind, "
                     "buffers.weight.size_bytes")
    assert lines == [
        f"  {path}: extra: unknown key; expected one of: schema_version, name, description, "
        "frequency_mhz, array, pe, buffers, dram, mapping, energy, area, technology",
        f"  {path}: array.rows: must be an integer in 1..65536 (got 0)",
        f"  {path}: array.cols: must be an integer in 1..65536 (got -2)",
        f"  {path}: pe.kind: must be one of 'bitfusion', 'fixed', 'bit_serial' (got 'systolic')",
        f"  {path}: buffers.weight.size_bytes: must be an integer in 1..1099511627776 "
        "(got '64KiB')",
    ]


def test_arch_from_dict_names_its_origin() -> None:
    with pytest.raises(HwsimError, match=r"^from-test: \d+ problems: schema_version, name"):
        arch_from_dict({}, "from-test")


def test_new_keys_default_so_older_files_still_load(isca18_arch: ArchConfig) -> None:
    from hwsim.hardware.arch import Dataflow

    assert isca18_arch.array.dataflow is Dataflow.BITFUSION
    assert isca18_arch.pe.multiplier_bits == 8


@pytest.mark.parametrize("name", ["fixed8_isca18_area", "stripes_isca18_area",
                                  "systolic8_16x16_os", "systolic8_16x16_ws",
                                  "systolic8_16x16_is"])
def test_baseline_configs_round_trip(name: str, write_yaml: Callable[..., Path]) -> None:
    arch = load_arch(Path(__file__).resolve().parents[2] / "arch_configs" / f"{name}.yaml")
    resolved = arch_to_dict(arch)
    assert arch_from_dict(json.loads(json.dumps(resolved)), where="x") == arch
    assert load_arch(write_yaml(resolved)) == arch
    assert resolved["pe"]["kind"] in ("fixed", "bit_serial")


@pytest.mark.parametrize(("mapping", "message"), [
    ({"objective": "fastest"}, "mapping.objective: must be one of 'latency', 'energy', 'edp'"),
    ({"objective": "energy", "latency_slack": 0.05}, "mapping.latency_slack: applies only to"),
    ({"latency_slack": 1.5}, "mapping.latency_slack: must be a number in 0.0..1.0"),
    ({"full_width_tiles": "yes"}, "mapping.full_width_tiles"),
])
def test_bad_mapping_policy_is_one_clear_line(tmp_path, mapping, message) -> None:
    import subprocess
    import sys

    import yaml
    data = yaml.safe_load((Path(__file__).resolve().parents[2] / "arch_configs"
                           / "bitfusion_16x16.yaml").read_text())
    data["mapping"].update(mapping)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    done = subprocess.run([sys.executable, "-m", "hwsim", "validate", str(path)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert f"{path}: {message}" in done.stderr


@pytest.mark.parametrize(("override", "message"), [
    ("dram.bandwith=5", "with --set dram.bandwith=5: dram.bandwith: unknown key"),
    ("dramx.bw=5", "--set 'dramx.bw=5': arch_configs/bitfusion_16x16.yaml has no 'dramx'"),
    ("novalue", "--set 'novalue': expected KEY=VALUE"),
    ("dram.bandwidth_bits_per_cycle.x=1", "is a value, not a section"),
    ("array.rows=0", "array.rows: must be an integer in 1..65536 (got 0)"),
    ("array.rows=1000000000000000000000000000000", "array.rows: must be an integer in 1..65536"),
])
def test_set_overrides_fail_in_one_line(override: str, message: str) -> None:
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "hwsim", "run", "--arch",
                           "arch_configs/bitfusion_16x16.yaml", "--benchmark", "lenet5",
                           "--set", override], cwd=repo, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert message in done.stderr


def test_set_overrides_apply_before_validation() -> None:
    from hwsim.hardware.arch import load_arch

    repo = Path(__file__).resolve().parents[2]
    arch = load_arch(repo / "arch_configs" / "bitfusion_16x16.yaml",
                     ("array.rows=8", "mapping.objective=latency"))
    assert arch.array.rows == 8 and arch.mapping.objective is MappingObjective.LATENCY
