"""`python -m hwsim`: run, validate, synth-trace, and the lazily imported sweep, plot, compare.

Only this module turns a known error (HwsimError) into one line on stderr and exit code 2;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from hwsim import __version__
from hwsim.cli.run import add_workload_arguments
from hwsim.errors import HwsimError

EXIT_BAD_INPUT = 2
# Commands whose modules are imported only when used (each has add_parser(sub) and run(args)).
LAZY_COMMANDS: dict[str, str] = {"sweep": "hwsim.cli.sweep", "plot": "hwsim.cli.plot",
                                 "compare": "hwsim.cli.compare", "list": "hwsim.cli.catalog",
                                 "cost-table": "hwsim.cli.cost_table"}


def _add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="simulate a trace (or a static benchmark) on an arch")
    p.add_argument("--arch", default="bitfusion_16x16",
                   help="arch YAML, or the name of a shipped one (default: bitfusion_16x16; "
                        "`hwsim list` shows them)")
    add_workload_arguments(p)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override an arch setting by its dotted YAML key (repeatable), e.g. "
                        "--set dram.bandwidth_bits_per_cycle=1099511627776 for stall-free DRAM "
                        "as SCALE-Sim's CALC mode")
    p.add_argument("--timing", choices=["analytic", "event"], default="analytic",
                   help="analytic (default, fast) or event-driven simpy model")
    p.add_argument("--out", help="directory for layers.csv, inputs.csv, summary.json")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("--no-progress", action="store_true", help="never show progress bars")
    shown = p.add_mutually_exclusive_group()
    shown.add_argument("--summary", action="store_true",
                       help="print the per-input summary only (no per-layer table)")
    shown.add_argument("--top", type=int, metavar="N",
                       help="print only the N layers that cost the most energy per input")


def _add_validate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check arch YAML and trace files without simulating")
    p.add_argument("files", nargs="+")


def _add_synth(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("synth-trace", help="write a synthetic ResNet decision trace")
    p.add_argument("--depth", type=int, default=74, help="6n+2 ResNet depth (default 74)")
    p.add_argument("--inputs", type=int, default=10000)
    p.add_argument("--cp", type=float, default=0.2, help="target computation percentage (0-1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--input-size", type=int, default=32)
    p.add_argument("--in-channels", type=int, default=3)
    p.add_argument("--out", required=True, help="output trace (.jsonl or .jsonl.gz)")


class _Parser(argparse.ArgumentParser):
    """argparse with its usage errors on one line (exit 2), like every other hwsim error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"error: {self.prog}: {message}; see "
                                  f"'{self.prog} --help'\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m hwsim",
        description="Trace-driven simulator of a Bit Fusion-style accelerator.")
    parser.add_argument("--version", action="version", version=f"hwsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_run(sub)
    _add_validate(sub)
    _add_synth(sub)
    for module in LAZY_COMMANDS.values():
        importlib.import_module(module).add_parser(sub)
    return parser


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        from hwsim.cli.run import run_command

        return run_command(args)
    if args.command == "validate":
        from hwsim.cli.run import validate_command

        return validate_command(args.files)
    if args.command == "synth-trace":
        from hwsim.cli.run import synth_command

        return synth_command(args)
    return importlib.import_module(LAZY_COMMANDS[args.command]).run(args)


def one_line(message: str) -> str:
    """Errors listing several problems go out on one line, problems separated by ' | '."""
    return " | ".join(part.strip() for part in message.splitlines() if part.strip())


def _tolerant_streams() -> None:
    """Never fail on a character the terminal cannot encode (a non-ASCII arch name)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    _tolerant_streams()
    try:
        args = build_parser().parse_args(argv)
        return _dispatch(args)
    except HwsimError as err:
        print(f"error: {one_line(str(err))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader (e.g. `| head`) stopped reading: end quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes at exit
        return 0
