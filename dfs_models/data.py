"""In-memory image data sets and tensor-op augmentation.

Fashion-MNIST (Xiao et al., 2017) from the idx .gz files of the Debian package
`dataset-fashion-mnist`; CIFAR-10/100 (Krizhevsky, 2009) from the standard python-pickle
batches. A whole split lives in memory as one uint8 tensor (n, c, h, w); normalization and the
standard augmentation (random crop with zero padding, horizontal flip; He et al., CVPR 2016)
are applied per batch with tensor ops, no per-sample Python loop.
"""

from __future__ import annotations

import enum
import gzip
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from dfs_models.errors import DataError

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
_IDX_MAGIC = {3: 2051, 1: 2049}  # images / labels (LeCun's idx format)


class DatasetKind(enum.Enum):
    FASHION_MNIST = "fashion-mnist"
    CIFAR10 = "cifar10"
    CIFAR100 = "cifar100"


class Split(enum.Enum):
    TRAIN = "train"
    TEST = "test"


# Per-channel mean / std of the training split (fractions of 255).
_NORMALIZATION = {
    DatasetKind.FASHION_MNIST: ((0.2860,), (0.3530,)),
    DatasetKind.CIFAR10: ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    DatasetKind.CIFAR100: ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
}
_NUM_CLASSES = {DatasetKind.FASHION_MNIST: 10, DatasetKind.CIFAR10: 10,
                DatasetKind.CIFAR100: 100}


@dataclass(frozen=True, slots=True)
class ImageSet:
    """One split in memory: uint8 images (n, c, h, w) and int64 labels (n,)."""

    kind: DatasetKind
    split: Split
    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def num_classes(self) -> int:
        return _NUM_CLASSES[self.kind]

    @property
    def in_channels(self) -> int:
        return int(self.images.shape[1])

    @property
    def input_size(self) -> int:
        return int(self.images.shape[2])

    def subset(self, count: int) -> ImageSet:
        """The first `count` samples (all when count <= 0)."""
        if count <= 0 or count >= len(self):
            return self
        return ImageSet(self.kind, self.split, self.images[:count], self.labels[:count])


def _read_idx(path: Path, ndim: int) -> np.ndarray:
    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise DataError(f"{path}: cannot read idx.gz file ({err})") from err
    magic = int.from_bytes(raw[0:4], "big")
    if len(raw) < 4 + 4 * ndim or magic != _IDX_MAGIC[ndim]:
        raise DataError(f"{path}: not an idx file with {ndim} dimensions (magic {magic})")
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise DataError(f"{path}: {body.size} bytes of data, header says {dims}")
    return body.reshape(dims)


def load_fashion_mnist(split: Split, root: Path = FASHION_MNIST_DIR) -> ImageSet:
    """Fashion-MNIST from the four idx .gz files in `root` (1x28x28 gray images)."""
    prefix = "train" if split is Split.TRAIN else "t10k"
    images_path = root / f"{prefix}-images-idx3-ubyte.gz"
    labels_path = root / f"{prefix}-labels-idx1-ubyte.gz"
    for path in (images_path, labels_path):
        if not path.is_file():
            raise DataError(f"Fashion-MNIST file {path} not found; install it with "
                            "`apt-get install -y dataset-fashion-mnist` or pass --data-dir")
    images, labels = _read_idx(images_path, 3), _read_idx(labels_path, 1)
    if images.shape[0] != labels.shape[0]:
        raise DataError(f"{root}: {images.shape[0]} images but {labels.shape[0]} labels")
    return ImageSet(DatasetKind.FASHION_MNIST, split,
                    torch.from_numpy(images.copy()).unsqueeze(1),
                    torch.from_numpy(labels.astype(np.int64)))


def _cifar_files(kind: DatasetKind, split: Split) -> list[str]:
    if kind is DatasetKind.CIFAR100:
        return ["train" if split is Split.TRAIN else "test"]
    if split is Split.TRAIN:
        return [f"data_batch_{i}" for i in range(1, 6)]
    return ["test_batch"]


def _read_cifar_batch(path: Path, label_key: bytes) -> tuple[np.ndarray, np.ndarray]:
    try:
        with path.open("rb") as handle:
            batch = pickle.load(handle, encoding="bytes")
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[label_key], dtype=np.int64)
    except (OSError, pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError) as err:
        raise DataError(f"{path}: not a CIFAR python batch ({err!r})") from err
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or data.shape[0] != labels.shape[0]:
        raise DataError(f"{path}: expected (n, 3072) data and n labels (got {data.shape}, "
                        f"{labels.shape})")
    return data.reshape(-1, 3, 32, 32), labels


def load_cifar(kind: DatasetKind, split: Split, root: Path) -> ImageSet:
    """CIFAR-10 (data_batch_1..5, test_batch) or CIFAR-100 (train, test) pickles in `root`."""
    names = _cifar_files(kind, split)
    missing = [n for n in names if not (root / n).is_file()]
    if missing:
        raise DataError(f"{kind.value} files {', '.join(missing)} not found in {root}; download "
                        "the python version from https://www.cs.toronto.edu/~kriz/cifar.html, "
                        "unpack it and pass that folder as --data-dir")
    label_key = b"fine_labels" if kind is DatasetKind.CIFAR100 else b"labels"
    parts = [_read_cifar_batch(root / n, label_key) for n in names]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    return ImageSet(kind, split, torch.from_numpy(images), torch.from_numpy(labels))


def load_dataset(kind: DatasetKind, split: Split, root: Path | None = None) -> ImageSet:
    """Load one split; `root` defaults to the Debian Fashion-MNIST folder."""
    if kind is DatasetKind.FASHION_MNIST:
        return load_fashion_mnist(split, root or FASHION_MNIST_DIR)
    if root is None:
        raise DataError(f"{kind.value} has no default location; pass --data-dir with the "
                        "unpacked python-pickle batches")
    return load_cifar(kind, split, root)


def normalize(images: torch.Tensor, kind: DatasetKind) -> torch.Tensor:
    """uint8 (n, c, h, w) -> float, scaled to [0, 1] and standardized per channel."""
    mean, std = _NORMALIZATION[kind]
    x = images.float().div_(255.0)
    shape = (1, len(mean), 1, 1)
    return (x - torch.tensor(mean).view(shape)) / torch.tensor(std).view(shape)


def augment(images: torch.Tensor, padding: int, generator: torch.Generator) -> torch.Tensor:
    """Random crop (zero padding of `padding` pixels) and horizontal flip, per batch.

    Works on any dtype; padding is applied in the normalized space's zero only if the caller
    normalizes afterwards (we pad uint8 zeros = black, as torchvision does).
    """
    n, _, h, w = images.shape
    padded = torch.nn.functional.pad(images, (padding,) * 4)
    dy = torch.randint(0, 2 * padding + 1, (n,), generator=generator)
    dx = torch.randint(0, 2 * padding + 1, (n,), generator=generator)
    rows = (dy[:, None] + torch.arange(h))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(w))[:, None, None, :]
    batch = torch.arange(n)[:, None, None, None]
    chans = torch.arange(images.shape[1])[None, :, None, None]
    cropped = padded[batch, chans, rows, cols]
    flip = torch.rand(n, generator=generator) < 0.5
    return torch.where(flip[:, None, None, None], cropped.flip(3), cropped)
