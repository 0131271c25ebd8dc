"""The authors' simulator conventions (bitfusion_isca18.yaml), each as a named setting with the
effect the reference describes; all off is the physical model."""

from __future__ import annotations

import dataclasses

import pytest

from hwsim.cost.layer_cost import simulate_layer
from hwsim.cost.timing import analytic_timing, fill_drain_cycles, plan_layer
from hwsim.workload.layer import Layer, LayerKind, Precision

ODD = Layer("conv3", LayerKind.CONV, 64, 64, 13, 13, 3, 1, 1)


def _only(arch, **flags):
    mapping = dataclasses.replace(arch.mapping.physical(), **flags)
    return dataclasses.replace(arch, mapping=mapping)


def test_pow2_edge_tiles_pad_outputs_and_channels(isca18_arch):
    arch = _only(isca18_arch, pow2_edge_tiles=True)
    plan = plan_layer(ODD, Precision(4, 4), 16, arch)
    side = plan.tiling.pq
    assert side & (side - 1) == 0 and plan.tiling.k & (plan.tiling.k - 1) == 0
    padded = -(-13 // side) * side  # 13x13 runs as 13 (tile 1), 14 (tile 2) or 16 (4, 8, 16)
    folds_c = -(-64 // plan.tiling.c) * -(-plan.tiling.c // (16 * plan.mode.spatial_products))
    folds_k = -(-64 // plan.tiling.k) * -(-plan.tiling.k // 32)
    assert plan.compute_cycles == 16 * padded * padded * 9 * folds_c * folds_k
    fc2 = plan_layer(Layer("fc2", LayerKind.FC, 512, 10), Precision(2, 2), 16, arch)
    assert fc2.tiling.k == 16  # 10 output channels run as one 16-wide tile
    assert fc2.traffic.weight_read_bits == 512 * 16 * 2


def test_fetching_the_padding_halo_moves_more_input(isca18_arch):
    plain = plan_layer(ODD, Precision(4, 4), 16, _only(isca18_arch))
    halo = plan_layer(ODD, Precision(4, 4), 16, _only(isca18_arch, fetch_padding_halo=True))
    if plain.tiling == halo.tiling:
        assert halo.traffic.input_read_bits > plain.traffic.input_read_bits
    rows = min(halo.tiling.pq, 13)
    tiles = -(-13 // rows)
    per_sweep = (tiles * ((rows - 1) + 3)) ** 2 * 16 * 64 * 4
    assert halo.traffic.input_read_bits % per_sweep == 0


def test_one_input_read_per_multiply(isca18_arch):
    perf = simulate_layer(ODD, Precision(4, 4), 16, _only(isca18_arch,
                                                          input_reads_per_multiply=True))
    assert perf.counts.input_sram_read_bits == ODD.macs * 16 * 4
    rows = simulate_layer(ODD, Precision(4, 4), 16, _only(isca18_arch))
    assert rows.counts.input_sram_read_bits == ODD.macs * 16 * 4 // 64 * 2  # 64 ch, 2 col folds


@pytest.mark.parametrize("serial", [False, True])
def test_small_layers_load_whole_then_compute(isca18_arch, serial):
    arch = _only(isca18_arch, serial_small_layers=serial)
    plan = plan_layer(Layer("fc2", LayerKind.FC, 512, 10), Precision(2, 2), 16, arch)
    assert plan.whole_layer_fits
    total = analytic_timing(plan, arch).total_cycles
    serial_total = (-(-plan.traffic.dram_bits // 192) + plan.compute_cycles
                    + fill_drain_cycles(arch))
    assert (total == serial_total) is serial


def test_the_shipped_isca18_config_turns_every_convention_on(isca18_arch, arch_16x16):
    assert isca18_arch.mapping.authors_conventions == (
        "pow2_edge_tiles", "fetch_padding_halo", "input_reads_per_multiply",
        "serial_small_layers")
    assert arch_16x16.mapping.authors_conventions == ()
