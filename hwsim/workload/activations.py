"""Which tensor each layer reads, what else is live while it runs, and who reads its output.

The trace's layer table is a list in execution order; residual structure is read from the layer
names of the trace format (docs/trace-format.md): `P.conv1`, `P.conv2` and the optional
`P.shortcut` form a residual block with prefix P, whose input stays live until the block's add;
`*.gate.*` layers read a pooled vector of the block input (C values, always tiny). Every other
layer reads the output of the layer before it (a chain: stem, FC, the Bit Fusion benchmarks).

  conv1     reads the block input x, writes h;        live: x, h
  conv2     reads h, writes y (the block output);     live: x, h, y
  shortcut  reads x, adds into y in place;            live: x, y (its output is y)
  skipped block: its output is x (or the shortcut's), nothing else runs.

A compiler allocates the activation buffer before it knows the per-input decisions, so fits are
judged at each tensor's storage width, the widest any of its readers can use (a gated reader can
take any option of its block); a tensor whose readers all follow the producer's own decision
(h, read by conv2 of the same block) is stored at that decision's width.
"""

from __future__ import annotations

from dataclasses import dataclass

from hwsim.workload.layer import FULL, Layer, LayerKind, Network

BLOCK_ROLES = ("conv1", "conv2", "shortcut")


@dataclass(frozen=True, slots=True)
class LayerFlow:
    """The activation tensors around one layer (element counts per input).

    Attributes:
        producer: index of the layer whose output this layer reads; None for the network input.
        output_of: index of the layer whose output tensor this layer writes into (itself, or
            conv2 for a shortcut that adds into the block output).
        live_elems: elements of another tensor that must stay live while this layer runs (the
            block input, while conv2 runs), written by layer `live_of`.
        storage_bits: the width its output is stored at; None when every reader follows this
            layer's own block decision (stored at the decision's activation width).
        tiny: a gate layer (pooled vector in, a few values out): always on chip.
    """

    producer: int | None
    output_of: int
    in_elems: int
    out_elems: int
    live_elems: int
    live_of: int | None
    storage_bits: int | None
    tiny: bool


def _role(layer: Layer) -> tuple[str, str] | None:
    """(block prefix, role) for conv1/conv2/shortcut layers, else None."""
    prefix, _, last = layer.name.rpartition(".")
    return (prefix, last) if prefix and last in BLOCK_ROLES else None


def _reader_bits(reader: Layer, network: Network) -> int:
    if reader.kind is LayerKind.GATE or reader.fixed is not None:
        return (reader.fixed or FULL).act_bits
    return max((p.act_bits for p in network.options), default=FULL.act_bits)


def activation_flow(network: Network) -> tuple[LayerFlow, ...]:
    """Per layer, in the network's order (see the module docstring)."""
    layers = network.layers
    producer: list[int | None] = [None] * len(layers)
    output_of = list(range(len(layers)))
    live: list[int | None] = [None] * len(layers)
    current: int | None = None  # the layer whose output is the main stream
    block_input: dict[str, int | None] = {}
    block_output: dict[str, int] = {}
    for i, layer in enumerate(layers):
        role = _role(layer)
        if layer.kind is LayerKind.GATE:
            producer[i] = current
            continue
        if role is None:
            producer[i], current = current, i
            continue
        prefix, name = role
        if name == "conv1":
            block_input[prefix] = current
            producer[i] = current
        elif name == "conv2":
            conv1 = i - 1 if i and _role(layers[i - 1]) == (prefix, "conv1") else None
            producer[i] = conv1 if conv1 is not None else current
            live[i] = block_input.get(prefix)
            block_output[prefix] = current = i
        else:  # shortcut: reads the block input, adds into the block output
            producer[i] = block_input.get(prefix, current)
            if prefix in block_output:  # its output is added into the block output in place
                output_of[i] = current = block_output[prefix]
    readers: list[list[int]] = [[] for _ in layers]
    for i, p in enumerate(producer):
        if p is not None:
            readers[output_of[p]].append(i)
    flows = []
    for i, layer in enumerate(layers):
        mine = readers[output_of[i]]
        same_decision = (bool(mine) and layer.block is not None
                         and all(layers[r].block == layer.block for r in mine))
        storage = None if same_decision else max(
            (_reader_bits(layers[r], network) for r in mine),
            default=(layer.fixed or FULL).act_bits)
        x = live[i]
        live_elems = layers[x].out_channels * _out_area(layers[x]) if x is not None else 0
        flows.append(LayerFlow(producer[i], output_of[i],
                               layer.in_channels * layer.input_height * layer.input_width,
                               layer.out_channels * _out_area(layer), live_elems, x, storage,
                               layer.kind is LayerKind.GATE))
    return tuple(flows)


def _out_area(layer: Layer) -> int:
    return layer.output_height * layer.output_width
