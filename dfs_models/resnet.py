"""CIFAR-style 6n+2 ResNets with per-block DFS / SkipNet precision gates.

Backbone after He et al. (CVPR 2016) as used by DFS (Shen et al., AAAI 2020): stem 3x3 conv
(in -> 16) + BN + ReLU, three groups of BasicBlocks with 16/32/64 channels (stride 2 in block 0
of groups 2 and 3, whose shortcut is a 1x1 conv + BN), global average pool, FC. Each block
except group1.block0 is gated: it runs at one of the `options` bit widths (0 = skip). The stem,
group1.block0, the FC and the shortcut convs always run at full precision. SkipNet (Wang et
al., ECCV 2018) is the option set (0, 32) on the same code path.

`forward` is the training path (every option for every sample, mixed by the one-hot mask);
`infer` is the inference path (only each input's chosen option, inputs grouped by decision).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from dfs_models.block import BasicBlock, conv3x3, option_cost
from dfs_models.errors import DfsError
from dfs_models.gate import GATE_HIDDEN, GateController

DFS_OPTIONS = (0, 8, 16, 32)
SKIPNET_OPTIONS = (0, 32)
GROUP_CHANNELS = (16, 32, 64)


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """Everything needed to rebuild a model; stored in every checkpoint.

    Attributes:
        arch: a registered builder name, e.g. "resnet74".
        options: bit options of the gated blocks (0 = skip); empty for an ungated,
            full-precision network.
    """

    arch: str
    num_classes: int = 10
    in_channels: int = 3
    input_size: int = 32
    options: tuple[int, ...] = DFS_OPTIONS

    @property
    def gated(self) -> bool:
        return bool(self.options)


@dataclass(frozen=True, slots=True)
class GateStats:
    """Gate decisions and computation percentage of one forward pass.

    Attributes:
        masks: straight-through one-hot masks (batch, n_gated, n_options).
        probs: gate softmax probabilities, same shape.
        cost: per-sample, per-block cost (b/32)^2 of the chosen option (batch, n_gated),
            differentiable through the masks.
        cp_paper: mean of `cost` over blocks and samples (the paper's cp).
        cp_flop: MACs executed, weighted by (b/32)^2, over the full-precision network's MACs
            (always-full layers and gates at weight 1), mean over samples.
        cp_cost: the fraction of the full-precision network's cost under the model's cost
            model (`dfs_models.costs`; equals cp_paper for the paper's), mean over samples.
            `cost` holds the per-block terms of the same model.
    """

    masks: torch.Tensor
    probs: torch.Tensor
    cost: torch.Tensor
    cp_paper: torch.Tensor
    cp_flop: torch.Tensor
    cp_cost: torch.Tensor

    @property
    def decisions(self) -> torch.Tensor:
        """Chosen option index per sample and gated block (batch, n_gated)."""
        return self.masks.argmax(dim=2)


class DfsResNet(nn.Module):
    """A gated (or, with no options, plain full-precision) CIFAR ResNet.

    Args:
        spec: architecture, classes, input geometry and option set.
        blocks_per_group: n of the 6n+2 depth.
    """

    def __init__(self, spec: ModelSpec, blocks_per_group: int) -> None:
        super().__init__()
        self.spec = spec
        self.stem = nn.Sequential(conv3x3(spec.in_channels, GROUP_CHANNELS[0]),
                                  nn.BatchNorm2d(GROUP_CHANNELS[0]), nn.ReLU(inplace=True))
        size, in_planes = spec.input_size, GROUP_CHANNELS[0]
        self.groups = nn.ModuleList()
        for g, planes in enumerate(GROUP_CHANNELS):
            blocks = nn.ModuleList()
            for i in range(blocks_per_group):
                stride = 2 if g > 0 and i == 0 else 1
                options = spec.options if (g, i) != (0, 0) else ()
                blocks.append(BasicBlock(in_planes, planes, stride, size, options))
                size, in_planes = blocks[-1].output_size, planes
            self.groups.append(blocks)
        self.controller = GateController(len(spec.options)) if spec.gated else None
        self.fc = nn.Linear(in_planes, spec.num_classes)
        self._init_weights()
        self._register_costs()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def blocks(self) -> list[tuple[str, BasicBlock]]:
        """Every residual block in execution order with its name, e.g. "group2.block0"."""
        return [(f"group{g + 1}.block{i}", b)
                for g, group in enumerate(self.groups) for i, b in enumerate(group)]

    def gated_blocks(self) -> list[tuple[str, BasicBlock]]:
        return [(name, b) for name, b in self.blocks() if b.gated]

    def _register_costs(self) -> None:
        """Per-block MACs for the FLOP-weighted cp (buffers, so they follow `.to(device)`)."""
        stem_macs = self.spec.input_size ** 2 * GROUP_CHANNELS[0] * 9 * self.spec.in_channels
        fixed = stem_macs + self.fc.in_features * self.fc.out_features
        gated = []
        for _, b in self.blocks():
            fixed += b.shortcut_macs
            if b.gated:
                gated.append(b.conv_macs)
                fixed += b.gate_proj.in_channels * GATE_HIDDEN + self.controller.lstm_macs
                fixed += GATE_HIDDEN * len(self.spec.options)
            else:
                fixed += b.conv_macs
        self.fixed_macs = fixed
        self.total_macs = fixed + sum(gated)
        self.register_buffer("block_macs", torch.tensor(gated, dtype=torch.float64),
                             persistent=False)
        costs = [option_cost(b) for b in self.spec.options]
        self.register_buffer("option_costs", torch.tensor(costs), persistent=False)
        self.cost_model = "paper"
        self.fixed_cost = 0.0
        self.register_buffer("block_costs", torch.tensor(costs).expand(len(gated), -1).clone(),
                             persistent=False)

    def set_block_costs(self, matrix: torch.Tensor, fixed: float, name: str) -> None:
        """Use another cost model (`dfs_models.costs`): normalised (n_gated, n_options) costs
        and the fixed share, so that the full-precision network costs 1."""
        if tuple(matrix.shape) != tuple(self.block_costs.shape):
            raise DfsError(f"cost matrix {tuple(matrix.shape)} does not fit the model's "
                           f"{tuple(self.block_costs.shape)} (gated blocks x options)")
        self.block_costs = matrix.to(self.block_costs.device, self.block_costs.dtype)
        self.fixed_cost, self.cost_model = float(fixed), name

    def _features_in(self, x: torch.Tensor) -> torch.Tensor:
        return self.stem(x)

    def _head(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, GateStats]:
        """Training path; returns (logits, gate statistics)."""
        x, state = self._features_in(x), None
        masks, probs = [], []
        for _, block in self.blocks():
            if not block.gated:
                x = block(x)
                continue
            mask, prob, state = self.controller(x, block.gate_proj, state)
            x = block.mixed(x, mask)
            masks.append(mask)
            probs.append(prob)
        return self._head(x), self._stats(masks, probs, x.shape[0], x.device)

    @torch.no_grad()
    def infer(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Inference path: each input runs only its chosen option (use in eval mode).

        Returns:
            (logits, decisions): decisions are option indices (batch, n_gated).
        """
        x, state = self._features_in(x), None
        decisions = []
        for _, block in self.blocks():
            if not block.gated:
                x = block(x)
                continue
            mask, _, state = self.controller(x, block.gate_proj, state)
            choice = mask.argmax(dim=1)
            x = self._run_grouped(block, x, choice)
            decisions.append(choice)
        empty = torch.zeros(x.shape[0], 0, dtype=torch.long, device=x.device)
        return self._head(x), torch.stack(decisions, dim=1) if decisions else empty

    @staticmethod
    def _run_grouped(block: BasicBlock, x: torch.Tensor, choice: torch.Tensor) -> torch.Tensor:
        out = None
        for k, bits in enumerate(block.options):
            index = torch.nonzero(choice == k).flatten()
            if index.numel() == 0:
                continue
            part = block.run_option(x[index], bits)
            if out is None:
                out = part.new_empty((x.shape[0], *part.shape[1:]))
            out[index] = part
        return out

    def cp_of_decisions(self, decisions: torch.Tensor
                        ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-sample cp (paper, FLOP-weighted, cost model) of option indices (batch, n_gated)."""
        if decisions.shape[1] == 0:
            ones = torch.ones(decisions.shape[0], device=decisions.device)
            return ones, ones, ones
        cost = self.option_costs[decisions]
        executed = self.fixed_macs + (cost.double() * self.block_macs).sum(dim=1)
        blocks = torch.arange(decisions.shape[1], device=decisions.device)
        modelled = self.fixed_cost + self.block_costs[blocks, decisions].mean(dim=1)
        return cost.mean(dim=1), (executed / self.total_macs).float(), modelled

    def _stats(self, masks: list[torch.Tensor], probs: list[torch.Tensor], batch: int,
               device: torch.device) -> GateStats:
        if not masks:
            ones = torch.ones((), device=device)
            none = torch.zeros(batch, 0, 1, device=device)
            return GateStats(none, none, torch.zeros(batch, 0, device=device), ones, ones, ones)
        stacked = torch.stack(masks, dim=1)
        paper = (stacked * self.option_costs).sum(dim=2)
        executed = self.fixed_macs + (paper.double() * self.block_macs).sum(dim=1)
        cp_flop = (executed / self.total_macs).mean().float()
        cost = (stacked * self.block_costs).sum(dim=2)
        return GateStats(stacked, torch.stack(probs, dim=1), cost, paper.mean(), cp_flop,
                         self.fixed_cost + cost.mean())


def _resnet(depth: int, spec: ModelSpec) -> DfsResNet:
    """Build a 6n+2 CIFAR ResNet of the given depth."""
    if (depth - 2) % 6 != 0 or depth < 8:
        raise DfsError(f"CIFAR ResNet depth must be 6n+2 with n >= 1 (got {depth})")
    return DfsResNet(spec, (depth - 2) // 6)


def resnet8(spec: ModelSpec) -> DfsResNet:
    """ResNet8 (1 block per group): tiny, for tests."""
    return _resnet(8, spec)


def resnet14(spec: ModelSpec) -> DfsResNet:
    """ResNet14 (2 blocks per group): tiny, for tests."""
    return _resnet(14, spec)


def resnet38(spec: ModelSpec) -> DfsResNet:
    """ResNet38 (6 blocks per group), as in DFS Table 2 (Shen et al., AAAI 2020)."""
    return _resnet(38, spec)


def resnet74(spec: ModelSpec) -> DfsResNet:
    """ResNet74 (12 blocks per group), as in DFS Table 1 (Shen et al., AAAI 2020)."""
    return _resnet(74, spec)


MODEL_BUILDERS: dict[str, Callable[[ModelSpec], DfsResNet]] = {
    "resnet8": resnet8, "resnet14": resnet14, "resnet38": resnet38, "resnet74": resnet74,
}


def build_model(spec: ModelSpec) -> DfsResNet:
    """Build the registered architecture `spec.arch`."""
    if spec.arch not in MODEL_BUILDERS:
        raise DfsError(f"unknown model {spec.arch!r}; known: {', '.join(MODEL_BUILDERS)}")
    return MODEL_BUILDERS[spec.arch](spec)
