"""Values of the trace format (header and records) and what makes them valid.

`hwsim.workload.trace` reads and writes files, `hwsim.workload.trace_json` maps these values to and
from JSON;
this module knows what a valid header and record are. Values validate themselves on creation,
raising `TraceError` with one `dotted.key: problem` line per problem (the file readers prefix
`PATH:LINE: `). The specification is docs/trace-format.md.
"""

from __future__ import annotations

import difflib
import enum
import json
import numbers
import re
from dataclasses import dataclass

from hwsim.errors import TraceError
from hwsim.workload.layer import Layer, LayerKind, Network, Precision

FORMAT_NAME = "hwsim-trace"
FORMAT_VERSION = 1
MAX_BITS = 32  # full precision in DFS (Shen et al., AAAI 2020): cost (b/32)^2

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class SourceKind(enum.Enum):
    TRAINED = "trained"  # decisions of a trained DFS model on real inputs
    SYNTHETIC = "synthetic"  # decisions drawn at random (hwsim.workload.synth)
    BENCHMARK = "benchmark"  # a static network (Bit Fusion benchmarks), no decisions


def is_int(value: object) -> bool:
    """True for Python and numpy integers, False for bool."""
    return type(value) is int or (isinstance(value, numbers.Integral)
                                  and not isinstance(value, bool))


def is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def show_value(value: object) -> str:
    text = json.dumps(value, default=repr)
    return text if len(text) <= 60 else text[:57] + "..."


def suggest_key(key: str, choices: tuple[str, ...] | frozenset[str]) -> str:
    close = difflib.get_close_matches(key, sorted(choices), n=1)
    if close:
        return f"; did you mean '{close[0]}'?"
    return "; expected one of " + ", ".join(sorted(choices))


def raise_problems(problems: list[str], where: str = "") -> None:
    if problems:
        raise TraceError("\n".join(f"{where}: {p}" if where else p for p in problems))


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """Which model produced the trace, on which data, and how.

    Attributes:
        input_shape: (channels, height, width) of one input.
        checkpoint_sha256: hex digest of the checkpoint; required when `source` is TRAINED.
        generator: for SYNTHETIC traces, the exact parameters that regenerate the file.
        cost_table_sha256: hex digest of the `hwsim cost-table` the gates were trained against
            (hardware-aware DFS); None for the paper's (b/32)^2 cost.
    """

    name: str
    dataset: str
    input_shape: tuple[int, ...]
    source: SourceKind
    checkpoint_sha256: str | None = None
    generator: str | None = None
    cost_table_sha256: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.input_shape, list):
            object.__setattr__(self, "input_shape", tuple(self.input_shape))
        raise_problems(_model_problems(self))


def _model_problems(model: ModelInfo) -> list[str]:
    problems = []
    for key in ("name", "dataset"):
        if not isinstance(getattr(model, key), str) or not getattr(model, key):
            problems.append(f"model.{key}: must be a non-empty string")
    shape = model.input_shape
    if not (isinstance(shape, tuple) and shape and all(is_int(v) and v > 0 for v in shape)):
        problems.append(f"model.input_shape: must be positive integers [c, h, w] (got {shape!r})")
    if not isinstance(model.source, SourceKind):
        problems.append(f"model.source: must be a SourceKind (got {model.source!r})")
    digest = model.checkpoint_sha256
    if digest is not None and not (isinstance(digest, str) and _SHA256_HEX.fullmatch(digest)):
        problems.append("model.checkpoint_sha256: must be 64 lowercase hex digits or null")
    if digest is None and model.source is SourceKind.TRAINED:
        problems.append("model.checkpoint_sha256: required when source is 'trained'; "
                        "record the sha256 of the checkpoint the decisions came from")
    table = model.cost_table_sha256
    if table is not None and not (isinstance(table, str) and _SHA256_HEX.fullmatch(table)):
        problems.append("model.cost_table_sha256: must be 64 lowercase hex digits or null")
    if model.generator is not None and not isinstance(model.generator, str):
        problems.append("model.generator: must be a string or null")
    return problems


@dataclass(frozen=True, slots=True)
class CpInfo:
    """Computation percentage, as fractions in [0, 1]; None when not known.

    `measured` is the paper's definition: mean over gated blocks and inputs of (b/32)^2
    (Shen et al., AAAI 2020); `measured_flop_weighted` weights blocks by their MACs;
    `accuracy` is top-1 on the traced split.
    """

    target: float | None = None
    measured: float | None = None
    measured_flop_weighted: float | None = None
    accuracy: float | None = None

    def __post_init__(self) -> None:
        problems = []
        for key in CP_KEYS:
            value = getattr(self, key)
            if value is not None and not (is_number(value) and 0.0 <= value <= 1.0):
                problems.append(f"cp.{key}: must be a fraction in [0, 1] or null "
                                f"(got {show_value(value)})")
        raise_problems(problems)


