"""DDP on CPU: two gloo processes train a tiny gated model and end with identical parameters."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from dfs_fixtures import fabricate_fashion_mnist, tiny_config
from torch.nn.parallel import DistributedDataParallel

import dfs_models.train as train_module


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _worker(rank: int, world_size: int, port: int, tmp: str) -> None:
    os.environ.update({"RANK": str(rank), "WORLD_SIZE": str(world_size), "LOCAL_RANK": str(rank),
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
    torch.set_num_threads(1)
    real_loop = train_module._loop

    def loop_then_dump(session, run):
        assert session.ctx.world_size == world_size
        assert isinstance(session.net, DistributedDataParallel)
        real_loop(session, run)
        params = {k: v.detach().clone() for k, v in session.model.named_parameters()}
        torch.save(params, Path(tmp) / f"rank{rank}.pt")

    train_module._loop = loop_then_dump
    cfg = tiny_config(Path(tmp) / "run", Path(tmp) / "data", steps=3, batch_size=16)
    train_module.train(cfg)


def test_two_gloo_ranks_end_with_identical_parameters(tmp_path: Path) -> None:
    fabricate_fashion_mnist(tmp_path / "data")
    mp.spawn(_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    first = torch.load(tmp_path / "rank0.pt")
    second = torch.load(tmp_path / "rank1.pt")
    assert first.keys() == second.keys() and len(first) > 10
    assert all(torch.equal(first[k], second[k]) for k in first)
    torch.manual_seed(0)  # the config's seed: the same initial weights as the run
    start = train_module.build_model(train_module.ModelSpec("resnet8", 10, 1, 12))
    assert not torch.equal(first["fc.weight"], start.fc.weight)  # it did train
    # Only rank 0 wrote the run's outputs.
    assert (tmp_path / "run" / "model.pt").is_file()
    assert (tmp_path / "run" / "metrics.json").is_file()


def _sign_worker(rank: int, world_size: int, port: int, tmp: str) -> None:
    """Each rank sees a different share of the batch cp; both must take the global sign."""
    os.environ.update({"RANK": str(rank), "WORLD_SIZE": str(world_size), "LOCAL_RANK": str(rank),
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
    torch.set_num_threads(1)
    from dfs_models.distributed import init_distributed, shutdown
    from dfs_models.resnet import GateStats

    ctx = init_distributed("cpu")
    cfg = tiny_config(Path(tmp), Path(tmp), target_cp=0.25, alpha=1.0)
    share = torch.tensor(0.1 if rank == 0 else 0.5)  # global mean 0.3 > 0.25
    cost = torch.ones(2, 3)
    stats = GateStats(torch.zeros(2, 3, 2), torch.zeros(2, 3, 2), cost, share, share, share)
    logits, labels = torch.zeros(2, 10), torch.zeros(2, dtype=torch.long)
    plain = float(torch.nn.functional.cross_entropy(logits, labels))
    loss = train_module.stage_loss(cfg, None, logits, labels, stats, ctx)
    (Path(tmp) / f"sign{rank}.txt").write_text(str(float(loss) - plain))
    shutdown(ctx)


def test_the_cost_sign_comes_from_the_global_batch_cp(tmp_path: Path) -> None:
    mp.spawn(_sign_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    penalties = [float((tmp_path / f"sign{r}.txt").read_text()) for r in (0, 1)]
    assert penalties == pytest.approx([6.0, 6.0], abs=1e-5)  # +|alpha| * sum(cost), both ranks
