"""The JSON form of a trace's header and records, read strictly.

`header_from_dict` first checks the JSON shape (unknown keys with a did-you-mean, missing keys,
wrong types), collecting every problem, then builds the values of `hwsim.workload.trace_schema`,
whose
own checks (ranges, block references, option set) add theirs. Each message line reads
`WHERE: dotted.key: what is wrong`. The specification is docs/trace-format.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from hwsim.errors import TraceError
from hwsim.workload.layer import Layer, LayerKind, Network, Precision
from hwsim.workload.trace_schema import (
    CP_KEYS,
    FORMAT_NAME,
    FORMAT_VERSION,
    MAX_BITS,
    CpInfo,
    InputRecord,
    ModelInfo,
    SourceKind,
    TraceHeader,
    is_int,
    is_number,
    raise_problems,
    record_header_problem,
    show_value,
    suggest_key,
)

_T = TypeVar("_T")

_HEADER_KEYS = frozenset({"format", "version", "model", "options", "cp", "blocks", "layers",
                          "num_inputs"})
_MODEL_KEYS = frozenset({"name", "dataset", "input_shape", "source", "checkpoint_sha256",
                         "generator", "cost_table_sha256"})
_OPTIONAL_MODEL_KEYS = frozenset({"checkpoint_sha256", "generator", "cost_table_sha256"})
_BITS_KEYS = frozenset({"act_bits", "wgt_bits"})
_COMMON_LAYER_KEYS = frozenset({"name", "kind", "block", "precision", "first_layer"})
_CONV_KEYS = _COMMON_LAYER_KEYS | {"in_channels", "out_channels", "input_size", "kernel",
                                   "stride", "padding"}
_FC_KEYS = _COMMON_LAYER_KEYS | {"in_features", "out_features"}
RECORD_KEYS = frozenset({"id", "label", "prediction", "act_bits", "wgt_bits"})


class _Fields:
    """Strict reader of one JSON object: unknown and missing keys and wrong types are collected
    into `problems` as `dotted.key: what is wrong`; getters return None for absent or bad values.
    """

    def __init__(self, obj: object, path: str, keys: frozenset[str], required: frozenset[str],
                 problems: list[str]) -> None:
        self.path, self.problems = path, problems
        self.obj: dict[str, object] = obj if isinstance(obj, dict) else {}
        if not isinstance(obj, dict):
            self.fail("", f"must be a JSON object (got {show_value(obj)})")
            return
        for key in obj:
            if key not in keys:
                self.fail(key, f"unknown key{suggest_key(key, keys)}")
        for key in sorted(required - obj.keys()):
            self.fail(key, "missing key; add it")

    def fail(self, key: str, message: str) -> None:
        name = ".".join(part for part in (self.path, key) if part) or "header"
        self.problems.append(f"{name}: {message}")

    def get(self, key: str, kind: str, nullable: bool = False) -> object:
        """The value of `key` if it has JSON type `kind` (int, str, number, bool, list)."""
        if key not in self.obj or (nullable and self.obj[key] is None):
            return None
        value = self.obj[key]
        checks = {"int": is_int, "str": lambda v: isinstance(v, str), "number": is_number,
                  "bool": lambda v: isinstance(v, bool), "list": lambda v: isinstance(v, list)}
        if checks[kind](value):
            return value
        names = {"int": "an integer", "str": "a string", "number": "a number",
                 "bool": "true or false", "list": "a list"}
        self.fail(key, f"must be {names[kind]}{' or null' if nullable else ''} "
                       f"(got {show_value(value)})")
        return None


def header_to_dict(header: TraceHeader) -> dict[str, object]:
    """The JSON object of line 1."""
    model, cp, network = header.model, header.cp, header.network
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "model": {"name": model.name, "dataset": model.dataset,
                  "input_shape": list(model.input_shape), "source": model.source.value,
                  "checkpoint_sha256": model.checkpoint_sha256, "generator": model.generator,
                  **({"cost_table_sha256": model.cost_table_sha256}
                     if model.cost_table_sha256 is not None else {})},
        "options": [_bits_to_dict(option) for option in network.options],
        "cp": {key: getattr(cp, key) for key in CP_KEYS},
        "blocks": list(network.blocks),
        "layers": [_layer_to_dict(layer, network.blocks) for layer in network.layers],
        "num_inputs": header.num_inputs,
    }


def _bits_to_dict(precision: Precision) -> dict[str, int]:
    return {"act_bits": precision.act_bits, "wgt_bits": precision.wgt_bits}


def _layer_to_dict(layer: Layer, blocks: tuple[str, ...]) -> dict[str, object]:
    data: dict[str, object] = {"name": layer.name, "kind": layer.kind.value}
    if layer.kind is LayerKind.CONV:
        data.update(in_channels=layer.in_channels, out_channels=layer.out_channels,
                    input_size=[layer.input_height, layer.input_width], kernel=layer.kernel,
                    stride=layer.stride, padding=layer.padding)
    else:
        data.update(in_features=layer.in_channels, out_features=layer.out_channels)
    data["block"] = None if layer.block is None else blocks[layer.block]
    data["precision"] = "block" if layer.fixed is None else _bits_to_dict(layer.fixed)
    data["first_layer"] = layer.first_layer
    return data


def parse_header_line(raw: bytes, where: str) -> TraceHeader:
    """Parses line 1; `where` (e.g. 'trace.jsonl:1') prefixes every message."""
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TraceError(f"{where}: the header line is not valid JSON ({exc}); is this an "
                         "hwsim trace?") from None
    return header_from_dict(data, where)


def header_from_dict(data: object, where: str) -> TraceHeader:
    """Builds a header from the JSON object of line 1, reporting every problem at once.

    Raises:
        TraceError: one line `where: dotted.key: problem` per problem.
    """
    _check_format(data, where)
    problems: list[str] = []
    fields = _Fields(data, "", _HEADER_KEYS, _HEADER_KEYS - {"cp", "num_inputs"}, problems)
    model = None
    if "model" in fields.obj:
        model = _collect(problems, _model_from_dict, fields.obj["model"], problems)
    cp = _collect(problems, _cp_from_dict, fields.obj.get("cp", {}), problems)
    blocks = _blocks_from_dict(fields)
    options = [_bits_from_dict(o, f"options[{i}]", problems)
               for i, o in enumerate(fields.get("options", "list") or [])]
    index = {name: i for i, name in enumerate(blocks)}
    layers = [_layer_from_dict(obj, f"layers[{i}]", index, problems)
              for i, obj in enumerate(fields.get("layers", "list") or [])]
    num_inputs = fields.get("num_inputs", "int", nullable=True)
    raise_problems(problems, where)
    network = Network(model.name, tuple(layers), tuple(blocks), tuple(options))
    header = _collect(problems, TraceHeader, model, network, cp or CpInfo(), num_inputs)
    raise_problems(problems, where)
    return header


def _collect(problems: list[str], build: Callable[..., _T], *args: object) -> _T | None:
    """Calls `build(*args)`; a TraceError from value validation becomes problems."""
    try:
        return build(*args)
    except TraceError as exc:
        problems.extend(str(exc).splitlines())
        return None


def _check_format(data: object, where: str) -> None:
    if not isinstance(data, dict):
        raise TraceError(f"{where}: the header must be a JSON object (got {show_value(data)})")
    if data.get("format") != FORMAT_NAME:
        raise TraceError(f"{where}: format is {show_value(data.get('format'))}, not "
                         f"'{FORMAT_NAME}'; this is not an hwsim trace")
    version = data.get("version")
    if version != FORMAT_VERSION or not is_int(version):
        raise TraceError(f"{where}: version {show_value(version)} is not supported; "
                         f"this hwsim reads version {FORMAT_VERSION}")


def _model_from_dict(obj: object, problems: list[str]) -> ModelInfo | None:
    before = len(problems)
    fields = _Fields(obj, "model", _MODEL_KEYS, _MODEL_KEYS - _OPTIONAL_MODEL_KEYS, problems)
    name, dataset = fields.get("name", "str"), fields.get("dataset", "str")
    shape = fields.get("input_shape", "list")
    source_value = fields.get("source", "str")
    source = next((s for s in SourceKind if s.value == source_value), None)
    if source_value is not None and source is None:
        fields.fail("source", f"unknown source {show_value(source_value)}; use one of "
                              + ", ".join(s.value for s in SourceKind))
    digest = fields.get("checkpoint_sha256", "str", nullable=True)
    generator = fields.get("generator", "str", nullable=True)
    table = fields.get("cost_table_sha256", "str", nullable=True)
    if len(problems) > before:
        return None
    return ModelInfo(name, dataset, tuple(shape), source, digest, generator, table)


def _cp_from_dict(obj: object, problems: list[str]) -> CpInfo | None:
    before = len(problems)
    fields = _Fields(obj, "cp", frozenset(CP_KEYS), frozenset(), problems)
    values = {key: fields.get(key, "number", nullable=True) for key in CP_KEYS}
    return CpInfo(**values) if len(problems) == before else None


def _blocks_from_dict(fields: _Fields) -> list[str]:
    blocks = fields.get("blocks", "list") or []
    if not all(isinstance(b, str) for b in blocks):
        fields.fail("blocks", "must be a list of block names (strings)")
        return []
    return blocks


def _bits_from_dict(obj: object, path: str, problems: list[str]) -> Precision | None:
    fields = _Fields(obj, path, _BITS_KEYS, _BITS_KEYS, problems)
    act, wgt = fields.get("act_bits", "int"), fields.get("wgt_bits", "int")
    return None if act is None or wgt is None else Precision(act, wgt)


def _layer_from_dict(obj: object, path: str, block_index: dict[str, int],
                     problems: list[str]) -> Layer | None:
    kind_value = obj.get("kind") if isinstance(obj, dict) else None
    kind = next((k for k in LayerKind if k.value == kind_value), None)
    keys = {LayerKind.CONV: _CONV_KEYS, None: _CONV_KEYS | _FC_KEYS}.get(kind, _FC_KEYS)
    required = (keys if kind else _COMMON_LAYER_KEYS) - {"first_layer"}
    before = len(problems)
    fields = _Fields(obj, path, keys, required, problems)
    if kind is None and kind_value is not None:
        fields.fail("kind", f"unknown kind {show_value(kind_value)}; use conv, fc or gate")
    name = fields.get("name", "str")
    block = _layer_block(fields, block_index)
    fixed = _layer_precision(fields)
    first_layer = fields.get("first_layer", "bool") or False
    geometry = _layer_geometry(fields, kind)
    if len(problems) > before or kind is None or geometry is None:
        return None
    return Layer(name, kind, *geometry, block=block, fixed=fixed, first_layer=first_layer)


def _layer_block(fields: _Fields, block_index: dict[str, int]) -> int | None:
    name = fields.get("block", "str", nullable=True)
    if name is None:
        return None
    if name not in block_index:
        hint = suggest_key(name, tuple(block_index)) if block_index else "; the header lists none"
        fields.fail("block", f"unknown block '{name}'{hint}; add it to blocks or fix the name")
        return None
    return block_index[name]


def _layer_precision(fields: _Fields) -> Precision | None:
    if "precision" not in fields.obj:
        return None
    value = fields.obj["precision"]
    if value == "block":
        return None
    if isinstance(value, dict):
        return _bits_from_dict(value, f"{fields.path}.precision", fields.problems)
    fields.fail("precision", f"must be \"block\" or {{\"act_bits\": a, \"wgt_bits\": w}} "
                             f"(got {show_value(value)})")
    return None


def _layer_geometry(fields: _Fields, kind: LayerKind | None) -> tuple[int, ...] | None:
    """(in, out, height, width, kernel, stride, padding) as Layer takes them."""
    if kind is not LayerKind.CONV:
        values = (fields.get("in_features", "int"), fields.get("out_features", "int"))
        return None if None in values else (*values, 1, 1, 1, 1, 0)
    size = fields.get("input_size", "list")
    if size is not None and not (len(size) == 2 and all(is_int(v) for v in size)):
        fields.fail("input_size", f"must be [height, width] (got {show_value(size)})")
        size = None
    values = [fields.get(k, "int") for k in ("in_channels", "out_channels", "kernel", "stride",
                                              "padding")]
    if size is None or None in values:
        return None
    return values[0], values[1], size[0], size[1], *values[2:]


def record_from_obj(obj: object, header: TraceHeader, allowed: set[tuple[int, int]],
                    where: str) -> InputRecord:
    """Builds one record from its parsed JSON line and checks it against the header.

    Raises:
        TraceError: `where: problem` for the first problem found.
    """
    problems: list[str] = []
    _Fields(obj, "record", RECORD_KEYS, RECORD_KEYS, problems)
    raise_problems(problems, where)
    try:
        record = InputRecord(**obj)
    except TraceError as exc:
        raise TraceError(f"{where}: {exc}") from None
    problem = record_header_problem(record, header, allowed)
    if problem:
        raise TraceError(f"{where}: {problem}")
    return record


@dataclass(slots=True)
class RecordColumns:
    """Values of consecutive record lines (from `first_line` on), gathered while streaming
    and converted to numpy once; the conversion checks every value vectorized."""

    first_line: int = 2
    ids: list[object] = field(default_factory=list)
    labels: list[object] = field(default_factory=list)
    predictions: list[object] = field(default_factory=list)
    act_bits: list[object] = field(default_factory=list)
    wgt_bits: list[object] = field(default_factory=list)

    def add(self, obj: dict[str, object]) -> None:
        self.ids.append(obj["id"])
        self.labels.append(obj["label"])
        self.predictions.append(obj["prediction"])
        self.act_bits.append(obj["act_bits"])
        self.wgt_bits.append(obj["wgt_bits"])

    def record_obj(self, index: int) -> dict[str, object]:
        return {"id": self.ids[index], "label": self.labels[index],
                "prediction": self.predictions[index], "act_bits": self.act_bits[index],
                "wgt_bits": self.wgt_bits[index]}

    def to_arrays(self, num_blocks: int,
                  allowed: set[tuple[int, int]]) -> tuple[np.ndarray, ...] | None:
        """(ids, labels, predictions, act_bits, wgt_bits) with -1 for null, or None when any
        value is invalid (then check record by record to find which)."""
        count = len(self.ids)
        if count == 0:
            empty, bits = np.zeros(0, np.int64), np.zeros((0, num_blocks), np.int16)
            return empty, empty.copy(), empty.copy(), bits, bits.copy()
        try:
            ids = np.asarray(self.ids).reshape(count)
            labels = np.asarray([-1 if v is None else v for v in self.labels]).reshape(count)
            predictions = np.asarray([-1 if v is None else v for v in self.predictions])
            predictions = predictions.reshape(count)
            act = np.asarray(self.act_bits).reshape(count, num_blocks)
            wgt = np.asarray(self.wgt_bits).reshape(count, num_blocks)
        except (ValueError, TypeError, OverflowError):
            return None
        # an explicit -1 is invalid: only null means unknown
        if self.labels.count(-1) or self.predictions.count(-1):
            return None
        if not _scalars_valid(ids, labels, predictions) or not _bits_valid(act, wgt, allowed):
            return None
        return (ids.astype(np.int64), labels.astype(np.int64), predictions.astype(np.int64),
                act.astype(np.int16), wgt.astype(np.int16))


def _scalars_valid(*arrays: np.ndarray) -> bool:
    return all(a.dtype.kind == "i" and a.ndim == 1 and a.min() >= -1 for a in arrays) and bool(
        arrays[0].min() >= 0)


def _bits_valid(act: np.ndarray, wgt: np.ndarray, allowed: set[tuple[int, int]]) -> bool:
    if act.size == 0:
        return True  # a static network: every record has empty lists
    if act.dtype.kind != "i" or wgt.dtype.kind != "i":
        return False
    if min(act.min(), wgt.min()) < 0 or max(act.max(), wgt.max()) > MAX_BITS:
        return False
    codes = act.astype(np.int32) * (MAX_BITS + 1) + wgt
    allowed_codes = np.array([a * (MAX_BITS + 1) + w for a, w in allowed], dtype=np.int32)
    return bool(np.isin(codes, allowed_codes).all())


def first_duplicate(ids: np.ndarray) -> tuple[int, int] | None:
    """Positions (first, second) of the earliest repeated value in `ids`, or None."""
    order = np.argsort(ids, kind="stable")
    ordered = ids[order]
    repeats = np.nonzero(ordered[1:] == ordered[:-1])[0]
    if repeats.size == 0:
        return None
    second = int(order[repeats + 1].min())
    first = int(np.nonzero(ids == ids[second])[0][0])
    return first, second
