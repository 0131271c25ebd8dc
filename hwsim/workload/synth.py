"""ResNet layer tables and synthetic DFS traces, for simulating without a trained model.

The backbone is the CIFAR-style 6n+2 ResNet of DFS (Shen et al., "Fractional Skipping: Towards
Finer-Grained Dynamic CNN Inference", AAAI 2020; He et al., CVPR 2016): a 3x3 stem (-> 16
channels), three groups of n BasicBlocks at 16/32/64 channels (stride 2 in block 0 of groups 2
and 3, with a 1x1 shortcut conv), then global average pooling and an FC layer. Every block but
group1.block0 is gated: a gate (1x1 conv C -> 10, an LSTM cell of hidden size 10, a linear
10 -> n_options) picks one option per input. Layer names match the `dfs_models` exporter.

Synthetic decisions: for block j and option k of cost c_k = act_bits * wgt_bits / 32^2 (the
paper's (b/32)^2), P(k | j) = softmax_k(beta * c_k + v_jk), with v_jk ~ N(0, 0.75^2) fixed per
block so that blocks differ, and beta solved with Brent's method so that the expected mean cost
equals the target cp. The first block of each group is never skipped, as the paper observes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from hwsim import __version__
from hwsim.errors import ConfigError
from hwsim.workload.layer import FULL, SKIP, Layer, LayerKind, Network, Precision
from hwsim.workload.trace import (
    MAX_BITS,
    CpInfo,
    InputRecord,
    ModelInfo,
    SourceKind,
    TraceHeader,
    write_trace,
)

DEFAULT_OPTIONS = (SKIP, Precision(8, 8), Precision(16, 16), FULL)  # the paper's option set
GROUP_CHANNELS = (16, 32, 64)
GATE_FEATURES = 10  # gate projection width and LSTM hidden size (Shen et al. 2020)
SYNTH_ALGORITHM = "synth-v1"  # bump when the draw below changes: traces are tied to it
PREDICTION_ACCURACY = 0.9  # synthetic predictions equal the label with this probability
_VARIATION_STD = 0.75  # spread of the per-block logit offsets v_jk
_BETA_LIMIT = 400.0  # |beta| bound for the root search; cost gaps >= 1/16 saturate far below


def resnet_cifar_network(depth: int, in_channels: int = 3, input_size: int = 32,
                         num_classes: int = 10, options: Sequence[Precision] = DEFAULT_OPTIONS,
                         gated: bool = True, name: str | None = None) -> Network:
    """The layer table of a CIFAR-style 6n+2 ResNet, in execution order.

    Args:
        depth: 6n+2 (ResNet38: n=6, 17 gated blocks; ResNet74: n=12, 35 gated blocks).
        in_channels, input_size: one input is in_channels x input_size x input_size.
        options: the gate's choices; ignored when `gated` is False.
        gated: False gives the plain network: no gates, every layer fixed at FULL.
        name: defaults to 'dfs_resnet{depth}' (gated) or 'resnet{depth}'.

    Raises:
        ConfigError: for a depth that is not 6n+2 or a non-positive size.
    """
    per_group = _blocks_per_group(depth)
    for key, value in (("in_channels", in_channels), ("input_size", input_size),
                       ("num_classes", num_classes)):
        if not (isinstance(value, int) and value > 0):
            raise ConfigError(f"{key}: must be a positive integer (got {value!r})")
    options = tuple(options) if gated else ()
    if gated and not any(not option.skipped for option in options):
        raise ConfigError(f"options: need at least one that is not skip (got {options})")
    layers = [Layer("stem.conv", LayerKind.CONV, in_channels, GROUP_CHANNELS[0], input_size,
                    input_size, kernel=3, padding=1, fixed=FULL, first_layer=True)]
    blocks: list[str] = []
    channels, size = GROUP_CHANNELS[0], input_size
    for group, out_channels in enumerate(GROUP_CHANNELS, start=1):
        for position in range(per_group):
            prefix = f"group{group}.block{position}"
            index = None
            if gated and prefix != "group1.block0":
                index = len(blocks)
                blocks.append(prefix)
                layers += _gate_layers(prefix, channels, len(options))
            stride = 2 if position == 0 and group > 1 else 1
            layers += _block_layers(prefix, channels, out_channels, size, stride, index)
            channels, size = out_channels, layers[-1].output_height
    layers.append(Layer("fc", LayerKind.FC, channels, num_classes, fixed=FULL))
    default_name = f"dfs_resnet{depth}" if gated else f"resnet{depth}"
    return Network(name or default_name, tuple(layers), tuple(blocks), options)


def _blocks_per_group(depth: int) -> int:
    if not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
        raise ConfigError(f"depth: must be 6n+2 with n >= 1, e.g. 38 or 74 (got {depth!r})")
    return (depth - 2) // 6


def _gate_layers(prefix: str, in_channels: int, num_options: int) -> list[Layer]:
    """The gate in front of a block: it reads the previous block's output and always runs.

    The LSTM cell is one matrix product of its four gates (4 x hidden outputs) over [x, h].
    """
    hidden = GATE_FEATURES
    return [
        Layer(f"{prefix}.gate.proj", LayerKind.GATE, in_channels, hidden, fixed=FULL),
        Layer(f"{prefix}.gate.lstm", LayerKind.GATE, 2 * hidden, 4 * hidden, fixed=FULL),
        Layer(f"{prefix}.gate.head", LayerKind.GATE, hidden, num_options, fixed=FULL),
    ]


def _block_layers(prefix: str, in_channels: int, out_channels: int, size: int, stride: int,
                  block: int | None) -> list[Layer]:
    """conv1, conv2 (following the block's decision when gated) and the 1x1 shortcut."""
    fixed = None if block is not None else FULL
    conv1 = Layer(f"{prefix}.conv1", LayerKind.CONV, in_channels, out_channels, size, size,
                  kernel=3, stride=stride, padding=1, block=block, fixed=fixed)
    out_size = conv1.output_height
    conv2 = Layer(f"{prefix}.conv2", LayerKind.CONV, out_channels, out_channels, out_size,
                  out_size, kernel=3, padding=1, block=block, fixed=fixed)
    if stride == 1 and in_channels == out_channels:
        return [conv1, conv2]
    shortcut = Layer(f"{prefix}.shortcut", LayerKind.CONV, in_channels, out_channels, size,
                     size, kernel=1, stride=stride, block=block, fixed=FULL)
    return [conv1, conv2, shortcut]


def option_costs(options: Sequence[Precision]) -> np.ndarray:
    """Relative compute cost of each option: act_bits * wgt_bits / 32^2, i.e. (b/32)^2."""
    return np.array([o.act_bits * o.wgt_bits for o in options], dtype=float) / MAX_BITS**2


def measure_cp(network: Network, act_bits: np.ndarray, wgt_bits: np.ndarray) -> CpInfo:
    """Measured cp of a decision array (inputs x blocks): block mean and MAC-weighted.

    The block mean is the paper's definition (every gated block weighs the same); the
    MAC-weighted figure weighs block j by the MACs of its layers that follow the decision
    (conv1 + conv2; the fixed shortcut, gates, stem and FC are not counted, as in the paper).
    Returns CpInfo() (all None) for a static network or no inputs.
    """
    if not network.blocks or act_bits.size == 0:
        return CpInfo()
    costs = act_bits.astype(float) * wgt_bits / MAX_BITS**2
    macs = np.zeros(len(network.blocks))
    for layer in network.layers:
        if layer.follows_block:
            macs[layer.block] += layer.macs
    weighted = float((costs @ macs).mean() / macs.sum()) if macs.sum() else None
    return CpInfo(measured=float(costs.mean()), measured_flop_weighted=weighted)


@dataclass(frozen=True, slots=True, eq=False)
class SyntheticDecisions:
    """Drawn decisions: row i is input i; columns follow `network.blocks`."""

    act_bits: np.ndarray  # (num_inputs, num_blocks) int16, 0 = skipped
    wgt_bits: np.ndarray
    labels: np.ndarray  # (num_inputs,) int64
    predictions: np.ndarray


def draw_decisions(network: Network, num_inputs: int, target_cp: float, seed: int,
                   num_classes: int = 10) -> SyntheticDecisions:
    """Draws every input's per-block option; deterministic for a seed (see module docstring).

    Raises:
        ConfigError: for bad sizes, or a target outside what the option set can reach.
    """
    _check_draw_args(network, num_inputs, target_cp, num_classes)
    rng = np.random.default_rng(seed)
    costs = option_costs(network.options)
    variation = rng.normal(0.0, _VARIATION_STD, size=(len(network.blocks), len(costs)))
    allowed = _allowed_options(network, costs)
    beta = _solve_beta(costs, variation, allowed, target_cp)
    cumulative = _probabilities(beta, costs, variation, allowed).cumsum(axis=1)
    uniform = rng.random((num_inputs, len(network.blocks)))
    choice = (uniform[:, :, None] >= cumulative[None, :, :]).sum(axis=2)
    choice = np.minimum(choice, len(costs) - 1)  # guards rounding in the last cumulative entry
    act = np.array([o.act_bits for o in network.options], dtype=np.int16)[choice]
    wgt = np.array([o.wgt_bits for o in network.options], dtype=np.int16)[choice]
    labels = rng.integers(0, num_classes, size=num_inputs)
    wrong = (labels + rng.integers(1, num_classes, size=num_inputs)) % num_classes
    correct = rng.random(num_inputs) < PREDICTION_ACCURACY
    return SyntheticDecisions(act, wgt, labels, np.where(correct, labels, wrong))


def _check_draw_args(network: Network, num_inputs: int, target_cp: float,
                     num_classes: int) -> None:
    if not network.blocks:
        raise ConfigError(f"network {network.name} has no gated blocks: nothing to draw")
    if not (isinstance(num_inputs, int) and num_inputs >= 1):
        raise ConfigError(f"num_inputs: must be a positive integer (got {num_inputs!r})")
    if not (isinstance(num_classes, int) and num_classes >= 2):
        raise ConfigError(f"num_classes: must be an integer >= 2 (got {num_classes!r})")
    if not (isinstance(target_cp, int | float) and 0.0 < target_cp < 1.0):
        raise ConfigError(f"target_cp: must be a fraction strictly between 0 and 1 "
                          f"(got {target_cp!r})")


def _allowed_options(network: Network, costs: np.ndarray) -> np.ndarray:
    """(blocks, options) mask: the first block of each group ('...block0') is never skipped."""
    allowed = np.ones((len(network.blocks), len(costs)), dtype=bool)
    for j, name in enumerate(network.blocks):
        if name.rsplit(".", 1)[-1] == "block0":
            allowed[j, costs == 0.0] = False
    return allowed


def _probabilities(beta: float, costs: np.ndarray, variation: np.ndarray,
                   allowed: np.ndarray) -> np.ndarray:
    logits = np.where(allowed, beta * costs[None, :] + variation, -np.inf)
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))
    return weights / weights.sum(axis=1, keepdims=True)


