"""The recurrent gate of DFS / SkipNet: one decision per residual block.

Per block: global average pool -> 1x1 conv (C -> 10, with bias, owned by the block) -> one
LSTMCell(10, 10) shared by all blocks (state zeroed per forward and carried block to block) ->
Linear(10, n_options) shared -> softmax -> hard argmax one-hot with the straight-through
estimator `hard - p.detach() + p`, identical at train and eval (no sampling). Source: the DFS
paper (Shen et al., AAAI 2020) and SkipNet's recurrent gate (Wang et al., ECCV 2018).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

GATE_HIDDEN = 10

LstmState = tuple[torch.Tensor, torch.Tensor]


def gate_projection(in_channels: int) -> nn.Conv2d:
    """The per-block 1x1 conv feeding the shared LSTM."""
    return nn.Conv2d(in_channels, GATE_HIDDEN, kernel_size=1, bias=True)


class GateController(nn.Module):
    """The LSTM cell and decision head shared by every gated block."""

    def __init__(self, n_options: int) -> None:
        super().__init__()
        self.lstm = nn.LSTMCell(GATE_HIDDEN, GATE_HIDDEN)
        self.head = nn.Linear(GATE_HIDDEN, n_options)

    def forward(self, x: torch.Tensor, proj: nn.Conv2d, state: LstmState | None
                ) -> tuple[torch.Tensor, torch.Tensor, LstmState]:
        """Decide for the block whose input is `x`.

        Returns:
            (mask, probs, state): the straight-through one-hot mask (batch, n_options), the
            softmax probabilities, and the LSTM state to carry to the next block.
        """
        feature = proj(F.adaptive_avg_pool2d(x, 1)).flatten(1)
        h, c = self.lstm(feature, state)
        probs = F.softmax(self.head(h), dim=1)
        hard = F.one_hot(probs.argmax(dim=1), probs.shape[1]).to(probs.dtype)
        return hard - probs.detach() + probs, probs, (h, c)

    @property
    def lstm_macs(self) -> int:
        """MACs of one LSTM cell step: a (input + hidden) -> 4 * hidden matrix product."""
        return (self.lstm.input_size + self.lstm.hidden_size) * 4 * self.lstm.hidden_size
