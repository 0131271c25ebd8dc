"""SCALE-Sim's OS/WS/IS cycle model (hwsim.mapping.dataflow) against figures SCALE-Sim 3.0.0
produced.

Reference points: bitfusion.md (16x16 array); the non-square points were measured here by running
SCALE-Sim 3.0.0 (CALC bandwidth, 64 KiB SRAMs; "Total Cycles", initial prefetch excluded) on
8x32 and 32x8 arrays, to pin which array side each fill/drain term belongs to.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from hwsim.cost.layer_cost import simulate_layer
from hwsim.cost.timing import fill_drain_cycles, plan_layer
from hwsim.errors import ConfigError, MappingError
from hwsim.hardware.arch import ArrayConfig, Dataflow, arch_to_dict, load_arch
from hwsim.mapping.dataflow import systolic_mapping
from hwsim.mapping.loopnest import loop_nest
from hwsim.workload.layer import Layer, LayerKind, Precision

ARCHS = Path(__file__).resolve().parents[2] / "arch_configs"
LAYERS = {  # SCALE-Sim IFMAP sizes include padding, so padding 0 here
    "a": Layer("a", LayerKind.CONV, 32, 32, 18, 18, 3, 1, 0),  # 16x16 output, 32->32
    "b": Layer("b", LayerKind.CONV, 16, 16, 34, 34, 3, 1, 0),  # 32x32 output, 16->16
    "c": Layer("c", LayerKind.CONV, 5, 21, 15, 15, 3, 2, 0),  # 7x7 output, stride 2
    "d": Layer("d", LayerKind.FC, 100, 10),
}
SCALESIM_CYCLES = {  # (rows, cols, dataflow, layer) -> SCALE-Sim total cycles
    (16, 16, "os", "a"): 10_175, (16, 16, "ws", "a"): 10_871,  # reference bitfusion.md
    (16, 16, "os", "b"): 11_135, (16, 16, "ws", "b"): 9_629,  # reference bitfusion.md
    (16, 16, "is", "a"): 22_463, (16, 16, "is", "b"): 35_711,
    (8, 32, "os", "a"): 10_431, (8, 32, "ws", "a"): 10_871, (8, 32, "is", "a"): 22_463,
    (8, 32, "os", "c"): 580, (8, 32, "ws", "c"): 569, (8, 32, "is", "c"): 803,
    (8, 32, "os", "d"): 137, (8, 32, "ws", "d"): 610, (8, 32, "is", "d"): 727,
    (32, 8, "os", "a"): 10_431, (32, 8, "ws", "a"): 11_735, (32, 8, "is", "a"): 29_375,
    (32, 8, "os", "c"): 497, (32, 8, "ws", "c"): 713, (32, 8, "is", "c"): 1_273,
    (32, 8, "os", "d"): 275, (32, 8, "ws", "d"): 567, (32, 8, "is", "d"): 319,
}


@pytest.mark.parametrize(("key", "expected"), SCALESIM_CYCLES.items(),
                         ids=["-".join(map(str, k)) for k in SCALESIM_CYCLES])
def test_cycles_equal_scalesim(key, expected):
    rows, cols, dataflow, name = key
    array = ArrayConfig(rows, cols, Dataflow(dataflow))
    nest = loop_nest(LAYERS[name], 1)
    assert systolic_mapping(nest, array).compute_cycles == expected


@pytest.mark.parametrize("dataflow", ["os", "ws", "is"])
def test_shipped_configs_reproduce_the_reference_points(dataflow):
    arch = load_arch(ARCHS / f"systolic8_16x16_{dataflow}.yaml")
    assert (arch.array.rows, arch.array.cols, arch.array.dataflow.value) == (16, 16, dataflow)
    for name in ("a", "b"):
        perf = simulate_layer(LAYERS[name], Precision(8, 8), 1, arch)
        assert perf.compute_cycles == SCALESIM_CYCLES[(16, 16, dataflow, name)]
        assert perf.total_cycles >= perf.compute_cycles
    assert fill_drain_cycles(arch) == 0  # already inside every fold


def test_batch_adds_output_pixels():
    array = ArrayConfig(16, 16, Dataflow.WS)
    one = systolic_mapping(loop_nest(LAYERS["a"], 1), array)
    four = systolic_mapping(loop_nest(LAYERS["a"], 4), array)
    assert (four.folds, four.stream_cycles) == (one.folds, 4 * one.stream_cycles)


def test_wide_operands_repeat_every_fold():
    arch = load_arch(ARCHS / "systolic8_16x16_os.yaml")
    eight = plan_layer(LAYERS["a"], Precision(8, 8), 1, arch)
    sixteen = plan_layer(LAYERS["a"], Precision(16, 16), 1, arch)
    assert sixteen.compute_cycles + 1 == 4 * (eight.compute_cycles + 1)
    assert plan_layer(LAYERS["a"], Precision(2, 2), 1, arch).compute_cycles == (
        eight.compute_cycles)  # a fixed 8-bit PE gains nothing from narrower operands


def test_utilization_matches_scalesim_overall_util():
    arch = load_arch(ARCHS / "systolic8_16x16_os.yaml")
    wide = dataclasses.replace(arch, dram=dataclasses.replace(arch.dram,
                                                              bandwidth_bits_per_cycle=1 << 40))
    perf = simulate_layer(LAYERS["a"], Precision(8, 8), 1, wide)
    # SCALE-Sim reports 90.57% (MACs / (PEs x total cycles)) for this layer
    assert perf.fu_utilization == pytest.approx(0.9057, abs=2e-4)


def test_bitfusion_dataflow_is_not_systolic():
    with pytest.raises(MappingError, match="not a systolic dataflow"):
        systolic_mapping(loop_nest(LAYERS["a"], 1), ArrayConfig(16, 16))


def test_systolic_dataflow_needs_a_fixed_pe(isca18_arch, write_yaml):
    data = arch_to_dict(isca18_arch)
    data["array"]["dataflow"] = "ws"
    with pytest.raises(ConfigError, match=r"array\.dataflow: the 'ws' dataflow needs a fixed PE"):
        load_arch(write_yaml(data))


def test_unknown_dataflow_is_rejected(isca18_arch, write_yaml):
    data = arch_to_dict(isca18_arch)
    data["array"]["dataflow"] = "rs"
    with pytest.raises(ConfigError, match=r"array\.dataflow"):
        load_arch(write_yaml(data))
