"""Helpers for dfs_models tests: fabricated data files and tiny configs (CPU, fast).

A plain module (not conftest) so that test files and spawned DDP workers can import it;
pytest puts this folder on sys.path (rootdir-less test folders, prepend import mode).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch

from dfs_models.config import Stage, TrainConfig
from dfs_models.data import DatasetKind

torch.set_num_threads(1)

FAKE_SIZE = 12  # pixels; fabricated Fashion-MNIST-format images are 1 x 12 x 12


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write `array` (uint8) as an idx .gz file (LeCun's format, as Fashion-MNIST ships)."""
    magic = {3: 2051, 1: 2049}[array.ndim]
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def fabricate_fashion_mnist(root: Path, train: int = 96, test: int = 40, seed: int = 0) -> Path:
    """Fashion-MNIST-format files whose class is visible in the image (learnable)."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for prefix, count in (("train", train), ("t10k", test)):
        labels = rng.integers(0, 10, size=count)
        images = rng.integers(0, 60, size=(count, FAKE_SIZE, FAKE_SIZE))
        images[np.arange(count), labels, :] = 250  # row `label` lights up
        write_idx(root / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(root / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return root


def tiny_config(run_dir: Path, data_dir: Path, **changes: object) -> TrainConfig:
    """A few-step config on the fabricated data."""
    base = {"name": "tiny", "stage": Stage.JOINT, "arch": "resnet8",
            "dataset": DatasetKind.FASHION_MNIST, "data_dir": str(data_dir),
            "run_dir": str(run_dir), "steps": 4, "batch_size": 16, "lr": 0.05,
            "alpha": 1e-3, "crop_padding": 2, "checkpoint_every": 2, "eval_subset": 16,
            "eval_batch_size": 20, "threads": 1}
    return TrainConfig(**{**base, **changes})
