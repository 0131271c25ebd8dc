"""A layer as a loop nest, and the exact walk over its tiles.

Loop letters (used only in this module and hwsim.mapping.tiling):
    n  batch            k  output channels     c  input channels (the reduction)
    p  output rows      q  output columns      r  kernel size (square, r x r)
The output plane is tiled in square tiles of side `pq` (rows and columns together, as the
Bit Fusion simulator tiles OW = OH). The kernel is never tiled.

`walk_tiles` visits every tile in a given loop order and says, per step, what must be loaded and
written back. It is the brute-force reference for the closed-form traffic in `hwsim.mapping.tiling`
and
the step list the event-driven model in `hwsim.cost.event_sim` schedules.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass

from hwsim.workload.layer import Layer

LOOP_DIMS = ("n", "pq", "c", "k")
RELEVANT = {  # which tiled loops index each tensor
    "input": frozenset({"n", "pq", "c"}),
    "weight": frozenset({"c", "k"}),
    "output": frozenset({"n", "pq", "k"}),
}


@dataclass(frozen=True, slots=True)
class LoopNest:
    """A conv/FC layer in loop form; im2col lowering is already applied."""

    n: int
    k: int
    c: int
    p: int
    q: int
    r: int
    stride: int
    padding: int
    input_height: int
    input_width: int

    def extent(self, dim: str) -> int:
        return {"n": self.n, "pq": max(self.p, self.q), "c": self.c, "k": self.k}[dim]


@dataclass(frozen=True, slots=True)
class Tiling:
    """Tile sizes of the four tiled loops and their order, outermost first."""

    n: int
    pq: int
    c: int
    k: int
    order: tuple[str, ...] = LOOP_DIMS

    def size(self, dim: str) -> int:
        return {"n": self.n, "pq": self.pq, "c": self.c, "k": self.k}[dim]


def loop_nest(layer: Layer, batch: int, im2col: bool = False) -> LoopNest:
    """The loop nest of `layer` at `batch`; with im2col the kernel is folded into channels."""
    if im2col:
        return LoopNest(batch, layer.out_channels, layer.in_channels * layer.kernel ** 2,
                        layer.output_height, layer.output_width, 1, 1, 0,
                        layer.output_height, layer.output_width)
    return LoopNest(batch, layer.out_channels, layer.in_channels, layer.output_height,
                    layer.output_width, layer.kernel, layer.stride, layer.padding,
                    layer.input_height, layer.input_width)


def input_span(start: int, count: int, nest: LoopNest, size: int) -> int:
    """Input rows (or columns) of an unpadded input that `count` outputs from `start` touch."""
    first = start * nest.stride - nest.padding
    last = (start + count - 1) * nest.stride - nest.padding + nest.r - 1
    return max(0, min(last, size - 1) - max(first, 0) + 1)


def spatial_tiles(nest: LoopNest, side: int) -> list[tuple[int, int, int, int]]:
    """Output tiles as (row0, rows, col0, cols), row-major."""
    rows = [(r0, min(side, nest.p - r0)) for r0 in range(0, nest.p, side)]
    cols = [(c0, min(side, nest.q - c0)) for c0 in range(0, nest.q, side)]
    return [(r0, nr, c0, nc) for (r0, nr), (c0, nc) in itertools.product(rows, cols)]


@dataclass(frozen=True, slots=True)
class TileStep:
    """One innermost iteration: tile extents and the DRAM traffic it causes (element counts)."""

    n: int
    pq_rows: int
    pq_cols: int
    c: int
    k: int
    input_loaded: int
    weight_loaded: int
    output_read: int
    output_written: int  # the output tile evicted before this step (0 if none)


def _chunks(extent: int, size: int) -> list[tuple[int, int]]:
    return [(start, min(size, extent - start)) for start in range(0, extent, size)]


def walk_tiles(nest: LoopNest, tiling: Tiling, read_before_write: bool) -> Iterator[TileStep]:
    """Every tile step in loop order, with exact loads, psum reloads and write-backs.

    A tensor's tile is loaded when the tile indices it depends on change; an output tile is
    written back when it is evicted (and at the end) and read back when revisited (or always,
    with `read_before_write`). The final write-back is yielded as a step with no compute.
    """
    ranges = {"n": _chunks(nest.n, tiling.n), "c": _chunks(nest.c, tiling.c),
              "k": _chunks(nest.k, tiling.k), "pq": spatial_tiles(nest, tiling.pq)}
    resident: dict[str, tuple | None] = {"input": None, "weight": None, "output": None}
    visited: set[tuple] = set()
    pending_out = 0
    for combo in itertools.product(*(range(len(ranges[d])) for d in tiling.order)):
        idx = dict(zip(tiling.order, combo, strict=True))
        (_, nn), (_, cc) = ranges["n"][idx["n"]], ranges["c"][idx["c"]]
        _, kk = ranges["k"][idx["k"]]
        r0, nr, c0, nc = ranges["pq"][idx["pq"]]
        keys = {t: tuple(idx[d] for d in LOOP_DIMS if d in RELEVANT[t]) for t in RELEVANT}
        loads = {t: keys[t] != resident[t] for t in RELEVANT}
        out_elems = nn * nr * nc * kk
        in_elems = (nn * cc * input_span(r0, nr, nest, nest.input_height)
                    * input_span(c0, nc, nest, nest.input_width))
        written = 0
        read = 0
        if loads["output"]:
            written, pending_out = pending_out, out_elems
            if read_before_write or keys["output"] in visited:
                read = out_elems
            visited.add(keys["output"])
        resident.update(keys)
        yield TileStep(nn, nr, nc, cc, kk, in_elems if loads["input"] else 0,
                       cc * kk * nest.r * nest.r if loads["weight"] else 0, read, written)
    yield TileStep(0, 0, 0, 0, 0, 0, 0, 0, pending_out)


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def trips(nest: LoopNest, tiling: Tiling) -> dict[str, int]:
    """Iterations of each tiled loop."""
    return {"n": ceil_div(nest.n, tiling.n), "c": ceil_div(nest.c, tiling.c),
            "k": ceil_div(nest.k, tiling.k),
            "pq": ceil_div(nest.p, tiling.pq) * ceil_div(nest.q, tiling.pq)}


def candidate_sizes(extent: int, granule: int = 1) -> list[int]:
    """Power-of-two multiples of `granule` below `extent`, plus `extent` itself."""
    sizes = []
    size = granule
    while size < extent:
        sizes.append(size)
        size *= 2
    return sorted(set(sizes) | {extent})


ALL_ORDERS = tuple(itertools.permutations(LOOP_DIMS))
assert len(ALL_ORDERS) == math.factorial(4)
