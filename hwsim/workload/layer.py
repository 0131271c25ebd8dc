"""Workload values: layers, precisions and the network a trace describes.

A `Layer` is pure geometry plus how its precision is chosen: fixed (stem, FC, gates, the
downsampling shortcut) or following its residual block's per-input decision.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class LayerKind(enum.Enum):
    CONV = "conv"
    FC = "fc"
    GATE = "gate"  # a gate's small fully connected piece; simulated like an FC layer


@dataclass(frozen=True, slots=True, order=True)
class Precision:
    """Operand widths of one layer execution; 0/0 means the layer is skipped."""

    act_bits: int
    wgt_bits: int

    @property
    def skipped(self) -> bool:
        return self.act_bits == 0

    def __str__(self) -> str:
        return "skip" if self.skipped else f"{self.act_bits}/{self.wgt_bits}"


SKIP = Precision(0, 0)
FULL = Precision(32, 32)


@dataclass(frozen=True, slots=True)
class Layer:
    """One conv or fully connected layer in execution order.

    FC and gate layers are convolutions with kernel 1 on a 1x1 input: `in_channels` and
    `out_channels` are their input and output features.

    Attributes:
        block: index of the gated residual block this layer belongs to, or None.
        fixed: the precision it always runs at, or None when it follows its block's decision.
        first_layer: the network's input layer (may be lowered with im2col).
    """

    name: str
    kind: LayerKind
    in_channels: int
    out_channels: int
    input_height: int = 1
    input_width: int = 1
    kernel: int = 1
    stride: int = 1
    padding: int = 0
    block: int | None = None
    fixed: Precision | None = None
    first_layer: bool = False

    @property
    def output_height(self) -> int:
        return (self.input_height + 2 * self.padding - self.kernel) // self.stride + 1

    @property
    def output_width(self) -> int:
        return (self.input_width + 2 * self.padding - self.kernel) // self.stride + 1

    @property
    def macs(self) -> int:
        """Multiply-accumulates for one input (batch 1)."""
        return (self.output_height * self.output_width * self.out_channels
                * self.kernel * self.kernel * self.in_channels)

    @property
    def weight_count(self) -> int:
        return self.out_channels * self.in_channels * self.kernel * self.kernel

    @property
    def follows_block(self) -> bool:
        return self.fixed is None


@dataclass(frozen=True, slots=True)
class Network:
    """Layers in execution order, the gated blocks they reference, and the option set."""

    name: str
    layers: tuple[Layer, ...]
    blocks: tuple[str, ...] = ()
    options: tuple[Precision, ...] = ()