CP_KEYS = ("target", "measured", "measured_flop_weighted", "accuracy")


@dataclass(frozen=True, slots=True)
class TraceHeader:
    """Line 1 of a trace. On reading, the network takes the model's name (JSON has no other)."""

    model: ModelInfo
    network: Network
    cp: CpInfo = CpInfo()
    num_inputs: int | None = None

    def __post_init__(self) -> None:
        problems = []
        if not isinstance(self.model, ModelInfo):
            problems.append("model: must be a ModelInfo")
        if not isinstance(self.cp, CpInfo):
            problems.append("cp: must be a CpInfo")
        if not isinstance(self.network, Network):
            problems.append("network: must be an hwsim.workload.layer.Network")
        else:
            problems += network_problems(self.network)
        if self.num_inputs is not None and not (is_int(self.num_inputs) and self.num_inputs >= 0):
            problems.append(f"num_inputs: must be a non-negative integer or null "
                            f"(got {show_value(self.num_inputs)})")
        raise_problems(problems)


def _precision_problems(precision: object, key: str, fixed: bool) -> list[str]:
    if not isinstance(precision, Precision):
        return [f"{key}: must be a Precision (got {precision!r})"]
    act, wgt = precision.act_bits, precision.wgt_bits
    if not all(is_int(b) and 0 <= b <= MAX_BITS for b in (act, wgt)):
        return [f"{key}: act_bits and wgt_bits must be integers 0..{MAX_BITS} (got {act}/{wgt})"]
    if (act == 0) != (wgt == 0):
        return [f"{key}: act_bits {act} with wgt_bits {wgt}; skip is 0/0, otherwise both > 0"]
    if fixed and act == 0:
        return [f"{key}: a fixed precision cannot be skip (0/0); give the bits it runs at"]
    return []


def network_problems(network: Network) -> list[str]:
    """Every inconsistency in a network's blocks, options and layers, as `key: problem`."""
    problems = []
    blocks, options = network.blocks, network.options
    if not all(isinstance(b, str) and b for b in blocks):
        problems.append("blocks: block names must be non-empty strings")
    for name in {b for b in blocks if blocks.count(b) > 1}:
        problems.append(f"blocks: '{name}' is listed twice; block names must be unique")
    if bool(blocks) != bool(options):
        problems.append("options: a network with gated blocks needs options, a static network "
                        "(no blocks) must have none")
    for i, option in enumerate(options):
        problems += _precision_problems(option, f"options[{i}]", fixed=False)
    if len(set(options)) != len(options):
        problems.append("options: an (act_bits, wgt_bits) pair is listed twice")
    if not network.layers:
        problems.append("layers: the network has no layers")
    names = [layer.name for layer in network.layers]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"layers: the name '{name}' is used twice; layer names must be unique")
    for i, layer in enumerate(network.layers):
        problems += _layer_problems(layer, f"layers[{i}]", len(blocks))
    return problems


# Bounds that keep every product of the cost model inside int64 (channels^2 x area x batch).
LAYER_LIMITS = {"in_channels": 1 << 20, "out_channels": 1 << 20, "input_height": 1 << 15,
                "input_width": 1 << 15, "kernel": 1 << 8, "stride": 1 << 8}
MAX_PADDING = 1 << 8


