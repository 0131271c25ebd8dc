"""hwsim.workload.benchmarks: the Bit Fusion benchmarks against the reference table, and SCALE-Sim
CSVs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hwsim.errors import ConfigError
from hwsim.workload.benchmarks import (
    BENCHMARK_FILE,
    BENCHMARK_NAMES,
    load_benchmark,
    load_networks,
    load_scalesim_topology,
)
from hwsim.workload.layer import Layer, LayerKind, Precision

SCALESIM_RESNET18 = BENCHMARK_FILE.parent / "scalesim_resnet18_topology.csv"
SHARED_RESNET18 = Path("/work/shared/reference/scalesim_resnet18_topology.csv")


def _conv(name: str, k: int, s: int, i: int, o: int, ic: int, oc: int, bits: str) -> tuple:
    return (name, LayerKind.CONV, k, s, i, o, ic, oc, bits)


def _fc(name: str, ic: int, oc: int, bits: str) -> tuple:
    return (name, LayerKind.FC, 1, 1, 1, 1, ic, oc, bits)


def _same(names: str, k: int, i: int, ic: int, oc: int, bits: str) -> list[tuple]:
    return [_conv(name, k, 1, i, i, ic, oc, bits) for name in names.split()]


def _resnet18() -> list[tuple]:
    rows = [_conv("conv1_a", 7, 2, 224, 112, 3, 128, "8/8")]
    size, channels = 56, 128
    for module, out in ((2, 128), (3, 256), (4, 512), (5, 1024)):
        for pair in (1, 2):
            stride = 2 if module > 2 and pair == 1 else 1
            rows.append(_conv(f"conv{module}_{pair}_a", 1, stride, size, size // stride,
                              channels, out, "4/4"))
            size, channels = size // stride, out
            rows.append(_conv(f"conv{module}_{pair}_b", 3, 1, size, size, out, out, "4/4"))
    return rows


# Re-typed from shared/reference/bitfusion.md "The benchmark networks":
# (name, kind, kernel, stride, input size, output size, in channels, out channels, act/wgt).
REFERENCE = {
    "lenet5": [*_same("conv0", 5, 32, 1, 32, "2/2"), *_same("conv1", 5, 16, 32, 64, "2/2"),
               _fc("fc1", 4096, 512, "2/2"), _fc("fc2", 512, 10, "2/2")],
    "cifar10": [*_same("conv0", 3, 32, 3, 128, "8/8"), *_same("conv1", 3, 32, 128, 128, "2/2"),
                *_same("conv2", 3, 16, 128, 256, "2/2"), *_same("conv3", 3, 16, 256, 256, "2/2"),
                *_same("conv4", 3, 8, 256, 512, "2/2"), *_same("conv5", 3, 8, 512, 512, "2/2"),
                _fc("fc6", 8192, 1024, "2/2"), _fc("fc7", 1024, 1024, "2/2"),
                _fc("fc8", 1024, 10, "2/2")],
    "svhn": [*_same("conv0", 3, 32, 3, 64, "8/1"), *_same("conv1", 3, 32, 64, 64, "1/1"),
             *_same("conv2", 3, 16, 64, 128, "1/1"), *_same("conv3", 3, 16, 128, 128, "1/1"),
             *_same("conv4", 3, 8, 128, 256, "1/1"), *_same("conv5", 3, 8, 256, 256, "1/1"),
             _fc("fc6", 4096, 1024, "1/1"), _fc("fc7", 1024, 1024, "1/1"),
             _fc("fc8", 1024, 10, "1/1")],
    "vgg7": [*_same("conv1_a conv1_b", 3, 32, 3, 128, "2/2"),
             *_same("conv2_a conv2_b", 3, 16, 128, 256, "2/2"),
             *_same("conv3_a conv3_b", 3, 8, 256, 512, "2/2"), _fc("fc1", 8192, 1024, "2/2")],
    "alexnet": [_conv("conv1_a", 11, 4, 227, 55, 3, 96, "8/8"),
                _conv("conv1_b", 11, 4, 227, 55, 3, 96, "8/8"),
                *_same("conv2_a conv2_b", 5, 27, 96, 256, "4/4"),
                *_same("conv3_a conv3_b", 3, 13, 512, 384, "4/4"),
                *_same("conv4_a conv4_b", 3, 13, 384, 384, "4/4"),
                *_same("conv5_a conv5_b", 3, 13, 384, 256, "4/4"),
                _fc("fc1", 18432, 8192, "4/4"), _fc("fc2", 8192, 8192, "4/4"),
                _fc("fc3", 8192, 1000, "8/8")],
    "resnet18": _resnet18(),
    "rnn": [_fc("matmul", 4096, 4096, "4/4")],
    "lstm": [_fc("matmul", 3600, 3600, "4/4")],
}


def _facts(layer: Layer) -> tuple:
    assert layer.output_height == layer.output_width
    return (layer.name, layer.kind, layer.kernel, layer.stride, layer.input_height,
            layer.output_height, layer.in_channels, layer.out_channels, str(layer.fixed))


def test_benchmark_names_match_the_shipped_file() -> None:
    assert tuple(REFERENCE) == BENCHMARK_NAMES
    assert tuple(load_networks(BENCHMARK_FILE)) == BENCHMARK_NAMES


@pytest.mark.parametrize("name", BENCHMARK_NAMES)
def test_benchmark_matches_the_reference(name: str) -> None:
    network = load_benchmark(name)
    assert network.name == name
    assert [_facts(layer) for layer in network.layers] == REFERENCE[name]
    assert (network.blocks, network.options) == ((), ())
    for layer in network.layers:
        assert layer.block is None and not layer.follows_block
        assert layer.input_height == layer.input_width
        if layer.kind is LayerKind.FC:
            assert (layer.kernel, layer.padding, layer.input_height) == (1, 0, 1)
            assert not layer.first_layer


def test_layer_counts() -> None:
    counts = {name: len(load_benchmark(name).layers) for name in BENCHMARK_NAMES}
    assert counts == {"lenet5": 4, "cifar10": 9, "svhn": 9, "vgg7": 7, "alexnet": 13,
                      "resnet18": 17, "rnn": 1, "lstm": 1}


def test_lenet5_macs_per_image() -> None:
    conv0, conv1, fc1, fc2 = load_benchmark("lenet5").layers
    assert conv0.macs == 32 * 32 * 32 * 25
    assert conv1.macs == 16 * 16 * 64 * 25 * 32
    assert (fc1.macs, fc2.macs) == (4096 * 512, 512 * 10)
    assert conv0.padding == conv1.padding == 2


def test_padding_reproduces_the_listed_sizes() -> None:
    alexnet, resnet = load_benchmark("alexnet").layers, load_benchmark("resnet18").layers
    assert (alexnet[0].padding, alexnet[0].output_height) == (0, 55)
    assert (resnet[0].padding, resnet[0].output_height) == (3, 112)
    assert (resnet[5].name, resnet[5].padding, resnet[5].output_height) == ("conv3_1_a", 0, 28)
    assert load_benchmark("alexnet").layers[2].padding == 2  # 5x5, stride 1: same padding


def test_first_layer_marks_each_conv_reading_the_input() -> None:
    first = {name: [layer.name for layer in load_benchmark(name).layers if layer.first_layer]
             for name in BENCHMARK_NAMES}
    assert first == {"lenet5": ["conv0"], "cifar10": ["conv0"], "svhn": ["conv0"],
                     "vgg7": ["conv1_a", "conv1_b"], "alexnet": ["conv1_a", "conv1_b"],
                     "resnet18": ["conv1_a"], "rnn": [], "lstm": []}


def test_unknown_benchmark_lists_the_valid_names() -> None:
    with pytest.raises(ConfigError, match=r"unknown benchmark 'lenet' \(did you mean 'lenet5'\?\); "
                                          r"valid names: lenet5, cifar10, .*, lstm$"):
        load_benchmark("lenet")


TINY_NETWORK = """\
schema_version: 1
name: tiny
networks:
  tiny:
    layers:
      - {name: c0, kind: conv, kernel: 3, stride: 1, padding: 1, input_size: 8, output_size: 8,
         in_channels: 3, out_channels: 4, act_bits: 8, wgt_bits: 8, first_layer: true}
      - {name: f0, kind: fc, in_features: 256, out_features: 10, act_bits: 4, wgt_bits: 2}
