"""Command line: `python -m dfs_models train|export|summarize ...`.

Every TrainConfig key is also a flag (`--target-cp 0.2`, `--options 0,32`); flags override the
YAML given with `--config`. Known errors (DfsError, hwsim's HwsimError) become one line on
stderr and exit code 2; anything else keeps its traceback.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from dfs_models.config import config_from_dict, field_names, load_config
from dfs_models.errors import DfsError


def _train_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train one stage (base, gate_init, joint)")
    p.add_argument("--config", type=Path, help="YAML config (flags override it)")
    p.add_argument("--resume", action="store_true", help="continue from RUN_DIR/last.pt")
    for name in field_names():
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, default=None,
                       help=f"config key {name}")


def _export_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write a decision trace of a checkpoint over a split")
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument("--split", choices=["train", "test"], default="test")
    p.add_argument("--out", type=Path, required=True, help="traces/NAME.jsonl[.gz]")
    p.add_argument("--dataset", default=None, help="default: the checkpoint's data set")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--limit", type=int, default=0, help="first N inputs only (0 = all)")
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def _summary_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("summarize", help="Markdown table of the finished runs under a folder")
    p.add_argument("root", type=Path, help="e.g. runs/fmnist")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dfs_models", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _train_parser(sub)
    _export_parser(sub)
    _summary_parser(sub)
    return parser


def _run_train(args: argparse.Namespace, command: str) -> None:
    from dfs_models.train import train

    overrides = {k: getattr(args, k) for k in field_names() if getattr(args, k) is not None}
    cfg = (load_config(args.config, overrides) if args.config
           else config_from_dict(overrides, where="<flags>"))
    train(cfg, resume=args.resume, command=command)


def _run_export(args: argparse.Namespace, command: str) -> None:
    from dfs_models.export import export_trace

    count = export_trace(args.checkpoint, args.out, split=args.split, dataset=args.dataset,
                         data_dir=args.data_dir, limit=args.limit,
                         batch_size=args.batch_size, threads=args.threads,
                         progress=not args.no_progress)
    print(f"wrote {count} records to {args.out}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    command = shlex.join(["python", "-m", "dfs_models", *argv])
    known: tuple[type[BaseException], ...] = (DfsError,)
    try:
        from hwsim.errors import HwsimError
        known = (DfsError, HwsimError)
    except ImportError:
        pass
    try:
        if args.command == "train":
            _run_train(args, command)
        elif args.command == "export":
            _run_export(args, command)
        else:
            from dfs_models.summary import summarize_runs

            print(summarize_runs(args.root))
    except known as err:
        print(f"error: {err}".replace("\n", "; "), file=sys.stderr)
        return 2
    return 0
