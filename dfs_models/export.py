"""Export a checkpoint's per-input decisions on a data split as an hwsim trace.

The inference path (eval mode, only each input's chosen option) runs over the split; each input
becomes one `InputRecord` (label, prediction, act_bits/wgt_bits per gated block, 0 = skipped).
The header carries the layer table derived from the torch modules (`geometry`), the
checkpoint's sha256, the data set, the target cp, the measured cp both ways and the accuracy,
with source TRAINED. A full-precision (base) checkpoint exports as a static network (no gates,
no blocks, every layer fixed 32/32) whose records have empty bit lists.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from dfs_models.checkpoint import load_model, sha256_file
from dfs_models.data import DatasetKind, Split, load_dataset
from dfs_models.errors import DfsError
from dfs_models.evaluate import EvalResult, evaluate
from dfs_models.geometry import network_from_model
from dfs_models.resnet import DfsResNet
from hwsim.workload.trace import (
    CpInfo,
    InputRecord,
    ModelInfo,
    SourceKind,
    TraceHeader,
    TraceWriter,
)


def _header(model: DfsResNet, result: EvalResult, checkpoint: Path, dataset: DatasetKind,
            split: Split, facts: dict[str, object]) -> TraceHeader:
    spec = model.spec
    network = network_from_model(model)
    info = ModelInfo(network.name, f"{dataset.value}:{split.value}",
                     (spec.in_channels, spec.input_size, spec.input_size), SourceKind.TRAINED,
                     checkpoint_sha256=sha256_file(checkpoint),
                     cost_table_sha256=facts.get("cost_table_sha256"))
    target = facts.get("target_cp") if spec.gated else None
    cp = CpInfo(target=None if target is None else float(target),
                measured=result.cp_paper if spec.gated else None,
                measured_flop_weighted=result.cp_flop if spec.gated else None,
                accuracy=result.accuracy)
    return TraceHeader(info, network, cp, result.count)


def _records(model: DfsResNet, result: EvalResult, labels: torch.Tensor):
    bits = torch.tensor(model.spec.options or (0,), dtype=torch.long)[result.decisions]
    rows = zip(labels.tolist(), result.predictions.tolist(), bits.tolist(), strict=True)
    for index, (label, prediction, row) in enumerate(rows):
        yield InputRecord(index, label, prediction, tuple(row), tuple(row))


def export_trace(checkpoint: Path, out: Path, split: str = "test", dataset: str | None = None,
                 data_dir: str | None = None, limit: int = 0, batch_size: int = 500,
                 threads: int = 0, progress: bool = False) -> int:
    """Write the trace of `checkpoint` over a split to `out` (.jsonl or .jsonl.gz, atomic).

    Returns:
        The number of records written.

    Raises:
        CheckpointError, DataError: bad checkpoint or data; TraceError from hwsim on a
        record that does not fit the header (a bug).
    """
    if threads > 0:
        torch.set_num_threads(threads)
    model, facts = load_model(checkpoint)
    try:
        kind = DatasetKind(dataset or facts.get("dataset", DatasetKind.FASHION_MNIST.value))
        which = Split(split)
    except ValueError as err:
        raise DfsError(f"export: {err}") from err
    data = load_dataset(kind, which, Path(data_dir) if data_dir else None).subset(limit)
    if (data.in_channels, data.input_size) != (model.spec.in_channels, model.spec.input_size):
        raise DfsError(f"{checkpoint}: model expects {model.spec.in_channels}x"
                       f"{model.spec.input_size} inputs but {kind.value} has "
                       f"{data.in_channels}x{data.input_size}")
    model.to(memory_format=torch.channels_last)  # 1.2-1.9x faster convolutions on CPU
    result = evaluate(model, data, batch_size, torch.device("cpu"), progress=progress,
                      channels_last=True)
    header = _header(model, result, checkpoint, kind, which, facts)
    os.makedirs(out.parent, exist_ok=True)
    with TraceWriter(out, header) as writer:
        for record in _records(model, result, data.labels):
            writer.write(record)
    return writer.count
