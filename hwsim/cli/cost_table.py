"""`hwsim cost-table`: per (gated block, option) energy and latency for hardware-aware training.

See `hwsim.explore.cost_table` for what an entry holds and the JSON format.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from hwsim.cost.timing import TimingKind
from hwsim.errors import HwsimError
from hwsim.explore.cost_table import cost_table
from hwsim.hardware.arch import load_arch
from hwsim.report import json_text, write_file_atomic
from hwsim.shipped import resolve
from hwsim.workload.trace import read_header


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cost-table", help="energy and latency per (gated block, option), "
                                          "for training gates on the simulator's cost")
    p.add_argument("--arch", default="bitfusion_16x16", help="arch YAML or shipped name")
    p.add_argument("--trace", required=True,
                   help="a trace of the network (its header gives layers, blocks and options)")
    p.add_argument("--batch", type=int, default=1, help="inputs per group (default 1)")
    p.add_argument("--timing", choices=["analytic", "event"], default="analytic")
    p.add_argument("--out", required=True, help="the table, JSON (written atomically)")


def run(args: argparse.Namespace) -> int:
    arch_path = resolve("arch", args.arch, "--arch")
    trace_path = resolve("trace", args.trace, "--trace")
    if not 1 <= args.batch <= 1 << 20:
        raise HwsimError(f"--batch must be in 1..1,048,576 (got {args.batch})")
    arch = load_arch(arch_path)
    header = read_header(trace_path)
    if not header.network.blocks:
        raise HwsimError(f"{trace_path}: a static network has no gated blocks to price; "
                         "give the trace of a DFS or SkipNet model")
    table = cost_table(header.network, arch, args.batch, TimingKind(args.timing))
    table = {"format": table.pop("format"), "arch": arch.name,
             "arch_sha256": hashlib.sha256(Path(arch_path).read_bytes()).hexdigest(),
             "input_shape": list(header.model.input_shape), **table}
    out = Path(args.out)
    write_file_atomic(out, json_text(table))
    print(f"wrote {out}: {len(table['blocks'])} blocks x {len(table['options'])} options on "
          f"{arch.name}")
    return 0
