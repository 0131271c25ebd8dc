"""Residual block with bit-selectable convolutions for DFS / SkipNet.

BasicBlock (He et al., CVPR 2016): conv3x3-BN-ReLU-conv3x3-BN plus shortcut, then ReLU. A gated
block can run its two 3x3 convs at any of its bit options (same bits for activations and
weights, DFS: Shen et al., AAAI 2020). BN stays full precision; its scale and shift are shared by
all options (as in the paper) but each option keeps its own running statistics
(`OptionBatchNorm2d`): training normalises each branch over the whole batch, so at eval the
chosen branch must be normalised with statistics gathered on that branch, not with an average
over branches that inference never runs (measured on Fashion-MNIST: DFS cp 0.20 77.44% with
shared statistics, 78.26% with per-option ones). Option 0 = skip: the block's output is its
shortcut (identity, or the full-precision 1x1 conv + BN of a downsampling block).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dfs_models.gate import gate_projection
from dfs_models.quant import FULL_BITS, ActQuantizer, quantize_weight


def option_cost(bits: int) -> float:
    """The paper's cost of one option: (b/32)^2, 0 for skip."""
    return (bits / FULL_BITS) ** 2


class OptionBatchNorm2d(nn.Module):
    """BatchNorm2d with shared affine parameters and running statistics per option slot.

    State-dict keys are those of `nn.BatchNorm2d` (`weight`, `bias`, `running_mean`,
    `running_var`, `num_batches_tracked`), with the statistics stacked (slots, C); a
    full-precision checkpoint's (C,) statistics broadcast to every slot on `load_backbone`.
    """

    def __init__(self, num_features: int, slots: int, eps: float = 1e-5,
                 momentum: float = 0.1) -> None:
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(slots, num_features))
        self.register_buffer("running_var", torch.ones(slots, num_features))
        self.register_buffer("num_batches_tracked", torch.zeros(slots, dtype=torch.long))

    def forward(self, x: torch.Tensor, slot: int) -> torch.Tensor:
        if self.training:
            self.num_batches_tracked[slot] += 1
        # Row views: batch_norm updates this slot's statistics in place while training.
        return F.batch_norm(x, self.running_mean[slot], self.running_var[slot], self.weight,
                            self.bias, self.training, self.momentum, self.eps)


def batch_norm(num_features: int, slots: int) -> nn.Module:
    """Plain BatchNorm2d for one option; per-option statistics for several."""
    return nn.BatchNorm2d(num_features) if slots == 1 else OptionBatchNorm2d(num_features, slots)


def apply_bn(bn: nn.Module, x: torch.Tensor, slot: int) -> torch.Tensor:
    return bn(x, slot) if isinstance(bn, OptionBatchNorm2d) else bn(x)


class QuantConv2d(nn.Conv2d):
    """Conv2d whose input and weight can be quantized to one of `bit_options`."""

    def __init__(self, *args, bit_options: tuple[int, ...] = (FULL_BITS,), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.bit_options = bit_options
        quantized = sum(1 for b in bit_options if b < FULL_BITS)
        self.act_quant = ActQuantizer(len(bit_options)) if quantized else None

    def forward_bits(self, x: torch.Tensor, bits: int) -> torch.Tensor:
        if bits >= FULL_BITS:
            return self._conv_forward(x, self.weight, self.bias)
        x = self.act_quant(x, bits, self.bit_options.index(bits))
        return self._conv_forward(x, quantize_weight(self.weight, bits), self.bias)


def conv3x3(in_planes: int, out_planes: int, stride: int = 1,
            bit_options: tuple[int, ...] = (FULL_BITS,)) -> QuantConv2d:
    """3x3 convolution with padding 1 and no bias."""
    return QuantConv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1,
                       bias=False, bit_options=bit_options)


class BasicBlock(nn.Module):
    """conv3x3-BN-ReLU-conv3x3-BN plus shortcut, then ReLU; BN statistics per bit width."""

    def __init__(self, in_planes: int, planes: int, stride: int, input_size: int,
                 options: tuple[int, ...] = ()) -> None:
        super().__init__()
        bit_options = tuple(b for b in options if b > 0) or (FULL_BITS,)
        self.options = options
        self.bit_options = bit_options
        self.conv1 = conv3x3(in_planes, planes, stride, bit_options)
        self.bn1 = batch_norm(planes, len(bit_options))
        self.conv2 = conv3x3(planes, planes, 1, bit_options)
        self.bn2 = batch_norm(planes, len(bit_options))
        self.shortcut: nn.Sequential | None = None
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes))
        self.gate_proj = gate_projection(in_planes) if options else None
        self.output_size = (input_size - 1) // stride + 1
        self.conv_macs = (self.output_size ** 2 * planes * 9 * (in_planes + planes))
        self.shortcut_macs = self.output_size ** 2 * planes * in_planes if self.shortcut else 0

    @property
    def gated(self) -> bool:
        return bool(self.options)

    def shortcut_out(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.shortcut is None else self.shortcut(x)

    def residual(self, x: torch.Tensor, bits: int) -> torch.Tensor:
        slot = self.bit_options.index(bits)
        out = F.relu(apply_bn(self.bn1, self.conv1.forward_bits(x, bits), slot))
        return apply_bn(self.bn2, self.conv2.forward_bits(out, bits), slot)

    def run_option(self, x: torch.Tensor, bits: int) -> torch.Tensor:
        """Output of the block executed at `bits` (0 = skip: the shortcut path)."""
        short = self.shortcut_out(x)
        return short if bits == 0 else F.relu(self.residual(x, bits) + short)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.run_option(x, FULL_BITS)

    def mixed(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Training path: every option for every sample, mixed by `mask` (batch, options)."""
        short = self.shortcut_out(x)
        out = torch.zeros_like(short)
        for k, bits in enumerate(self.options):
            branch = short if bits == 0 else F.relu(self.residual(x, bits) + short)
            out = out + mask[:, k, None, None, None] * branch
        return out
