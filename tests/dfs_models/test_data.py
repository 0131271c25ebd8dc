from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from dfs_fixtures import write_idx

from dfs_models.data import (
    DatasetKind,
    Split,
    augment,
    load_cifar,
    load_dataset,
    load_fashion_mnist,
    normalize,
)
from dfs_models.errors import DataError


def test_fashion_mnist_idx_files_are_parsed(fmnist_dir: Path) -> None:
    train = load_fashion_mnist(Split.TRAIN, fmnist_dir)
    test = load_fashion_mnist(Split.TEST, fmnist_dir)
    assert train.images.shape == (96, 1, 12, 12) and train.images.dtype == torch.uint8
    assert test.labels.shape == (40,) and test.labels.dtype == torch.int64
    label = int(train.labels[0])
    assert bool((train.images[0, 0, label] == 250).all())
    assert train.num_classes == 10 and train.in_channels == 1 and train.input_size == 12


def test_missing_fashion_mnist_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="apt-get install -y dataset-fashion-mnist"):
        load_dataset(DatasetKind.FASHION_MNIST, Split.TRAIN, tmp_path)


def test_corrupt_idx_file_is_a_data_error(fmnist_dir: Path) -> None:
    (fmnist_dir / "t10k-images-idx3-ubyte.gz").write_bytes(b"not gzip")
    with pytest.raises(DataError, match="t10k-images"):
        load_fashion_mnist(Split.TEST, fmnist_dir)
    write_idx(fmnist_dir / "t10k-images-idx3-ubyte.gz", np.zeros((5, 12, 12)))
    with pytest.raises(DataError, match="5 images but 40 labels"):
        load_fashion_mnist(Split.TEST, fmnist_dir)


def _write_cifar_batch(path: Path, count: int, label_key: bytes, seed: int) -> None:
    rng = np.random.default_rng(seed)
    batch = {b"data": rng.integers(0, 256, size=(count, 3072), dtype=np.uint8),
             label_key: rng.integers(0, 10, size=count).tolist(), b"batch_label": b"fake"}
    path.write_bytes(pickle.dumps(batch))


def test_cifar10_pickle_batches(tmp_path: Path) -> None:
    for i in range(1, 6):
        _write_cifar_batch(tmp_path / f"data_batch_{i}", 4, b"labels", i)
    _write_cifar_batch(tmp_path / "test_batch", 3, b"labels", 9)
    train = load_dataset(DatasetKind.CIFAR10, Split.TRAIN, tmp_path)
    test = load_cifar(DatasetKind.CIFAR10, Split.TEST, tmp_path)
    assert train.images.shape == (20, 3, 32, 32) and len(test) == 3
    raw = pickle.loads((tmp_path / "data_batch_2").read_bytes())
    assert torch.equal(train.images[4].flatten(), torch.from_numpy(raw[b"data"][0]))
    assert train.labels[4:8].tolist() == raw[b"labels"]


def test_cifar100_uses_fine_labels(tmp_path: Path) -> None:
    _write_cifar_batch(tmp_path / "train", 6, b"fine_labels", 1)
    _write_cifar_batch(tmp_path / "test", 2, b"fine_labels", 2)
    train = load_dataset(DatasetKind.CIFAR100, Split.TRAIN, tmp_path)
    assert len(train) == 6 and train.num_classes == 100


def test_missing_or_bad_cifar_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="data_batch_1.*cs.toronto.edu"):
        load_dataset(DatasetKind.CIFAR10, Split.TRAIN, tmp_path)
    with pytest.raises(DataError, match="no default location"):
        load_dataset(DatasetKind.CIFAR100, Split.TRAIN, None)
    (tmp_path / "test").write_bytes(pickle.dumps({b"data": [1, 2]}))
    with pytest.raises(DataError, match="not a CIFAR python batch"):
        load_dataset(DatasetKind.CIFAR100, Split.TEST, tmp_path)


def test_augment_crops_and_flips_per_sample_deterministically() -> None:
    images = torch.arange(2 * 1 * 6 * 6, dtype=torch.uint8).view(2, 1, 6, 6).repeat(50, 1, 1, 1)
    out = augment(images, 2, torch.Generator().manual_seed(1))
    again = augment(images, 2, torch.Generator().manual_seed(1))
    assert out.shape == images.shape and out.dtype == torch.uint8 and torch.equal(out, again)
    assert not torch.equal(out, images)
    # Every output is a flipped or unflipped shift of its input, with zero padding.
    padded = torch.nn.functional.pad(images[0:1], (2,) * 4)
    windows = {tuple(padded[0, 0, y:y + 6, x:x + 6].flatten().tolist())
               for y in range(5) for x in range(5)}
    windows |= {tuple(torch.tensor(w).view(6, 6).flip(1).flatten().tolist()) for w in windows}
    assert all(tuple(out[i, 0].flatten().tolist()) in windows for i in range(0, 100, 2))


def test_normalize_standardizes_per_channel() -> None:
    x = normalize(torch.full((2, 1, 3, 3), 255, dtype=torch.uint8), DatasetKind.FASHION_MNIST)
    assert torch.allclose(x, torch.full_like(x, (1.0 - 0.2860) / 0.3530))