def _solve_beta(costs: np.ndarray, variation: np.ndarray, allowed: np.ndarray,
                target_cp: float) -> float:
    """The beta whose expected block-mean cost is `target_cp` (the mean rises with beta)."""
    def excess(beta: float) -> float:
        return float((_probabilities(beta, costs, variation, allowed) @ costs).mean()) - target_cp

    low, high = excess(-_BETA_LIMIT) + target_cp, excess(_BETA_LIMIT) + target_cp
    if not low < target_cp < high:
        raise ConfigError(f"target_cp {target_cp} is outside what these options reach "
                          f"({low:.4f} .. {high:.4f}); pick a target inside that range")
    return float(brentq(excess, -_BETA_LIMIT, _BETA_LIMIT, xtol=1e-9))


def synthesize_records(network: Network, num_inputs: int, target_cp: float, seed: int,
                       num_classes: int = 10) -> Iterator[InputRecord]:
    """The records of `draw_decisions(...)`, ids 0..num_inputs-1."""
    drawn = draw_decisions(network, num_inputs, target_cp, seed, num_classes)
    yield from _records(drawn)


def _records(drawn: SyntheticDecisions) -> Iterator[InputRecord]:
    rows = zip(drawn.labels.tolist(), drawn.predictions.tolist(), drawn.act_bits.tolist(),
               drawn.wgt_bits.tolist(), strict=True)
    for index, (label, prediction, act, wgt) in enumerate(rows):
        yield InputRecord(index, label, prediction, tuple(act), tuple(wgt))


