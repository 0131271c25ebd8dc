"""Closed-form cases for every PE kind, and the equal-area baseline configs.

fixed: a fixed-width multiplier gains nothing from narrower operands, wider ones take passes.
bit_serial (Stripes, Judd et al. MICRO 2016): time proportional to activation bits.
bitfusion (Sharma et al. ISCA 2018): 4x the products per cycle from 8 to 4 bits.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from hwsim.cost.layer_cost import simulate_layer
from hwsim.errors import ConfigError, MappingError
from hwsim.hardware.arch import ArchConfig, ArrayConfig, PeConfig, PeKind, arch_to_dict, load_arch
from hwsim.hardware.pe import fusion_mode
from hwsim.workload.layer import Layer, LayerKind, Precision

ARCH_CONFIG_DIR = Path(__file__).resolve().parents[2] / "arch_configs"
FIXED16 = PeConfig(PeKind.FIXED, bricks_per_unit=1, multiplier_bits=16, temporal_max_bits=32)
FIXED8 = PeConfig(PeKind.FIXED, bricks_per_unit=1, multiplier_bits=8, temporal_max_bits=32)
STRIPES = PeConfig(PeKind.BIT_SERIAL, bricks_per_unit=16, multiplier_bits=16,
                   temporal_max_bits=16)
CONV = Layer("conv", LayerKind.CONV, 64, 128, 16, 16, 3, 1, 1)
BITFUSION_CORE_UM2 = 512 * 1734.6


@pytest.fixture(scope="module")
def fixed8_arch() -> ArchConfig:
    return load_arch(ARCH_CONFIG_DIR / "fixed8_isca18_area.yaml")


@pytest.fixture(scope="module")
def stripes_arch() -> ArchConfig:
    return load_arch(ARCH_CONFIG_DIR / "stripes_isca18_area.yaml")


def _with_pe(arch: ArchConfig, pe: PeConfig) -> ArchConfig:
    return dataclasses.replace(arch, pe=pe)


@pytest.mark.parametrize("bits", [1, 2, 4, 8, 16])
def test_fixed16_gains_nothing_from_narrow_operands(bits):
    mode = fusion_mode(Precision(bits, bits), FIXED16)
    assert (mode.spatial_products, mode.temporal_passes) == (1, 1)
    assert mode.native == Precision(16, 16)


def test_fixed16_compute_cycles_equal_at_8_and_16_bits(fixed8_arch):
    arch = _with_pe(fixed8_arch, FIXED16)
    eight = simulate_layer(CONV, Precision(8, 8), 4, arch)
    sixteen = simulate_layer(CONV, Precision(16, 16), 4, arch)
    assert eight.compute_cycles == sixteen.compute_cycles


@pytest.mark.parametrize(("act", "wgt", "passes"), [(8, 8, 1), (16, 8, 2), (16, 16, 4),
                                                    (32, 32, 16), (12, 3, 2)])
def test_fixed8_wider_operands_take_passes(act, wgt, passes):
    mode = fusion_mode(Precision(act, wgt), FIXED8)
    assert (mode.spatial_products, mode.temporal_passes, mode.brick_ops_per_mac) == (
        1, passes, passes)


def test_fixed_pe_rejects_widths_beyond_its_widest_mode():
    with pytest.raises(MappingError, match="64-bit operands exceed.*32 bits"):
        fusion_mode(Precision(64, 8), FIXED8)


@pytest.mark.parametrize("act", [1, 3, 8, 11, 16])
def test_bit_serial_time_is_activation_bits_over_lanes(act):
    mode = fusion_mode(Precision(act, 4), STRIPES)
    assert mode.products_per_fu_cycle == pytest.approx(16 / act)
    assert mode.native == Precision(act, 16)  # weights always run at the lanes' width


def test_bit_serial_compute_halves_from_16_to_8_activation_bits(stripes_arch):
    sixteen = simulate_layer(CONV, Precision(16, 8), 4, stripes_arch)
    eight = simulate_layer(CONV, Precision(8, 8), 4, stripes_arch)
    assert sixteen.compute_cycles == 2 * eight.compute_cycles


def test_bit_serial_weights_do_not_change_time(stripes_arch):
    small = Layer("conv", LayerKind.CONV, 16, 32, 8, 8, 3, 1, 1)  # 16-bit weights fit one tile
    two = simulate_layer(small, Precision(8, 2), 1, stripes_arch)
    sixteen = simulate_layer(small, Precision(8, 16), 1, stripes_arch)
    assert two.compute_cycles == sixteen.compute_cycles


@pytest.mark.parametrize(("bits", "match"), [((17, 8), "17-bit activations exceed"),
                                             ((8, 32), "32-bit weights exceed.*16-bit lanes")])
def test_bit_serial_rejects_what_it_cannot_run(bits, match):
    with pytest.raises(MappingError, match=match):
        fusion_mode(Precision(*bits), STRIPES)


def test_bitfusion_is_4x_faster_from_8_to_4_bits(isca18_arch):
    eight = simulate_layer(CONV, Precision(8, 8), 16, isca18_arch)
    four = simulate_layer(CONV, Precision(4, 4), 16, isca18_arch)
    assert eight.compute_cycles == 4 * four.compute_cycles


@pytest.mark.parametrize("name", ["fixed8_arch", "stripes_arch"])
def test_baselines_fill_bitfusion_core_area(request, name):
    arch = request.getfixturevalue(name)
    core_um2 = arch.fu_count * arch.area.fu_um2
    assert 0.99 * BITFUSION_CORE_UM2 <= core_um2 <= BITFUSION_CORE_UM2
    assert "510.7" in arch.area.source


def test_baselines_share_everything_but_the_pe_with_isca18(isca18_arch, fixed8_arch,
                                                           stripes_arch):
    for arch in (fixed8_arch, stripes_arch):
        assert (arch.buffers, arch.dram, arch.mapping, arch.frequency_mhz) == (
            isca18_arch.buffers, isca18_arch.dram, isca18_arch.mapping, isca18_arch.frequency_mhz)
        assert arch.energy.dram_pj_per_bit == isca18_arch.energy.dram_pj_per_bit
    assert fixed8_arch.energy.compute_pj_per_fu_cycle == pytest.approx(0.459 / 2.26, rel=1e-3)
    assert "ASSUMPTION" in stripes_arch.area.source and "ASSUMPTION" in stripes_arch.energy.source


@pytest.mark.parametrize("name", ["fixed8_arch", "stripes_arch"])
@pytest.mark.parametrize("bits", [(2, 2), (4, 4), (8, 8), (16, 8)])
def test_utilization_is_a_fraction_for_every_kind(request, name, bits):
    perf = simulate_layer(CONV, Precision(*bits), 2, request.getfixturevalue(name))
    assert 0 < perf.brick_utilization <= 1
    assert perf.brick_utilization == pytest.approx(perf.fu_utilization)


def test_fixed_pe_needs_one_brick(fixed8_arch, write_yaml):
    data = arch_to_dict(fixed8_arch)
    data["pe"]["bricks_per_unit"] = 16
    data["pe"]["temporal_max_bits"] = 24
    with pytest.raises(ConfigError, match=r"pe\.bricks_per_unit: must be 1(.|\n)*"
                                          r"pe\.temporal_max_bits: must be a power-of-two"):
        load_arch(write_yaml(data))


def test_pe_kinds_round_trip(fixed8_arch, stripes_arch, write_yaml):
    for arch in (fixed8_arch, stripes_arch):
        assert load_arch(write_yaml(arch_to_dict(arch))) == arch


def test_small_array_of_any_kind_still_maps(stripes_arch):
    arch = dataclasses.replace(stripes_arch, array=ArrayConfig(1, 1))
    perf = simulate_layer(Layer("fc", LayerKind.FC, 10, 3), Precision(3, 8), 1, arch)
    assert perf.compute_cycles == 3 * 3 * 1  # 3 filters, one lane group, 3 activation bits
