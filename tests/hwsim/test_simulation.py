"""Workload semantics: skipping, fixed layers, batching and cost growth with combinations."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hwsim.cost.layer_cost import _simulate, clear_cache, simulate_layer
from hwsim.simulation import Decisions, simulate_network, static_variant
from hwsim.workload.layer import FULL, LayerKind, Precision
from hwsim.workload.synth import resnet_cifar_network

NET = resnet_cifar_network(14)  # 5 gated blocks, 2 of them downsampling


def decisions(rows):
    bits = np.array(rows, dtype=np.int16)
    return Decisions(bits, bits.copy())


@pytest.fixture
def arch_16x16(arch_16x16):
    """Every layer costed on its own (activations through DRAM at partial-sum width), so the
    semantics below add up layer by layer; on-chip activations are tested in test_activations."""
    mapping = dataclasses.replace(arch_16x16.mapping, keep_activations_on_chip=False,
                                  requantize_outputs=False)
    return dataclasses.replace(arch_16x16, mapping=mapping)


def test_skipped_input_pays_only_what_still_runs(arch_16x16):
    n_blocks = len(NET.blocks)
    result = simulate_network(NET, decisions([[0] * n_blocks, [32] * n_blocks]), arch_16x16)
    skipped = result.per_input["latency_cycles"][0]
    always = sum(simulate_layer(layer, layer.fixed, 1, arch_16x16).total_cycles
                 for layer in NET.layers if layer.fixed is not None)
    assert skipped == pytest.approx(always)
    shortcut_layers = [layer for layer in NET.layers if layer.name.endswith("shortcut")]
    assert shortcut_layers and all(layer.fixed == FULL for layer in shortcut_layers)
    assert result.per_input["latency_cycles"][1] > skipped


def test_full_decisions_equal_the_static_full_network_plus_gates(arch_16x16):
    n_blocks = len(NET.blocks)
    dynamic = simulate_network(NET, decisions([[32] * n_blocks]), arch_16x16)
    static = simulate_network(static_variant(NET, FULL, "full"), Decisions.static(1), arch_16x16)
    gates = sum(simulate_layer(layer, FULL, 1, arch_16x16).total_cycles
                for layer in NET.layers if layer.kind is LayerKind.GATE)
    assert dynamic.per_input["latency_cycles"][0] == pytest.approx(
        static.per_input["latency_cycles"][0] + gates)


def test_batch_groups_share_latency_and_split_energy(arch_16x16):
    n_blocks = len(NET.blocks)
    rows = [[8] * n_blocks, [16] * n_blocks, [8] * n_blocks, [0] * n_blocks]
    result = simulate_network(NET, decisions(rows), arch_16x16, batch=2)
    latency = result.per_input["latency_cycles"]
    assert latency[0] == latency[1] and latency[2] == latency[3]
    energy = result.energy_pj()
    assert energy[0] == pytest.approx(energy[1])
    # group 0: fixed layers run once on both inputs; a gated layer runs an 8-bit sub-batch of one
    # and then a 16-bit sub-batch of one
    expected = sum(
        simulate_layer(layer, layer.fixed, 2, arch_16x16).total_cycles if layer.fixed else
        simulate_layer(layer, Precision(8, 8), 1, arch_16x16).total_cycles
        + simulate_layer(layer, Precision(16, 16), 1, arch_16x16).total_cycles
        for layer in NET.layers)
    assert latency[0] == pytest.approx(expected)


def test_static_batch_16_amortizes_weights(arch_16x16):
    static = static_variant(NET, Precision(8, 8), "s8")
    one = simulate_network(static, Decisions.static(16), arch_16x16, batch=1)
    sixteen = simulate_network(static, Decisions.static(16), arch_16x16, batch=16)
    dram = lambda r: r.per_input["dram_bits"].sum()  # noqa: E731
    assert dram(sixteen) < dram(one)


def test_cost_grows_with_combinations_not_inputs(arch_16x16):
    rng = np.random.default_rng(0)
    n_blocks = len(NET.blocks)
    small = rng.choice([0, 8, 16, 32], size=(50, n_blocks))
    big = rng.choice([0, 8, 16, 32], size=(5000, n_blocks))
    clear_cache()
    simulate_network(NET, decisions(small), arch_16x16)
    misses_small = _simulate.cache_info().misses
    clear_cache()
    simulate_network(NET, decisions(big), arch_16x16)
    assert _simulate.cache_info().misses == misses_small


def test_bad_batch_is_an_error(arch_16x16):
    from hwsim.errors import MappingError

    with pytest.raises(MappingError, match="batch"):
        simulate_network(NET, Decisions.static(2), arch_16x16, batch=0)