def synthetic_header(network: Network, num_inputs: int, target_cp: float, seed: int,
                     input_shape: tuple[int, ...], measured_cp: float | None = None, *,
                     measured_flop_weighted: float | None = None, accuracy: float | None = None,
                     num_classes: int = 10) -> TraceHeader:
    """The header of a synthetic trace; `generator` records every parameter of the draw."""
    shape = "x".join(str(v) for v in input_shape)
    generator = (f"hwsim {__version__} {SYNTH_ALGORITHM}: network={network.name} "
                 f"input_shape={shape} num_inputs={num_inputs} target_cp={target_cp!r} "
                 f"seed={seed} num_classes={num_classes}")
    model = ModelInfo(network.name, "synthetic", tuple(input_shape), SourceKind.SYNTHETIC,
                      generator=generator)
    cp = CpInfo(target=float(target_cp), measured=measured_cp,
                measured_flop_weighted=measured_flop_weighted, accuracy=accuracy)
    return TraceHeader(model, network, cp, num_inputs)


def write_synthetic_trace(path: str | os.PathLike[str], depth: int, num_inputs: int,
                          target_cp: float, seed: int, input_size: int = 32,
                          in_channels: int = 3, num_classes: int = 10) -> TraceHeader:
    """Draws a synthetic DFS trace for ResNet{depth} and writes it (gzip if path ends in .gz).

    Returns:
        The header written, carrying the measured cp; its accuracy is null (the labels and
        predictions of a synthetic trace are drawn, so no model's accuracy is known).
    """
    network = resnet_cifar_network(depth, in_channels, input_size, num_classes)
    drawn = draw_decisions(network, num_inputs, target_cp, seed, num_classes)
    measured = measure_cp(network, drawn.act_bits, drawn.wgt_bits)
    header = synthetic_header(network, num_inputs, target_cp, seed,
                              (in_channels, input_size, input_size), measured.measured,
                              measured_flop_weighted=measured.measured_flop_weighted,
                              accuracy=None, num_classes=num_classes)
    write_trace(path, header, _records(drawn))
    return header
