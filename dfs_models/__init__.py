"""Dynamic Fractional Skipping (DFS) and SkipNet ResNets in PyTorch.

Shen et al., "Fractional Skipping: Towards Finer-Grained Dynamic CNN Inference", AAAI 2020;
Wang et al., "SkipNet: Learning Dynamic Routing in Convolutional Networks", ECCV 2018.
Models, two-step training on real data, checkpoints and export of per-input decision traces in
the format of `hwsim.workload.trace`.
"""

from __future__ import annotations

from dfs_models.errors import CheckpointError, DataError, DfsError, TrainConfigError

__all__ = ["CheckpointError", "DataError", "DfsError", "TrainConfigError"]
