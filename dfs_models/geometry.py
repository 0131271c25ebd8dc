"""The hwsim layer table of a model, derived by walking its torch modules.

Names follow the hwsim layer table (`hwsim.workload.synth.resnet_cifar_network`): stem.conv;
groupG.blockI.gate.proj / .gate.lstm / .gate.head before each gated block (fixed 32/32, no
block); groupG.blockI.conv1 / .conv2 (following the block's decision when gated) and
.shortcut (1x1, fixed 32/32); fc. Channel counts, kernels, strides and paddings are read from
the modules; spatial sizes are propagated with the convolution arithmetic of each module.
"""

from __future__ import annotations

from torch import nn

from dfs_models.block import BasicBlock
from dfs_models.resnet import SKIPNET_OPTIONS, DfsResNet
from hwsim.workload.layer import FULL, Layer, LayerKind, Network, Precision


def options_as_precisions(options: tuple[int, ...]) -> tuple[Precision, ...]:
    """Bit options (0 = skip) as hwsim precisions; same bits for activations and weights."""
    return tuple(Precision(b, b) for b in options)


def _conv_layer(name: str, conv: nn.Conv2d, size: int, block: int | None,
                first: bool = False) -> Layer:
    return Layer(name, LayerKind.CONV, conv.in_channels, conv.out_channels, size, size,
                 kernel=conv.kernel_size[0], stride=conv.stride[0], padding=conv.padding[0],
                 block=block, fixed=FULL if block is None else None, first_layer=first)


def _gate_layers(prefix: str, block: BasicBlock, model: DfsResNet) -> list[Layer]:
    lstm, head = model.controller.lstm, model.controller.head
    proj = block.gate_proj
    return [
        Layer(f"{prefix}.gate.proj", LayerKind.GATE, proj.in_channels, proj.out_channels,
              fixed=FULL),
        Layer(f"{prefix}.gate.lstm", LayerKind.GATE, lstm.input_size + lstm.hidden_size,
              4 * lstm.hidden_size, fixed=FULL),
        Layer(f"{prefix}.gate.head", LayerKind.GATE, head.in_features, head.out_features,
              fixed=FULL),
    ]


def _block_layers(prefix: str, block: BasicBlock, size: int, index: int | None) -> list[Layer]:
    conv1 = _conv_layer(f"{prefix}.conv1", block.conv1, size, index)
    layers = [conv1, _conv_layer(f"{prefix}.conv2", block.conv2, conv1.output_height, index)]
    if block.shortcut is not None:
        short = _conv_layer(f"{prefix}.shortcut", block.shortcut[0], size, None)
        layers.append(Layer(**{**_layer_fields(short), "block": index}))
    return layers


def _layer_fields(layer: Layer) -> dict[str, object]:
    return {name: getattr(layer, name) for name in Layer.__slots__}


def network_from_model(model: DfsResNet, name: str | None = None) -> Network:
    """The layer table hwsim simulates, in execution order.

    A full-precision (ungated) model gives a static network: no gates, no blocks, no options,
    every layer fixed 32/32. Default names: dfs_resnetN, skipnet_resnetN (options {0, 32}),
    resnetN (ungated).
    """
    spec = model.spec
    stem = model.stem[0]
    layers = [_conv_layer("stem.conv", stem, spec.input_size, None, first=True)]
    size = layers[0].output_height
    blocks: list[str] = []
    for prefix, block in model.blocks():
        index = None
        if block.gated:
            index = len(blocks)
            blocks.append(prefix)
            layers += _gate_layers(prefix, block, model)
        block_layers = _block_layers(prefix, block, size, index)
        layers += block_layers
        size = block_layers[1].output_height
    layers.append(Layer("fc", LayerKind.FC, model.fc.in_features, model.fc.out_features,
                        fixed=FULL))
    depth = 6 * len(model.groups[0]) + 2
    kind = "skipnet_" if spec.options == SKIPNET_OPTIONS else "dfs_" if spec.gated else ""
    default = f"{kind}resnet{depth}"
    return Network(name or default, tuple(layers), tuple(blocks),
                   options_as_precisions(spec.options))
