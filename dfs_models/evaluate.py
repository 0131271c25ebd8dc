"""Evaluation on the inference path: accuracy and cp (both definitions) over a split."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dfs_models.data import ImageSet, normalize
from dfs_models.resnet import DfsResNet


@dataclass(frozen=True, slots=True)
class EvalResult:
    """Accuracy and mean cp over `count` inputs, plus per-input outcomes for export.

    Attributes:
        predictions, decisions: per input; decisions are option indices (n, n_gated).
    """

    count: int
    accuracy: float
    cp_paper: float
    cp_flop: float
    cp_cost: float
    predictions: torch.Tensor
    decisions: torch.Tensor


@torch.no_grad()
def evaluate(model: DfsResNet, data: ImageSet, batch_size: int,
             device: torch.device, progress: bool = False,
             channels_last: bool = False) -> EvalResult:
    """Run the inference path (eval mode, only chosen options) over every input of `data`."""
    was_training = model.training
    model.eval()
    preds, decisions, paper, flop, modelled = [], [], [], [], []
    starts = range(0, len(data), batch_size)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(data), desc="eval", unit="input", mininterval=1.0)
    for start in starts:
        x = normalize(data.images[start:start + batch_size], data.kind).to(device)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        logits, chosen = model.infer(x)
        cp_paper, cp_flop, cp_cost = model.cp_of_decisions(chosen)
        preds.append(logits.argmax(dim=1).cpu())
        decisions.append(chosen.cpu())
        paper.append(cp_paper.cpu())
        flop.append(cp_flop.cpu())
        modelled.append(cp_cost.cpu())
        if bar is not None:
            bar.update(x.shape[0])
    if bar is not None:
        bar.close()
    model.train(was_training)
    predictions = torch.cat(preds)
    accuracy = float((predictions == data.labels).float().mean())
    return EvalResult(len(data), accuracy, float(torch.cat(paper).mean()),
                      float(torch.cat(flop).mean()), float(torch.cat(modelled).mean()),
                      predictions, torch.cat(decisions))