"""


def test_user_workload_file_loads(write_yaml: Callable[..., Path]) -> None:
    (network,) = load_networks(write_yaml(TINY_NETWORK)).values()
    conv, fc = network.layers
    assert conv == Layer("c0", LayerKind.CONV, 3, 4, 8, 8, 3, 1, 1, None, Precision(8, 8), True)
    assert fc == Layer("f0", LayerKind.FC, 256, 10, fixed=Precision(4, 2))


@pytest.mark.parametrize(("old", "new", "pattern"), [
    ("output_size: 8", "output_size: 7",
     r"networks\.tiny\.layers\[0\]\.output_size: must equal .* = 8 \(got 7\)"),
    ("kind: fc", "kind: pool", r"networks\.tiny\.layers\[1\]\.kind: must be one of 'conv', 'fc'"),
    ("out_features: 10", "out_features: 10, kernel: 1",
     r"networks\.tiny\.layers\[1\]\.kernel: unknown key"),
    ("act_bits: 4", "act_bits: 64", r"layers\[1\]\.act_bits: must be an integer in 1\.\.32"),
    ("name: f0", "name: c0", r"layers\[1\]\.name: duplicates an earlier layer's name"),
    ("padding: 1, input_size: 8", "padding: 0, input_size: 2",
     r"layers\[0\]\.kernel: must not exceed input_size \+ 2 \* padding = 2 \(got 3\)"),
    ("  tiny:", "  bad name:", r"networks\.bad name: invalid name: must be letters"),
    ("    layers:\n", "    layers: []\n    old:\n",
     r"networks\.tiny\.layers: must hold at least 1 item\(s\) \(got \[\]\)"),
    ("schema_version: 1", "schema_version: '1'", r"schema_version: must be 1"),
])
def test_bad_workload_file(old: str, new: str, pattern: str,
                           write_yaml: Callable[..., Path]) -> None:
    path = write_yaml(TINY_NETWORK.replace(old, new), name="tiny.yaml")
    with pytest.raises(ConfigError, match=pattern) as caught:
        load_networks(path)
    assert str(caught.value).startswith(f"{path}: ")


def test_scalesim_resnet18_topology() -> None:
    network = load_scalesim_topology(SCALESIM_RESNET18, 8, 8)
    assert network.name == "scalesim_resnet18_topology"
    assert len(network.layers) == 21
    conv1, shortcut, fc = network.layers[0], network.layers[7], network.layers[-1]
    assert (conv1.name, conv1.output_height, conv1.output_width) == ("Conv1", 109, 109)
    assert conv1.output_height == (224 - 7) // 2 + 1
    assert [layer.first_layer for layer in network.layers] == [True] + [False] * 20
    assert all(layer.padding == 0 and layer.fixed == Precision(8, 8) for layer in network.layers)
    assert (shortcut.name, shortcut.kernel, shortcut.stride, shortcut.output_height) == (
        "Conv3_s", 1, 2, 28)
    assert (fc.name, fc.macs, fc.kind) == ("FC", 512 * 1000, LayerKind.CONV)


@pytest.mark.skipif(not SHARED_RESNET18.exists(), reason="shared reference not mounted")
def test_shipped_topology_is_the_reference_copy() -> None:
    assert SCALESIM_RESNET18.read_bytes() == SHARED_RESNET18.read_bytes()
    assert load_scalesim_topology(SHARED_RESNET18, 4, 2).layers[0].fixed == Precision(4, 2)


HEADER = ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
          "Num Filter, Strides,\n")


@pytest.mark.parametrize(("body", "pattern"), [
    (HEADER + "a,8,8,3,3,4,4,1,\nb,8,8,3,3,4,4,x,\n",
     r"tiny\.csv:3: Strides: must be a positive integer \(got 'x'\)"),
    (HEADER + "a,8,8,3,3,4,4,\n", r"tiny\.csv:2: row: must have 8 values"),
    (HEADER + "a,8,8,3,5,4,4,1,\n", r"tiny\.csv:2: Filter Width: must equal Filter Height"),
    (HEADER + "a,2,2,3,3,4,4,1,\n", r"tiny\.csv:2: Filter Height: must not exceed the IFMAP"),
    (HEADER + "a,0,8,3,3,4,-4,1,\n",
     r"2 problems: IFMAP Height, Num Filter\n.*tiny\.csv:2: IFMAP Height: .*\n"
     r".*tiny\.csv:2: Num Filter: must be a positive integer \(got '-4'\)"),
    ("name,h,w\na,8,8,3,3,4,4,1,\n", r"tiny\.csv:1: header: must be Layer name, IFMAP Height"),
    (HEADER, r"tiny\.csv:1: rows: no layers after the header"),
    ("", r"tiny\.csv: empty file"),
])
def test_malformed_scalesim_topology(body: str, pattern: str, tmp_path: Path) -> None:
    path = tmp_path / "tiny.csv"
    path.write_text(body)
    with pytest.raises(ConfigError, match=pattern):
        load_scalesim_topology(path, 8, 8)


def test_scalesim_rejects_bad_bits_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"act_bits: must be an integer in 1\.\.32 \(got 0\)"):
        load_scalesim_topology(SCALESIM_RESNET18, 0, 8)
    with pytest.raises(ConfigError, match=r"missing\.csv: file not found; check the path"):
        load_scalesim_topology(tmp_path / "missing.csv", 8, 8)
