"""Static workloads: the Bit Fusion benchmark networks and SCALE-Sim topology files.

The eight benchmarks of Sharma et al., "Bit Fusion", ISCA 2018 (LeNet-5, CIFAR-10 QNN, SVHN QNN,
VGG-7, AlexNet WRPN, ResNet-18 WRPN, RNN, LSTM) live in
`hwsim/workload/data/bitfusion_networks.yaml`
and load as `Network` values whose every layer runs at a fixed precision. The same YAML layout
serves any user workload file through `load_networks`. SCALE-Sim topology CSVs (Samajdar et al.,
"A Systematic Methodology for Characterizing Scalability of DNN Accelerators using SCALE-Sim",
ISPASS 2020) load through `load_scalesim_topology`.
"""

from __future__ import annotations

import csv
import functools
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hwsim.errors import ConfigError
from hwsim.schema import (
    Field,
    ListOf,
    MapOf,
    Problems,
    Section,
    Tagged,
    boolean,
    closest,
    equal_to,
    int_between,
    load_yaml,
    non_negative_int,
    positive_int,
    read_text_file,
    text,
    validate,
)
from hwsim.workload.layer import Layer, LayerKind, Network, Precision

BENCHMARK_NAMES: tuple[str, ...] = (
    "lenet5", "cifar10", "svhn", "vgg7", "alexnet", "resnet18", "rnn", "lstm")
"""The Bit Fusion benchmarks, in the order of the reference list (shared/reference/bitfusion.md)."""

BENCHMARK_BATCH_SIZE = 16
"""Batch size of every benchmark in the paper and in the authors' simulator."""

BENCHMARK_FILE = Path(__file__).parent / "data" / "bitfusion_networks.yaml"
WORKLOAD_SCHEMA_VERSION = 1

SCALESIM_COLUMNS: tuple[str, ...] = (
    "Layer name", "IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width", "Channels",
    "Num Filter", "Strides")
"""Header of a SCALE-Sim topology CSV (each line also ends with a comma)."""

_BITS = Field(int_between(1, 32))
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]+$")


