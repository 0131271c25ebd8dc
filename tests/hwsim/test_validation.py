"""Published Bit Fusion figures (authors' simulator, bf_e_conf, batch 16; reference bitfusion.md).

The residuals and their causes are written up in docs/validation.md.
"""

from __future__ import annotations

import pytest

from hwsim.cost.layer_cost import simulate_layer
from hwsim.simulation import Decisions, simulate_network
from hwsim.workload.benchmarks import load_benchmark
from hwsim.workload.layer import Layer, LayerKind, Precision

LAYER_3X3 = Layer("conv3x3", LayerKind.CONV, 128, 256, 16, 16, 3, 1, 1)
# (act, wgt): (compute cycles, total cycles) of the one-layer validation point
ONE_LAYER = {(8, 8): (2_359_296, 2_359_900), (4, 4): (589_824, 590_860),
             (2, 2): (294_912, 402_091), (8, 2): (589_824, 591_126),
             (2, 8): (589_824, 779_606), (8, 4): (1_179_648, 1_180_300)}
LENET_TOTALS = {"conv0": 179_116, "conv1": 205_635, "fc1": 25_259, "fc2": 342}
LENET_ENERGY_NJ = {"conv0": 525_480, "conv1": 535_565, "fc1": 79_408, "fc2": 916}


@pytest.mark.parametrize(("bits", "expected"), ONE_LAYER.items(), ids=str)
def test_one_layer_compute_cycles_exact(isca18_arch, bits, expected):
    perf = simulate_layer(LAYER_3X3, Precision(*bits), 16, isca18_arch)
    assert perf.compute_cycles == expected[0]


@pytest.mark.parametrize(("bits", "expected"), ONE_LAYER.items(), ids=str)
def test_one_layer_total_cycles_within_1_percent(isca18_arch, bits, expected):
    perf = simulate_layer(LAYER_3X3, Precision(*bits), 16, isca18_arch)
    assert perf.total_cycles == pytest.approx(expected[1], rel=0.01)


@pytest.mark.parametrize("bits", [(2, 2), (4, 4)])
def test_channel_limited_layer(isca18_arch, bits):
    layer = Layer("c", LayerKind.CONV, 64, 64, 56, 56, 3, 1, 1)
    assert simulate_layer(layer, Precision(*bits), 16, isca18_arch).compute_cycles == 903_168


def test_channel_limited_8bit_total(isca18_arch):
    layer = Layer("c", LayerKind.CONV, 64, 64, 56, 56, 3, 1, 1)
    perf = simulate_layer(layer, Precision(8, 8), 16, isca18_arch)
    assert perf.total_cycles == pytest.approx(3_613_508, rel=0.01)


@pytest.fixture(scope="module")
def lenet_result(request):
    arch = request.getfixturevalue("isca18_arch")
    return simulate_network(load_benchmark("lenet5"), Decisions.static(16), arch, batch=16)


def _batch_totals(result, key):
    return {s.layer.name: s.totals[key] for s in result.layers}


def test_lenet_per_layer_and_total_cycles_within_2_percent(lenet_result):
    """With the authors' conventions on (bitfusion_isca18.yaml). fc2 (342 cycles, 0.08% of the
    network) is at -2.3%: its 10 output channels run as a 16-wide tile, loaded whole before
    computing; the residue is in the systolic fill and drain (docs/validation.md)."""
    compute = _batch_totals(lenet_result, "compute_cycles")
    stall = _batch_totals(lenet_result, "stall_cycles")
    ours = {name: compute[name] + stall[name] for name in compute}
    for name, published in LENET_TOTALS.items():
        tolerance = 0.03 if name == "fc2" else 0.02
        assert ours[name] == pytest.approx(published, rel=tolerance), name
    assert sum(ours.values()) == pytest.approx(410_352, rel=0.01)
    assert lenet_result.per_input["latency_cycles"][0] == sum(ours.values())


def test_lenet_energy_within_2_percent_and_dram_dominates(lenet_result):
    """fc2 (0.17% of the energy) is the exception, -17%: see docs/validation.md."""
    from hwsim.cost.energy import COMPONENTS

    per_layer = {s.layer.name: sum(s.totals[c] for c in COMPONENTS) for s in lenet_result.layers}
    total = sum(per_layer.values())
    assert total / 1e3 == pytest.approx(sum(LENET_ENERGY_NJ.values()), rel=0.02)
    for name in ("conv0", "conv1", "fc1"):
        assert per_layer[name] / 1e3 == pytest.approx(LENET_ENERGY_NJ[name], rel=0.02), name
    assert per_layer["fc2"] / 1e3 == pytest.approx(LENET_ENERGY_NJ["fc2"], rel=0.20)
    dram = sum(s.totals["dram_pj"] for s in lenet_result.layers)
    core = sum(s.totals["compute_pj"] for s in lenet_result.layers)
    assert 0.85 < dram / total < 0.97  # published: ~91%
    assert 0.03 < core / total < 0.07  # published: ~5%
