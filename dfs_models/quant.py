"""Uniform asymmetric min/max quantizers with a straight-through gradient.

Follows the DFS paper's quantization (Shen et al., AAAI 2020, section "Quantization"): levels
0..2^b-1 between a minimum and a maximum, clamp, round, dequantize; the backward pass is the
identity. Weights use one min/max per tensor; activations use the batch mean of per-sample
min/max while training and a running estimate (momentum) at eval, so evaluation is
deterministic (unlike the authors' code, which adds noise at eval). Evaluating a slot that never
saw a training batch is an error (it would otherwise fall back to batch statistics silently).
No `bool(tensor)` on the hot path: which slots are ready is mirrored in Python, so a GPU never
syncs per call.
"""

from __future__ import annotations

import torch
from torch import nn

from dfs_models.errors import DfsError

FULL_BITS = 32
_MIN_SCALE = 1e-8


def quantize_range(x: torch.Tensor, low: torch.Tensor, high: torch.Tensor,
                   bits: int) -> torch.Tensor:
    """Quantize `x` to `bits` uniform levels on [low, high]; identity gradient.

    32 bits (or more) returns `x` unchanged.
    """
    if bits >= FULL_BITS:
        return x
    levels = 2 ** bits - 1
    scale = ((high - low) / levels).clamp_min(_MIN_SCALE)
    if not (torch.is_grad_enabled() and x.requires_grad):  # inference: no straight-through
        return (x - low).div_(scale).round_().clamp_(0, levels).mul_(scale).add_(low)
    code = torch.clamp(torch.round((x.detach() - low) / scale), 0, levels)
    return (code * scale + low).detach() + (x - x.detach())  # exact value, identity gradient


def quantize_weight(weight: torch.Tensor, bits: int) -> torch.Tensor:
    """Per-tensor min/max weight quantization (straight-through)."""
    if bits >= FULL_BITS:
        return weight
    w = weight.detach()
    return quantize_range(weight, w.min(), w.max(), bits)


class ActQuantizer(nn.Module):
    """Activation quantizer keeping one running min/max per option slot.

    A block executes the same conv at several bit widths; each width sees a different input
    distribution (for the second conv), so each slot has its own running range.

    Args:
        slots: number of independent ranges (one per bit option of the block).
        momentum: running-estimate update weight, as in BatchNorm.
    """

    def __init__(self, slots: int, momentum: float = 0.1) -> None:
        super().__init__()
        self.momentum = momentum
        self.register_buffer("running_min", torch.zeros(slots))
        self.register_buffer("running_max", torch.zeros(slots))
        self.register_buffer("initialized", torch.zeros(slots, dtype=torch.bool))
        self._ready = [False] * slots  # Python mirror of `initialized`

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        self._ready = [bool(v) for v in self.initialized.cpu()]  # one sync, at load time

    def forward(self, x: torch.Tensor, bits: int, slot: int) -> torch.Tensor:
        if bits >= FULL_BITS:
            return x
        low, high = self._range(x, slot)
        return quantize_range(x, low, high, bits)

    def _range(self, x: torch.Tensor, slot: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.training:
            if not self._ready[slot]:
                raise DfsError(f"activation range of quantizer slot {slot} was never trained: "
                               "run a training stage (gate_init or joint) before evaluating")
            return self.running_min[slot], self.running_max[slot]
        flat = x.detach().flatten(1)
        low, high = flat.min(dim=1).values.mean(), flat.max(dim=1).values.mean()
        if self.training:
            self._update(low, high, slot)
        return low, high

    @torch.no_grad()
    def _update(self, low: torch.Tensor, high: torch.Tensor, slot: int) -> None:
        if self._ready[slot]:
            m = self.momentum
            self.running_min[slot] = (1 - m) * self.running_min[slot] + m * low
            self.running_max[slot] = (1 - m) * self.running_max[slot] + m * high
        else:
            self.running_min[slot] = low
            self.running_max[slot] = high
            self.initialized[slot] = True
            self._ready[slot] = True
