"""ResNet layer tables (MAC figures of dfs.md) and synthetic DFS traces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hwsim.errors import ConfigError
from hwsim.workload.layer import FULL, SKIP, LayerKind, Precision
from hwsim.workload.synth import (
    DEFAULT_OPTIONS,
    draw_decisions,
    measure_cp,
    option_costs,
    resnet_cifar_network,
    synthesize_records,
    synthetic_header,
    write_synthetic_trace,
)
from hwsim.workload.trace import SourceKind, iter_records, load_trace, read_header

SHIPPED = Path(__file__).resolve().parents[2] / "traces" / "resnet74_synthetic_cp20.jsonl.gz"


def _macs(network: object, prefix: str) -> int:
    return sum(layer.macs for layer in network.layers
               if layer.name.startswith(prefix) and layer.kind is not LayerKind.GATE)


def test_mac_figures_of_dfs_paper() -> None:
    """dfs.md: ResNet74 168.2M, ResNet38 83.3M MACs at 3x32x32; per-block figures exact."""
    plain74, plain38 = resnet_cifar_network(74, gated=False), resnet_cifar_network(38, gated=False)
    assert sum(layer.macs for layer in plain74.layers) == 168_215_168
    assert sum(layer.macs for layer in plain38.layers) == 83_280_512
    gated = resnet_cifar_network(74)
    assert _macs(gated, "stem.conv") == 442_368
    assert _macs(gated, "fc") == 640
    for normal in ("group1.block0.", "group1.block1.", "group2.block5.", "group3.block11."):
        assert _macs(gated, normal) == 4_718_592
    # the downsampling figure includes its 1x1 shortcut (131,072 MACs in group 2)
    assert _macs(gated, "group2.block0.") == 3_670_016
    assert _macs(gated, "group3.block0.") == 3_670_016
    assert _macs(gated, "group2.block0.shortcut") == 131_072


def test_block_counts_and_names() -> None:
    for depth, count in ((74, 35), (38, 17), (8, 2)):
        network = resnet_cifar_network(depth)
        assert len(network.blocks) == count
        assert network.name == f"dfs_resnet{depth}" and network.options == DEFAULT_OPTIONS
    network = resnet_cifar_network(38)
    assert network.blocks[:2] == ("group1.block1", "group1.block2")
    assert network.blocks[5] == "group2.block0" and network.blocks[-1] == "group3.block5"
    names = [layer.name for layer in network.layers]
    assert names[:9] == ["stem.conv", "group1.block0.conv1", "group1.block0.conv2",
                         "group1.block1.gate.proj", "group1.block1.gate.lstm",
                         "group1.block1.gate.head", "group1.block1.conv1",
                         "group1.block1.conv2", "group1.block2.gate.proj"]
    assert names[-1] == "fc" and len(names) == 1 + 2 + 17 * 5 + 2 + 1


def test_layer_precision_and_blocks() -> None:
    network = resnet_cifar_network(38, options=(SKIP, Precision(4, 4), FULL))
    layers = {layer.name: layer for layer in network.layers}
    stem = layers["stem.conv"]
    assert stem.first_layer and stem.fixed == FULL and (stem.kernel, stem.padding) == (3, 1)
    ungated = layers["group1.block0.conv1"]
    assert ungated.fixed == FULL and ungated.block is None
    down = network.blocks.index("group2.block0")
    assert layers["group2.block0.conv1"].block == down
    assert layers["group2.block0.conv1"].fixed is None
    assert layers["group2.block0.conv1"].stride == 2 and layers["group2.block0.conv2"].stride == 1
    shortcut = layers["group2.block0.shortcut"]
    assert (shortcut.kernel, shortcut.stride, shortcut.padding) == (1, 2, 0)
    assert shortcut.fixed == FULL and shortcut.block == down
    gate = [layers[f"group3.block0.gate.{part}"] for part in ("proj", "lstm", "head")]
    assert [(g.in_channels, g.out_channels) for g in gate] == [(32, 10), (20, 40), (10, 3)]
    assert all(g.kind is LayerKind.GATE and g.fixed == FULL and g.block is None for g in gate)
    assert "group1.block1.shortcut" not in layers and "group3.block1.shortcut" not in layers
    assert layers["fc"].in_channels == 64 and layers["fc"].kind is LayerKind.FC


def test_plain_network_and_input_sizes() -> None:
    plain = resnet_cifar_network(38, gated=False)
    assert plain.blocks == () and plain.options == () and plain.name == "resnet38"
    assert all(layer.fixed == FULL and layer.block is None for layer in plain.layers)
    assert not any(layer.kind is LayerKind.GATE for layer in plain.layers)
    mnist = resnet_cifar_network(38, in_channels=1, input_size=28)
    sizes = {layer.name: layer.output_height for layer in mnist.layers}
    assert (sizes["group1.block5.conv2"], sizes["group2.block0.conv1"],
            sizes["group3.block0.shortcut"]) == (28, 14, 7)
    assert mnist.layers[0].in_channels == 1


@pytest.mark.parametrize("depth", [7, 9, 2, 76])
def test_bad_depth(depth: int) -> None:
    with pytest.raises(ConfigError, match="depth: must be 6n\\+2"):
        resnet_cifar_network(depth)


def test_option_costs_follow_the_paper() -> None:
    assert option_costs(DEFAULT_OPTIONS).tolist() == [0.0, 1 / 16, 1 / 4, 1.0]


def test_draw_is_deterministic() -> None:
    network = resnet_cifar_network(38)
    first, again = (draw_decisions(network, 50, 0.3, seed=7) for _ in range(2))
    other = draw_decisions(network, 50, 0.3, seed=8)
    for key in ("act_bits", "wgt_bits", "labels", "predictions"):
        assert np.array_equal(getattr(first, key), getattr(again, key))
    assert not np.array_equal(first.act_bits, other.act_bits)
    records = list(synthesize_records(network, 50, 0.3, seed=7))
    assert [r.id for r in records] == list(range(50))
    assert np.array_equal(np.array([r.act_bits for r in records]), first.act_bits)
    assert [r.label for r in records] == first.labels.tolist()


@pytest.mark.parametrize("target", [0.2, 0.4, 0.6])
def test_measured_cp_is_close_to_target(target: float) -> None:
    network = resnet_cifar_network(74)
    drawn = draw_decisions(network, 400, target, seed=0)
    cp = measure_cp(network, drawn.act_bits, drawn.wgt_bits)
    assert abs(cp.measured - target) < 0.02
    assert abs(cp.measured_flop_weighted - target) < 0.05
    assert np.array_equal(drawn.act_bits, drawn.wgt_bits)
    assert set(np.unique(drawn.act_bits).tolist()) <= {0, 8, 16, 32}


def test_group_first_blocks_are_never_skipped_and_blocks_differ() -> None:
    network = resnet_cifar_network(74)
    drawn = draw_decisions(network, 500, 0.1, seed=3)
    for name in ("group2.block0", "group3.block0"):
        assert (drawn.act_bits[:, network.blocks.index(name)] > 0).all()
    skip_rate = (drawn.act_bits == 0).mean(axis=0)
    assert skip_rate.max() - skip_rate[skip_rate > 0].min() > 0.2
    assert 0.85 < (drawn.labels == drawn.predictions).mean() < 0.95
    assert ((drawn.labels >= 0) & (drawn.labels < 10)).all()


def test_unreachable_target() -> None:
    network = resnet_cifar_network(8)  # 2 gated blocks, both group-first: never skipped
    with pytest.raises(ConfigError, match="target_cp 0.05 is outside what these options reach"):
        draw_decisions(network, 10, 0.05, seed=0)
    with pytest.raises(ConfigError, match="target_cp: must be a fraction"):
        draw_decisions(network, 10, 1.0, seed=0)


def test_measure_cp_weights_blocks_by_macs() -> None:
    network = resnet_cifar_network(8)  # blocks group2.block0, group3.block0: equal conv MACs
    act = np.array([[32, 8], [8, 8]], dtype=np.int16)
    cp = measure_cp(network, act, act)
    assert cp.measured == pytest.approx((1 + 1 / 16 + 1 / 16 + 1 / 16) / 4)
    assert cp.measured_flop_weighted == pytest.approx(cp.measured)


def test_synthetic_header_describes_the_draw() -> None:
    network = resnet_cifar_network(38)
    header = synthetic_header(network, 20, 0.25, 4, (3, 32, 32), 0.26)
    assert header.model.source is SourceKind.SYNTHETIC and header.model.dataset == "synthetic"
    assert "target_cp=0.25" in header.model.generator and "seed=4" in header.model.generator
    assert "network=dfs_resnet38" in header.model.generator
    assert (header.cp.target, header.cp.measured, header.num_inputs) == (0.25, 0.26, 20)


def test_write_synthetic_trace(tmp_path: Path) -> None:
    path = tmp_path / "r38.jsonl.gz"
    header = write_synthetic_trace(path, 38, 60, 0.3, seed=1, input_size=28, in_channels=1)
    assert read_header(path) == header
    trace = load_trace(path)
    assert trace.header.model.input_shape == (1, 28, 28) and trace.num_inputs == 60
    cp = measure_cp(header.network, trace.act_bits, trace.wgt_bits)
    assert header.cp.measured == pytest.approx(cp.measured)
    assert header.cp.measured_flop_weighted == pytest.approx(cp.measured_flop_weighted)
    assert header.cp.accuracy is None  # drawn predictions: no model accuracy to report
    assert list(iter_records(path)) == list(synthesize_records(header.network, 60, 0.3, 1))


def test_shipped_trace_matches_its_generator() -> None:
    header = read_header(SHIPPED)
    assert header.model.name == "dfs_resnet74" and header.model.input_shape == (3, 32, 32)
    assert len(header.network.blocks) == 35 and header.num_inputs == 10_000
    assert header.cp.target == 0.2 and abs(header.cp.measured - 0.2) < 0.02
    trace = load_trace(SHIPPED)
    drawn = draw_decisions(header.network, 10_000, 0.2, seed=0)
    assert np.array_equal(trace.act_bits, drawn.act_bits)
    assert np.array_equal(trace.predictions, drawn.predictions)
    assert SHIPPED.stat().st_size < 1_000_000
