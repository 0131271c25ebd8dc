"""Activations that stay on chip (mapping.keep_activations_on_chip) and outputs requantized to
the width their readers use (mapping.requantize_outputs)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hwsim.cost.layer_cost import simulate_layer
from hwsim.mapping.tiling import ActivationIO
from hwsim.simulation import Decisions, simulate_network, static_variant
from hwsim.workload.activations import activation_flow
from hwsim.workload.layer import FULL, Layer, LayerKind, Precision
from hwsim.workload.synth import resnet_cifar_network

NET = resnet_cifar_network(14, input_size=16, in_channels=1)  # 5 gated blocks


def _policy(arch, **flags):
    return dataclasses.replace(arch, mapping=dataclasses.replace(arch.mapping, **flags))


def _decisions(bits: int, inputs: int = 2) -> Decisions:
    rows = np.full((inputs, len(NET.blocks)), bits, dtype=np.int16)
    return Decisions(rows, rows.copy())


def test_flow_follows_the_residual_blocks() -> None:
    flows = activation_flow(NET)
    names = [layer.name for layer in NET.layers]
    at = {name: i for i, name in enumerate(names)}
    conv1, conv2 = at["group1.block1.conv1"], at["group1.block1.conv2"]
    block_input = at["group1.block0.conv2"]
    assert flows[conv1].producer == block_input and flows[conv2].producer == conv1
    assert flows[conv2].live_of == block_input  # x stays live for the add
    short = at["group2.block0.shortcut"]
    assert flows[short].producer == at["group1.block1.conv2"]
    assert flows[short].output_of == at["group2.block0.conv2"]  # added into the block output
    assert flows[at["group2.block1.conv1"]].producer == at["group2.block0.conv2"]
    assert flows[conv1].storage_bits is None  # h: read by conv2 at the block's own decision
    assert flows[conv2].storage_bits == 32  # y: the next gate reads it at 32 bits
    assert all(flows[i].tiny for i, layer in enumerate(NET.layers)
               if layer.kind is LayerKind.GATE)


def test_resident_tensors_skip_dram_and_nothing_costs_more(arch_16x16) -> None:
    off = _policy(arch_16x16, keep_activations_on_chip=False)
    on = _policy(arch_16x16, keep_activations_on_chip=True)
    decisions = _decisions(16)
    a = simulate_network(NET, decisions, off)
    b = simulate_network(NET, decisions, on)
    assert b.per_input["dram_bits"][0] < a.per_input["dram_bits"][0]
    assert b.energy_pj()[0] < a.energy_pj()[0]
    saved = a.per_input["dram_bits"][0] - b.per_input["dram_bits"][0]
    assert b.per_input["onchip_bits"][0] >= saved * 0.99  # what stayed is what was not moved
    for x, y in zip(a.layers, b.layers, strict=True):
        assert y.totals["dram_bits"] <= x.totals["dram_bits"], y.layer.name


def test_everything_fits_leaves_weights_input_and_logits(arch_16x16) -> None:
    """A tiny network at 8 bits in a big activation buffer: DRAM carries the weights, the
    network input and the final output only."""
    big = dataclasses.replace(arch_16x16, buffers=dataclasses.replace(
        arch_16x16.buffers, input=dataclasses.replace(arch_16x16.buffers.input,
                                                      size_bytes=1 << 20)))
    arch = _policy(big, keep_activations_on_chip=True, requantize_outputs=True,
                   activation_bits=0)
    static = static_variant(NET, Precision(8, 8), "s8")
    result = simulate_network(static, Decisions.static(1), arch)
    weights = sum(layer.weight_count * 8 for layer in static.layers)
    first, last = static.layers[0], static.layers[-1]
    network_input = first.in_channels * first.input_height * first.input_width * 8
    assert result.per_input["dram_bits"][0] == pytest.approx(
        weights + network_input + last.out_channels * 8, rel=0.02)


def test_requantized_outputs_are_written_at_the_readers_width(arch_16x16) -> None:
    layer = Layer("c", LayerKind.CONV, 32, 32, 14, 14, 3, 1, 1)
    psum = simulate_layer(layer, Precision(8, 8), 1, arch_16x16, io=ActivationIO())
    eight = simulate_layer(layer, Precision(8, 8), 1, arch_16x16,
                           io=ActivationIO(final_output_bits=8))
    outputs = 32 * 14 * 14
    assert psum.dram_bits - eight.dram_bits == outputs * (32 - 8)


def test_residency_is_judged_at_the_widest_width(arch_16x16) -> None:
    """Group-1 tensors of ResNet74 on 28x28 (16 x 784 values) do not fit a 32 KiB buffer
    twice at 32 bits, but do at 8 bits: stored at 8 bits, they stay on chip."""
    net = resnet_cifar_network(74, input_size=28, in_channels=1)
    decisions = Decisions(np.full((1, len(net.blocks)), 8, dtype=np.int16),
                          np.full((1, len(net.blocks)), 8, dtype=np.int16))
    wide = simulate_network(net, decisions, _policy(arch_16x16, activation_bits=0))
    narrow = simulate_network(net, decisions, _policy(arch_16x16, activation_bits=8))
    group1 = [s.totals["onchip_bits"] for s in wide.layers
              if s.layer.name.startswith("group1") and s.layer.kind is LayerKind.CONV]
    assert max(group1) == 0
    assert narrow.per_input["onchip_bits"][0] > wide.per_input["onchip_bits"][0]


def test_compulsory_traffic_is_reported_per_layer(arch_16x16) -> None:
    result = simulate_network(NET, _decisions(32, 1), arch_16x16)
    compulsory = result.per_input["compulsory_bits"][0]
    expected = 0
    for summary in result.layers:
        layer = summary.layer
        precision = layer.fixed or FULL
        expected += layer.weight_count * precision.wgt_bits + (
            layer.in_channels * layer.input_height * layer.input_width * precision.act_bits)
    assert compulsory > expected  # plus the outputs, at their written widths
