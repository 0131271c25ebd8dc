"""Technology that scales: leakage per FU and KiB through the clock, SRAM pJ/bit by capacity,
clock-gated idle FUs, and clear errors for a table missing a source or out of range."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hwsim.cost.energy import effective_energy
from hwsim.cost.layer_cost import simulate_layer
from hwsim.hardware.arch import arch_from_dict, arch_to_dict
from hwsim.workload.layer import Layer, LayerKind, Precision

REPO = Path(__file__).resolve().parents[2]
CONV = Layer("c", LayerKind.CONV, 64, 64, 14, 14, 3, 1, 1)


def _point(arch, **grid):
    """A sweep point, built the way `hwsim sweep` builds it (dict overrides, reloaded)."""
    data = arch_to_dict(arch)
    for dotted, value in grid.items():
        node = data
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node[key]
        node[leaf] = value
    return arch_from_dict(data, "<point>")


def test_leakage_scales_with_fus_sram_and_clock(arch_16x16) -> None:
    tech = arch_16x16.technology
    leak = effective_energy(arch_16x16)[0].leakage_pj_per_cycle
    expected = (256 * tech.fu_leakage_mw.value + 112 * tech.sram_leakage_mw_per_kib.value) * 2
    assert leak == pytest.approx(expected)  # mW / 500 MHz = 2 pJ per cycle per mW
    small = _point(arch_16x16, **{"array.rows": 4, "array.cols": 4})
    assert effective_energy(small)[0].leakage_pj_per_cycle == pytest.approx(
        (16 * tech.fu_leakage_mw.value + 112 * tech.sram_leakage_mw_per_kib.value) * 2)
    slow = _point(arch_16x16, frequency_mhz=250)
    assert effective_energy(slow)[0].leakage_pj_per_cycle == pytest.approx(2 * leak)
    big = _point(arch_16x16, **{"buffers.weight.size_bytes": 131072})
    assert effective_energy(big)[0].leakage_pj_per_cycle == pytest.approx(
        leak + 64 * tech.sram_leakage_mw_per_kib.value * 2)


def test_sram_energy_follows_capacity_anchored_at_the_reference(arch_16x16) -> None:
    table = effective_energy(arch_16x16)[0]
    assert table.weight_sram == arch_16x16.energy.weight_sram  # 64 KiB is the reference size
    quadruple = _point(arch_16x16, **{"buffers.weight.size_bytes": 4 * 65536})
    scaled = effective_energy(quadruple)[0].weight_sram
    assert scaled.read_pj_per_bit == pytest.approx(2 * table.weight_sram.read_pj_per_bit)
    assert scaled.write_pj_per_bit == pytest.approx(2 * table.weight_sram.write_pj_per_bit)


def test_idle_fus_cost_a_fraction_and_one_means_the_whole_array(arch_16x16) -> None:
    """At 2/2 bits a Fusion Unit fuses 16 products, so a 16x16 array reduces 256 input
    channels per pass: 16 channels keep only 1/16 of it busy."""
    layer = Layer("thin", LayerKind.CONV, 16, 16, 14, 14, 3, 1, 1)
    gated = simulate_layer(layer, Precision(2, 2), 1, arch_16x16)
    tech = arch_16x16.technology
    whole = dataclasses.replace(arch_16x16, technology=dataclasses.replace(
        tech, idle_fu_energy_fraction=dataclasses.replace(tech.idle_fu_energy_fraction,
                                                         value=1.0)))
    every_cycle = simulate_layer(layer, Precision(2, 2), 1, whole)
    e = arch_16x16.energy.compute_pj_per_fu_cycle
    assert every_cycle.energy.compute_pj == pytest.approx(
        every_cycle.compute_cycles * 256 * e)
    busy = gated.fu_utilization * 256 * gated.total_cycles
    assert gated.energy.compute_pj == pytest.approx(
        (busy + 0.1 * (gated.compute_cycles * 256 - busy)) * e)
    assert gated.energy.compute_pj < 0.2 * every_cycle.energy.compute_pj


def test_round_trip_keeps_the_technology(arch_16x16) -> None:
    again = arch_from_dict(arch_to_dict(arch_16x16), "<again>")
    assert again == arch_16x16


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: t["fu_leakage_mw"].pop("source"),
     "technology.fu_leakage_mw.source: missing required key"),
    (lambda t: t["sram_energy_exponent"].update(value=3),
     "technology.sram_energy_exponent.value: must be a number in 0.0..2.0 (got 3)"),
    (lambda t: t["idle_fu_energy_fraction"].update(value=-0.1),
     "technology.idle_fu_energy_fraction.value: must be a number in 0.0..1.0"),
    (lambda t: t["fu_leakage_mw"].update(value=float("nan")),
     "technology.fu_leakage_mw.value: must be a number"),
])
def test_a_bad_technology_table_is_one_clear_line(tmp_path, change, message) -> None:
    data = yaml.safe_load((REPO / "arch_configs" / "bitfusion_16x16.yaml").read_text())
    change(data["technology"])
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    done = subprocess.run([sys.executable, "-m", "hwsim", "validate", str(path)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert f"{path}: {message}" in done.stderr


def test_leakage_is_not_given_twice(tmp_path) -> None:
    data = yaml.safe_load((REPO / "arch_configs" / "bitfusion_16x16.yaml").read_text())
    data["energy"]["leakage_pj_per_cycle"] = 11.75
    path = tmp_path / "twice.yaml"
    path.write_text(yaml.safe_dump(data))
    done = subprocess.run([sys.executable, "-m", "hwsim", "validate", str(path)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "energy.leakage_pj_per_cycle: is derived from technology" in done.stderr