def _conv_rule(layer: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    padded = layer["input_size"] + 2 * layer["padding"]
    if layer["kernel"] > padded:
        yield "kernel", f"must not exceed input_size + 2 * padding = {padded}", layer["kernel"]
        return
    computed = (padded - layer["kernel"]) // layer["stride"] + 1
    if computed != layer["output_size"]:
        yield ("output_size", "must equal (input_size + 2 * padding - kernel) // stride + 1 = "
               f"{computed}", layer["output_size"])


def _unique_names_rule(network: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    seen: set[str] = set()
    for index, layer in enumerate(network["layers"]):
        if layer["name"] in seen:
            yield f"layers[{index}].name", "duplicates an earlier layer's name", layer["name"]
        seen.add(layer["name"])


def _network_name(value: Any) -> str | None:
    ok = isinstance(value, str) and _NAME_PATTERN.match(value)
    return None if ok else "must be letters, digits, '_', '.' or '-'"


_CONV_LAYER = Section({
    "name": Field(text), "kind": Field(equal_to("conv")),
    "kernel": Field(positive_int), "stride": Field(positive_int),
    "padding": Field(non_negative_int),
    "input_size": Field(positive_int), "output_size": Field(positive_int),
    "in_channels": Field(positive_int), "out_channels": Field(positive_int),
    "act_bits": _BITS, "wgt_bits": _BITS,
    "first_layer": Field(boolean, required=False),
}, rules=(_conv_rule,))

_FC_LAYER = Section({
    "name": Field(text), "kind": Field(equal_to("fc")),
    "in_features": Field(positive_int), "out_features": Field(positive_int),
    "act_bits": _BITS, "wgt_bits": _BITS,
})

_WORKLOAD_SPEC = Section({
    "schema_version": Field(equal_to(WORKLOAD_SCHEMA_VERSION, "the only version this hwsim reads")),
    "name": Field(text),
    "description": Field(text, required=False),
    "networks": MapOf(Section({
        "description": Field(text, required=False),
        "layers": ListOf(Tagged("kind", {"conv": _CONV_LAYER, "fc": _FC_LAYER})),
    }, rules=(_unique_names_rule,)), key_check=_network_name),
})


def _layer_from_clean(layer: dict[str, Any]) -> Layer:
    precision = Precision(layer["act_bits"], layer["wgt_bits"])
    if layer["kind"] == "fc":
        return Layer(layer["name"], LayerKind.FC, layer["in_features"], layer["out_features"],
                     fixed=precision)
    return Layer(
        layer["name"], LayerKind.CONV, layer["in_channels"], layer["out_channels"],
        input_height=layer["input_size"], input_width=layer["input_size"],
        kernel=layer["kernel"], stride=layer["stride"], padding=layer["padding"],
        fixed=precision, first_layer=layer.get("first_layer", False))


def load_networks(path: str | os.PathLike[str]) -> dict[str, Network]:
    """Read a workload YAML file (layout: hwsim/workload/data/bitfusion_networks.yaml).

    Every layer gets `fixed=Precision(act_bits, wgt_bits)` and no block; conv layers must list
    an `output_size` that their kernel, stride and padding reproduce.

    Returns:
        Network name -> Network, in file order.

    Raises:
        ConfigError: listing every problem as `file: dotted.key: what is wrong (got value)`.
    """
    clean = validate(load_yaml(path), _WORKLOAD_SPEC, str(path))
    return {name: Network(name, tuple(_layer_from_clean(layer) for layer in network["layers"]))
            for name, network in clean["networks"].items()}


@functools.cache
def _benchmarks() -> dict[str, Network]:
    networks = load_networks(BENCHMARK_FILE)
    if tuple(networks) != BENCHMARK_NAMES:
        raise ConfigError(f"{BENCHMARK_FILE}: networks: must be exactly "
                          f"{', '.join(BENCHMARK_NAMES)} in this order (got {', '.join(networks)})")
    return networks


def load_benchmark(name: str) -> Network:
    """One of the eight Bit Fusion benchmark networks (see BENCHMARK_NAMES).

    Raises:
        ConfigError: `name` is not a benchmark; the message lists the valid names.
    """
    if name not in BENCHMARK_NAMES:
        suggestion = closest(str(name), BENCHMARK_NAMES)
        hint = f" (did you mean '{suggestion}'?)" if suggestion else ""
        raise ConfigError(f"unknown benchmark {name!r}{hint}; valid names: "
                          + ", ".join(BENCHMARK_NAMES))
    return _benchmarks()[name]


# --- SCALE-Sim topology CSV --------------------------------------------------------------------


def _csv_records(path: str | os.PathLike[str]) -> list[tuple[int, list[str]]]:
    """(line number, stripped cells) per non-blank record, without the trailing empty cell."""
    source = read_text_file(path)
    records = []
    reader = csv.reader(io.StringIO(source))
    for row in reader:
        cells = [cell.strip() for cell in row]
        if cells and cells[-1] == "":
            cells.pop()
        if any(cells):
            records.append((reader.line_num, cells))
    return records


def _parse_counts(line: int, cells: list[str], problems: Problems) -> list[int] | None:
    """The seven integer columns after the name, or None after recording what is wrong."""
    counts = []
    for column, cell in zip(SCALESIM_COLUMNS[1:], cells[1:], strict=True):
        if not re.fullmatch(r"\d+", cell) or int(cell) == 0:
            problems.add(column, "must be a positive integer", cell, line=line)
        else:
            counts.append(int(cell))
    return counts if len(counts) == len(SCALESIM_COLUMNS) - 1 else None


def _scalesim_layer(line: int, cells: list[str], precision: Precision, first: bool,
                    problems: Problems) -> Layer | None:
    if len(cells) != len(SCALESIM_COLUMNS):
        problems.add("row", f"must have {len(SCALESIM_COLUMNS)} values: "
                     + ", ".join(SCALESIM_COLUMNS), ",".join(cells), line=line)
        return None
    counts = _parse_counts(line, cells, problems)
    if not cells[0]:
        problems.add("Layer name", "must not be empty", line=line)
    if counts is None or not cells[0]:
        return None
    height, width, filter_height, filter_width, channels, filters, stride = counts
    if filter_height != filter_width:
        problems.add("Filter Width", f"must equal Filter Height ({filter_height}): hwsim layers "
                     "have square kernels", filter_width, line=line)
        return None
    if filter_height > min(height, width):
        problems.add("Filter Height", "must not exceed the IFMAP size (which includes padding)",
                     filter_height, line=line)
        return None
    return Layer(cells[0], LayerKind.CONV, channels, filters, input_height=height,
                 input_width=width, kernel=filter_height, stride=stride, padding=0,
                 fixed=precision, first_layer=first)


def load_scalesim_topology(path: str | os.PathLike[str], act_bits: int,
                           wgt_bits: int) -> Network:
    """Read a SCALE-Sim topology CSV as a Network whose layers all run at act_bits/wgt_bits.

    SCALE-Sim's IFMAP sizes already include padding, so every layer has padding 0 and its input
    size is the IFMAP size. Every row becomes a conv layer (an FC row is a 1x1 conv on a 1x1
    input, as SCALE-Sim models it); the first row is the network's first layer. The network is
    named after the file.

    Raises:
        ConfigError: a bad header or row (`file:line: column: what is wrong (got value)`), an
            empty topology, a missing file, or bits outside 1..32.
    """
    where = str(path)
    for label, bits in (("act_bits", act_bits), ("wgt_bits", wgt_bits)):
        if (message := _BITS.check(bits)) is not None:
            raise ConfigError(f"{where}: {label}: {message} (got {bits!r})")
    records = _csv_records(path)
    if not records:
        raise ConfigError(f"{where}: empty file; expected the header "
                          + ", ".join(SCALESIM_COLUMNS))
    problems = Problems(where)
    (header_line, header), rows = records[0], records[1:]
    if header != list(SCALESIM_COLUMNS):
        problems.add("header", "must be " + ", ".join(SCALESIM_COLUMNS), ", ".join(header),
                     line=header_line)
    if not rows:
        problems.add("rows", "no layers after the header", line=header_line)
    precision = Precision(act_bits, wgt_bits)
    layers = [_scalesim_layer(line, cells, precision, index == 0, problems)
              for index, (line, cells) in enumerate(rows)]
    problems.raise_if_any()
    return Network(Path(path).stem, tuple(layer for layer in layers if layer is not None))