def _layer_problems(layer: Layer, key: str, num_blocks: int) -> list[str]:
    if not isinstance(layer, Layer) or not isinstance(layer.kind, LayerKind):
        return [f"{key}: must be an hwsim.workload.layer.Layer with a LayerKind"]
    problems = [] if isinstance(layer.name, str) and layer.name else [f"{key}.name: empty"]
    for field, limit in LAYER_LIMITS.items():
        value = getattr(layer, field)
        if not (is_int(value) and 0 < value <= limit):
            problems.append(f"{key}.{field}: must be an integer in 1..{limit} "
                            f"(got {show_value(value)})")
    if not (is_int(layer.padding) and 0 <= layer.padding <= MAX_PADDING):
        problems.append(f"{key}.padding: must be an integer in 0..{MAX_PADDING} "
                        f"(got {show_value(layer.padding)})")
    if not problems and (layer.output_height < 1 or layer.output_width < 1):
        problems.append(f"{key}: the kernel does not fit the padded input")
    flat = (layer.input_height, layer.input_width, layer.kernel, layer.stride, layer.padding)
    if layer.kind is not LayerKind.CONV and flat != (1, 1, 1, 1, 0):
        problems.append(f"{key}: a {layer.kind.value} layer has a 1x1 input, kernel 1, stride 1 "
                        "and padding 0; describe it as a conv layer otherwise")
    if layer.block is not None and not (is_int(layer.block) and 0 <= layer.block < num_blocks):
        problems.append(f"{key}.block: index {layer.block} is not one of the {num_blocks} blocks")
    if layer.fixed is None and layer.block is None:
        problems.append(f"{key}.precision: 'block' needs the layer to belong to a block; "
                        "set its block or give it a fixed precision")
    if layer.fixed is not None:
        problems += _precision_problems(layer.fixed, f"{key}.precision", fixed=True)
    return problems


@dataclass(frozen=True, slots=True)
class InputRecord:
    """One input's decisions: entry j is the precision of gated block j (0/0 = skipped).

    Integers from numpy are accepted and stored as Python ints; lists become tuples.
    Whether the entries fit a header's blocks and options is `record_header_problem`.
    """

    id: int
    label: int | None
    prediction: int | None
    act_bits: tuple[int, ...]
    wgt_bits: tuple[int, ...]

    def __post_init__(self) -> None:
        for key in ("id", "label", "prediction"):
            value = getattr(self, key)
            if value is None and key != "id":
                continue
            if not (is_int(value) and 0 <= value < 2**63):
                null = "" if key == "id" else " or null"
                raise TraceError(f"{key}: must be an integer in [0, 2**63){null} "
                                 f"(got {show_value(value)})")
            object.__setattr__(self, key, int(value))
        act = _bits_tuple(self.act_bits, "act_bits")
        wgt = _bits_tuple(self.wgt_bits, "wgt_bits")
        if len(act) != len(wgt):
            raise TraceError(f"act_bits has {len(act)} entries but wgt_bits has {len(wgt)}; "
                             "both need one entry per gated block")
        for i, (a, w) in enumerate(zip(act, wgt, strict=True)):
            if (a == 0) != (w == 0):
                raise TraceError(f"act_bits[{i}] is {a} but wgt_bits[{i}] is {w}; a skipped "
                                 "block is 0 in both, a run block is > 0 in both")
        object.__setattr__(self, "act_bits", act)
        object.__setattr__(self, "wgt_bits", wgt)


def _bits_tuple(values: object, key: str) -> tuple[int, ...]:
    if hasattr(values, "tolist") and not isinstance(values, list | tuple):
        values = values.tolist()  # a numpy array
    if not isinstance(values, list | tuple):
        raise TraceError(f"{key}: must be a list of integers (got {show_value(values)})")
    if all(type(bits) is int for bits in values) and (
            not values or (min(values) >= 0 and max(values) <= MAX_BITS)):
        return tuple(values)  # the common case, checked at C speed
    for i, bits in enumerate(values):
        if not is_int(bits) or bits < 0:
            raise TraceError(f"{key}[{i}] is {show_value(bits)}; bits must be integers "
                             f"0..{MAX_BITS}")
        if bits > MAX_BITS:
            raise TraceError(f"{key}[{i}] is {bits}; bits must be at most {MAX_BITS} "
                             "(full precision)")
    return tuple(int(bits) for bits in values)


def record_header_problem(record: InputRecord, header: TraceHeader,
                          allowed: set[tuple[int, int]] | None = None) -> str | None:
    """What makes `record` disagree with `header` (block count, option set), or None.

    Args:
        allowed: the header's options as (act_bits, wgt_bits) pairs, when already computed.
    """
    blocks = header.network.blocks
    if len(record.act_bits) != len(blocks):
        return (f"record has {len(record.act_bits)} act_bits entries but the header lists "
                f"{len(blocks)} blocks; regenerate the trace or fix the header")
    if allowed is None:
        allowed = {(o.act_bits, o.wgt_bits) for o in header.network.options}
    for i, pair in enumerate(zip(record.act_bits, record.wgt_bits, strict=True)):
        if pair not in allowed:
            listed = ", ".join(str(o) for o in header.network.options)
            return (f"block {blocks[i]} (entry {i}) runs at act_bits/wgt_bits "
                    f"{pair[0]}/{pair[1]}, which is not in the header's options ({listed}); "
                    "add it to options or fix the record")
    return None
