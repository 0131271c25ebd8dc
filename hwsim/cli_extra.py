"""Registration point for further subcommands (sweep, plot, compare).

Each entry maps a command name to (module, add_parser function, run function) so that the
command modules are imported only when used.
"""

from __future__ import annotations

import argparse
import importlib

# command name -> module providing add_parser(sub) and run(args)
EXTRA_COMMANDS: dict[str, str] = {"sweep": "hwsim.sweep_command", "plot": "hwsim.plot_command",
                                  "compare": "hwsim.compare_command"}


def add_extra_commands(sub: argparse._SubParsersAction) -> None:
    for module in EXTRA_COMMANDS.values():
        importlib.import_module(module).add_parser(sub)


def dispatch_extra(args: argparse.Namespace) -> int:
    return importlib.import_module(EXTRA_COMMANDS[args.command]).run(args)
