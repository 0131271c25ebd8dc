"""`hwsim list`: the shipped arch configs, benchmark networks and traces, usable by name."""

from __future__ import annotations

import argparse

from hwsim.errors import HwsimError
from hwsim.hardware.arch import load_arch
from hwsim.report import format_table
from hwsim.shipped import shipped
from hwsim.workload.benchmarks import BENCHMARK_NAMES, load_benchmark
from hwsim.workload.trace import read_header


def add_parser(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("list", help="the shipped arch configs, benchmarks and traces (by name)")


def _archs() -> list[list[str]]:
    rows = []
    for name, path in shipped("arch").items():
        try:
            arch = load_arch(path)
            shape = f"{arch.array.rows}x{arch.array.cols} {arch.pe.kind.value}"
            mapping = arch.mapping.objective.value
        except HwsimError as err:  # a broken shipped file is shown, not hidden
            shape, mapping = f"invalid: {err}", "-"
        rows.append([name, shape, mapping, str(path)])
    return rows


def _traces() -> list[list[str]]:
    rows = []
    for name, path in shipped("trace").items():
        try:
            header = read_header(path)
            cp = header.cp.measured
            accuracy = header.cp.accuracy
            rows.append([name, header.network.name, str(header.num_inputs),
                         "-" if cp is None else f"{cp:.3f}",
                         "-" if accuracy is None else f"{100 * accuracy:.2f}%",
                         header.model.source.value, str(path)])
        except HwsimError as err:
            rows.append([name, f"invalid: {err}", "-", "-", "-", "-", str(path)])
    return rows


def run(args: argparse.Namespace) -> int:
    print("arch configs (--arch NAME):")
    print(format_table(["name", "array", "mapping objective", "file"], _archs()))
    print("\nbenchmark networks (--benchmark NAME):")
    print(format_table(["name", "layers"], [[name, str(len(load_benchmark(name).layers))]
                                            for name in BENCHMARK_NAMES]))
    print("\ntraces (--trace NAME):")
    print(format_table(["name", "network", "inputs", "cp", "accuracy", "source", "file"],
                       _traces()))
    return 0
