"""Two-step DFS training (Shen et al., AAAI 2020) with resumable, atomic checkpoints.

Stages: `base` (full precision, no gates), `gate_init` (backbone frozen with its BatchNorms in
eval mode, activation ranges update, gates pushed to the full-precision option), `joint` (all
parameters,
loss = CE + alpha * sum(mask * cost) with alpha's sign + when the batch cp is above the target,
- below). SGD with momentum and a step lr schedule; one optimizer step per batch.

Resume contract: `last.pt` holds model, optimizer, scheduler, RNG states, step, wall time and
the metrics history. The batch order is a pure function of (seed, epoch) (DistributedSampler)
and each step's augmentation of (seed, rank, step), so a resumed run reproduces the
uninterrupted one exactly.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler
from tqdm import tqdm

from dfs_models.block import OptionBatchNorm2d
from dfs_models.checkpoint import (
    STATE_FORMAT,
    load_backbone,
    load_file,
    save_atomic,
    save_model,
    spec_to_dict,
)
from dfs_models.config import LrSchedule, Precision, Stage, TrainConfig
from dfs_models.costs import CostModel, flop_costs, table_costs
from dfs_models.data import ImageSet, Split, augment, load_dataset, normalize
from dfs_models.distributed import (
    DistContext,
    barrier,
    global_mean,
    init_distributed,
    shutdown,
)
from dfs_models.evaluate import evaluate
from dfs_models.resnet import DfsResNet, GateStats, ModelSpec, build_model

FULL_OPTION_BITS = 32


@dataclass(slots=True)
class RunState:
    """Mutable progress of one run (lives only inside `train`)."""

    step: int = 0
    wall_s: float = 0.0
    history: list[dict] = field(default_factory=list)
    window: dict[str, float] = field(default_factory=lambda: {"loss": 0.0, "correct": 0.0,
                                                              "seen": 0.0, "cp": 0.0,
                                                              "cost": 0.0, "n": 0.0})


def stage_loss(cfg: TrainConfig, model: DfsResNet, logits: torch.Tensor, labels: torch.Tensor,
               stats: GateStats, ctx: DistContext | None = None) -> torch.Tensor:
    """The training loss of `cfg.stage` (see module docstring).

    The cp the sign compares with the target is the configured cost model's (`cp_cost`: the
    paper's cp, or the FLOP, energy or latency fraction). Under DDP it is the cp of the whole
    global batch (every rank's share averaged), so all ranks push the same way.
    """
    loss = F.cross_entropy(logits, labels)
    if cfg.stage is Stage.GATE_INIT:
        full = model.spec.options.index(FULL_OPTION_BITS)
        log_full = stats.probs[..., full].clamp_min(1e-12).log()
        shortfall = F.relu(math.log(cfg.gate_init_prob) - log_full)
        loss = loss + cfg.gate_init_weight * shortfall.mean()
    elif cfg.stage is Stage.JOINT:
        batch_cp = stats.cp_cost.detach()
        if ctx is not None and ctx.distributed:
            batch_cp = global_mean(batch_cp)
        sign = 1.0 if float(batch_cp) > cfg.target_cp else -1.0
        loss = loss + sign * abs(cfg.alpha) * stats.cost.sum()
    return loss


def _model_spec(cfg: TrainConfig, data: ImageSet) -> ModelSpec:
    return ModelSpec(cfg.arch, data.num_classes, data.in_channels, data.input_size,
                     cfg.options if cfg.gated else ())


def _is_gate(name: str) -> bool:
    return "gate_proj." in name or name.startswith("controller.")


def _trainable(cfg: TrainConfig, model: DfsResNet) -> list[dict]:
    """Optimizer parameter groups: the backbone at `lr`, the gates at `lr * gate_lr_scale`."""
    if cfg.stage is Stage.GATE_INIT:
        for name, param in model.named_parameters():
            param.requires_grad_(_is_gate(name))
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    groups = [{"params": [p for n, p in named if not _is_gate(n)], "lr": cfg.lr},
              {"params": [p for n, p in named if _is_gate(n)], "lr": cfg.lr * cfg.gate_lr_scale}]
    return [g for g in groups if g["params"]]


def onecycle_factor(step: int, steps: int, warmup: float) -> float:
    """lr multiplier of optimizer step `step` (0-based) under the one-cycle schedule."""
    warm = round(warmup * steps)
    if step < warm:
        return (step + 1) / warm
    return 0.5 * (1.0 + math.cos(math.pi * (step - warm) / max(steps - warm, 1)))


def set_train_mode(model: DfsResNet, cfg: TrainConfig) -> None:
    """Train mode; in gate_init the frozen backbone's BatchNorms stay in eval mode.

    Gate init trains only the gates: the backbone (BN statistics included) must stay the base
    network it was loaded from, while each quantized option's activation ranges still learn.
    """
    model.train()
    if cfg.stage is Stage.GATE_INIT:
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d | OptionBatchNorm2d):
                module.eval()


def _optimizer(cfg: TrainConfig, params: list
               ) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    optimizer = torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum,
                                weight_decay=cfg.weight_decay, nesterov=cfg.nesterov)
    if cfg.lr_schedule is LrSchedule.ONECYCLE:
        steps, warmup = cfg.steps, cfg.warmup
        return optimizer, torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: onecycle_factor(step, steps, warmup))
    milestones = sorted({max(1, round(f * cfg.steps)) for f in cfg.milestones})
    return optimizer, torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones, cfg.lr_gamma)


def _batch(cfg: TrainConfig, data: ImageSet, order: torch.Tensor, position: int,
           per_rank: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    index = order[position * per_rank:(position + 1) * per_rank]
    images = augment(data.images[index], cfg.crop_padding, generator)
    return normalize(images, data.kind), data.labels[index]


@dataclass(frozen=True, slots=True)
class Session:
    """What one training process works with, built once by `_open_session`.

    Attributes:
        net: the model, or its DistributedDataParallel wrapper when running under torchrun.
        schedule: the schedule actually used, as recorded in metrics.json.
    """

    cfg: TrainConfig
    ctx: DistContext
    model: DfsResNet
    net: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    train_set: ImageSet
    test_set: ImageSet
    schedule: dict[str, object]
    command: str

    @property
    def run_dir(self) -> Path:
        return Path(self.cfg.run_dir)


def _save_state(s: Session, run: RunState) -> None:
    save_atomic({"format": STATE_FORMAT, "spec": spec_to_dict(s.model.spec),
                 "model": s.model.state_dict(), "optimizer": s.optimizer.state_dict(),
                 "scheduler": s.scheduler.state_dict(), "rng_cpu": torch.get_rng_state(),
                 "step": run.step, "wall_s": run.wall_s, "history": json.dumps(run.history),
                 "window": json.dumps(run.window)},
                s.run_dir / "last.pt")


def _restore_state(path: Path, model: DfsResNet, optimizer: torch.optim.Optimizer,
                   scheduler: torch.optim.lr_scheduler.LRScheduler, run: RunState) -> None:
    data = load_file(path, STATE_FORMAT)
    model.load_state_dict(data["model"])
    optimizer.load_state_dict(data["optimizer"])
    milestones = getattr(scheduler, "milestones", None)
    scheduler.load_state_dict(data["scheduler"])
    if milestones is not None:
        scheduler.milestones = milestones  # the config's schedule wins (it may be shortened)
    torch.set_rng_state(data["rng_cpu"])
    run.step, run.wall_s = int(data["step"]), float(data["wall_s"])
    run.history = json.loads(data["history"])
    run.window = json.loads(data["window"])


def _record(s: Session, run: RunState, final: bool) -> dict:
    """Evaluate on the inference path, append to the history and log one JSON line."""
    data = s.test_set if final else s.test_set.subset(s.cfg.eval_subset)
    result = evaluate(s.model, data, s.cfg.eval_batch_size, s.ctx.device)
    w = run.window
    entry = {"step": run.step, "epoch": run.step * s.cfg.batch_size / len(s.train_set),
             "lr": s.optimizer.param_groups[0]["lr"],
             "train_loss": w["loss"] / max(w["n"], 1),
             "train_acc": w["correct"] / max(w["seen"], 1),
             "train_cp_paper": w["cp"] / max(w["n"], 1),
             "train_cp_cost": w.get("cost", 0.0) / max(w["n"], 1),
             "test_inputs": result.count, "test_acc": result.accuracy,
             "test_cp_paper": result.cp_paper, "test_cp_flop": result.cp_flop,
             "test_cp_cost": result.cp_cost,
             "wall_s": round(run.wall_s, 1), "final": final}
    run.window = RunState().window
    run.history.append(entry)
    print(json.dumps(entry), file=sys.stderr, flush=True)
    return entry


def _table_sha(cfg: TrainConfig) -> str | None:
    if not cfg.cost_table:
        return None
    from dfs_models.checkpoint import sha256_file

    return sha256_file(Path(cfg.cost_table))


def _schedule(cfg: TrainConfig, train_count: int, ctx: DistContext) -> dict[str, object]:
    """The schedule actually used, as recorded in metrics.json."""
    onecycle = cfg.lr_schedule is LrSchedule.ONECYCLE
    return {"steps": cfg.steps, "batch_size": cfg.batch_size, "world_size": ctx.world_size,
            "epochs": cfg.steps * cfg.batch_size / train_count, "train_inputs": train_count,
            "lr": cfg.lr, "lr_schedule": cfg.lr_schedule.value,
            "warmup_steps": round(cfg.warmup * cfg.steps) if onecycle else 0,
            "milestone_steps": [] if onecycle else sorted(
                {max(1, round(f * cfg.steps)) for f in cfg.milestones}),
            "lr_gamma": cfg.lr_gamma, "nesterov": cfg.nesterov,
            "gate_lr": cfg.lr * cfg.gate_lr_scale,
            "weight_decay": cfg.weight_decay, "precision": cfg.precision.value,
            "channels_last": cfg.channels_last, "zero_init_residual": cfg.zero_init_residual,
            "alpha_abs": abs(cfg.alpha), "target_cp": cfg.target_cp,
            "alpha_term": "sum over gated blocks and batch samples of mask * block cost "
                          "(the cost model's, normalised so the full network costs 1)",
            "alpha_sign": "+ when the batch cp under cost_model > target_cp else -",
            "cost_model": cfg.cost_model.value, "cost_table": cfg.cost_table,
            "cost_table_sha256": _table_sha(cfg)}


def write_metrics(s: Session, run: RunState, finished: bool) -> None:
    """metrics.json in the run dir (atomic)."""
    path = s.run_dir / "metrics.json"
    body = {"name": s.cfg.name, "stage": s.cfg.stage.value, "command": s.command,
            "finished": finished, "schedule": s.schedule, "config": s.cfg.to_dict(),
            "history": run.history, "final": run.history[-1] if finished else None}
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(body, indent=2) + "\n")
    os.replace(tmp, path)


def _data_dir(cfg: TrainConfig) -> Path | None:
    return Path(cfg.data_dir) if cfg.data_dir else None


def _cost_model(cfg: TrainConfig, model: DfsResNet, data: ImageSet):
    """The configured cost model's normalised block costs (None: the paper's, built in)."""
    if not cfg.gated or cfg.cost_model is CostModel.PAPER:
        return None
    if cfg.cost_model is CostModel.FLOPS:
        return flop_costs(model.spec.options, model.block_macs.tolist(), float(model.fixed_macs))
    blocks = [name for name, _ in model.gated_blocks()]
    return table_costs(Path(cfg.cost_table), cfg.cost_model, blocks, model.spec.options,
                       (data.in_channels, data.input_size, data.input_size))


def _open_session(cfg: TrainConfig, ctx: DistContext, resume: bool,
                  command: str) -> tuple[Session, RunState]:
    """Load data, build (or restore) the model and optimizer, wrap for DDP."""
    train_set = load_dataset(cfg.dataset, Split.TRAIN, _data_dir(cfg)).subset(cfg.train_subset)
    test_set = load_dataset(cfg.dataset, Split.TEST, _data_dir(cfg)).subset(cfg.test_subset)
    model = build_model(_model_spec(cfg, train_set))
    if cfg.zero_init_residual and not cfg.init_from:
        for _, block in model.blocks():
            torch.nn.init.zeros_(block.bn2.weight)
    last = Path(cfg.run_dir) / "last.pt"
    if cfg.init_from and not (resume and last.is_file()):
        load_backbone(model, Path(cfg.init_from))
    costs = _cost_model(cfg, model, train_set)
    model.to(ctx.device)
    if costs is not None:
        model.set_block_costs(costs.matrix, costs.fixed, costs.model.value)
    if cfg.channels_last:
        model.to(memory_format=torch.channels_last)
    optimizer, scheduler = _optimizer(cfg, _trainable(cfg, model))
    run = RunState()
    if resume and last.is_file():
        _restore_state(last, model, optimizer, scheduler, run)
    net = DistributedDataParallel(model) if ctx.distributed else model
    return Session(cfg, ctx, model, net, optimizer, scheduler, train_set, test_set,
                   _schedule(cfg, len(train_set), ctx), command), run


def train(cfg: TrainConfig, resume: bool = False, command: str = "") -> dict:
    """Run (or continue, with `resume`) one stage; returns the final metrics entry.

    Under torchrun every rank calls this; only rank 0 returns the entry (others get {}).

    Raises:
        DataError, CheckpointError: bad data or checkpoints (turned into exit 2 by the CLI).
    """
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    ctx = init_distributed(cfg.device)
    try:
        session, run = _open_session(cfg, ctx, resume, command)
        if run.step >= cfg.steps and run.history and run.history[-1]["final"]:
            return run.history[-1]  # finished earlier: nothing to do
        if ctx.is_main:
            session.run_dir.mkdir(parents=True, exist_ok=True)
            (session.run_dir / "config.json").write_text(
                json.dumps(cfg.to_dict(), indent=2) + "\n")
        _loop(session, run)
        if ctx.is_main:
            _finish(session, run)
        barrier(ctx)
        return run.history[-1] if ctx.is_main else {}
    finally:
        shutdown(ctx)


def _finish(s: Session, run: RunState) -> None:
    """Write model.pt (shippable), the final last.pt and metrics.json."""
    final = run.history[-1]
    facts = {"stage": s.cfg.stage.value, "dataset": s.cfg.dataset.value,
             "target_cp": s.cfg.target_cp if s.cfg.stage is Stage.JOINT else None,
             "test_acc": final["test_acc"], "test_cp_paper": final["test_cp_paper"],
             "test_cp_flop": final["test_cp_flop"], "steps": run.step,
             "cost_model": s.cfg.cost_model.value, "test_cp_cost": final["test_cp_cost"],
             "cost_table_sha256": _table_sha(s.cfg)}
    save_model(s.model, s.run_dir / "model.pt", facts)
    _save_state(s, run)
    write_metrics(s, run, finished=True)


def _epoch_order(s: Session, sampler: DistributedSampler, epoch: int) -> torch.Tensor:
    sampler.set_epoch(epoch)
    return torch.tensor(list(sampler))


def _loop(s: Session, run: RunState) -> None:
    """One optimizer step per batch until `cfg.steps`, evaluating/saving when due."""
    cfg, ctx = s.cfg, s.ctx
    per_rank = cfg.batch_size // ctx.world_size
    sampler = DistributedSampler(range(len(s.train_set)), ctx.world_size, ctx.rank,
                                 shuffle=True, seed=cfg.seed, drop_last=True)
    steps_per_epoch = len(sampler) // per_rank
    bar = tqdm(total=cfg.steps, initial=run.step, desc=cfg.name, unit="step",
               disable=not (ctx.is_main and sys.stderr.isatty()))
    order, epoch = None, -1
    set_train_mode(s.model, cfg)
    while run.step < cfg.steps:
        started = time.perf_counter()
        if run.step // steps_per_epoch != epoch:
            epoch = run.step // steps_per_epoch
            order = _epoch_order(s, sampler, epoch)
        gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + run.step * 101 + ctx.rank)
        x, y = _batch(cfg, s.train_set, order, run.step % steps_per_epoch, per_rank, gen)
        loss, logits, stats = _step(s, x.to(ctx.device), y.to(ctx.device))
        run.step += 1
        _accumulate(run, loss, logits, y.to(ctx.device), stats)
        run.wall_s += time.perf_counter() - started
        bar.update(1)
        w = run.window
        bar.set_postfix(loss=f"{float(loss):.3f}", acc=f"{w['correct'] / max(w['seen'], 1):.3f}",
                        cp=f"{w['cp'] / max(w['n'], 1):.3f}")
        _periodic(s, run)
    bar.close()


def _step(s: Session, x: torch.Tensor, y: torch.Tensor
          ) -> tuple[torch.Tensor, torch.Tensor, GateStats]:
    if s.cfg.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    with torch.autocast(s.ctx.device.type, dtype=torch.bfloat16,
                        enabled=s.cfg.precision is Precision.BF16):
        logits, stats = s.net(x)
    loss = stage_loss(s.cfg, s.model, logits.float(), y, stats, s.ctx)
    s.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    s.optimizer.step()
    s.scheduler.step()
    return loss.detach(), logits.detach(), stats


def _accumulate(run: RunState, loss, logits, labels, stats: GateStats) -> None:
    w = run.window
    w["loss"] += float(loss.detach())
    w["correct"] += float((logits.argmax(dim=1) == labels).sum())
    w["seen"] += labels.shape[0]
    w["cp"] += float(stats.cp_paper.detach())
    w["cost"] = w.get("cost", 0.0) + float(stats.cp_cost.detach())
    w["n"] += 1


def _periodic(s: Session, run: RunState) -> None:
    """Evaluate, log and checkpoint on rank 0 when due; the other ranks wait."""
    cfg = s.cfg
    final = run.step >= cfg.steps
    do_eval = final or (cfg.eval_every > 0 and run.step % cfg.eval_every == 0)
    do_save = not final and run.step % cfg.checkpoint_every == 0
    if not (do_eval or do_save):
        return
    if s.ctx.is_main:
        if do_eval:
            started = time.perf_counter()
            _record(s, run, final)
            set_train_mode(s.model, cfg)
            run.wall_s += time.perf_counter() - started
        if do_save:
            _save_state(s, run)
            write_metrics(s, run, finished=False)
            w = run.window
            since = (f"; since last eval: train acc {w['correct'] / w['seen']:.3f}, "
                     f"train cp {w['cp'] / w['n']:.3f}") if w["n"] else ""
            rate = run.step / max(run.wall_s, 1e-9)
            eta = (cfg.steps - run.step) / max(rate, 1e-9)
            print(f"{cfg.name}: checkpoint at step {run.step}/{cfg.steps}, wall "
                  f"{run.wall_s:.0f} s, {rate:.2f} steps/s, ETA {eta / 60:.0f} min{since}",
                  file=sys.stderr, flush=True)
    barrier(s.ctx)
