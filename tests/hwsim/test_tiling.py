"""Oracle: the closed-form DRAM traffic equals a brute-force walk over the loop nest."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwsim.mapping.loopnest import ALL_ORDERS, Tiling, loop_nest, walk_tiles
from hwsim.mapping.tiling import ArrayFolding, Capacities, OperandBits, search_tiling
from hwsim.workload.layer import Layer, LayerKind

BITS = OperandBits(act=8, wgt=4, psum=32)
UNLIMITED = Capacities(10**12, 10**12, 10**12)


def brute_force(nest, tiling, read_before_write):
    totals = dict(input=0, weight=0, out_read=0, out_write=0)
    for step in walk_tiles(nest, tiling, read_before_write):
        totals["input"] += step.input_loaded
        totals["weight"] += step.weight_loaded
        totals["out_read"] += step.output_read
        totals["out_write"] += step.output_written
    return totals


def closed_form(nest, tiling, read_before_write):
    """Force the search onto one tiling by making it the only candidate that fits exactly."""
    from hwsim.mapping import tiling as tiling_module

    grid = {"n": [tiling.n], "pq": [tiling.pq], "c": [tiling.c], "k": [tiling.k]}
    original = tiling_module._candidate_grid
    orders = tiling_module.ALL_ORDERS
    try:
        import numpy as np

        tiling_module._candidate_grid = lambda _nest, _pow2=False: {
            d: np.array(v) for d, v in grid.items()}
        tiling_module.ALL_ORDERS = (tiling.order,)
        _, traffic = search_tiling(nest, BITS, UNLIMITED, ArrayFolding(4, 4, 1),
                                   read_before_write, 64)
    finally:
        tiling_module._candidate_grid = original
        tiling_module.ALL_ORDERS = orders
    return traffic


LAYERS = [
    Layer("conv", LayerKind.CONV, 6, 10, 9, 7, 3, 1, 1),
    Layer("strided", LayerKind.CONV, 5, 4, 11, 11, 3, 2, 1),
    Layer("fc", LayerKind.FC, 12, 7),
    Layer("first", LayerKind.CONV, 3, 8, 8, 8, 5, 1, 2, first_layer=True),
]


@pytest.mark.parametrize("layer", LAYERS, ids=lambda layer: layer.name)
@pytest.mark.parametrize("read_before_write", [False, True])
def test_analytic_traffic_equals_brute_force(layer, read_before_write):
    nest = loop_nest(layer, batch=3, im2col=layer.first_layer)
    sizes = itertools.product([1, 2, 3], [2, 4], [1, 4], [3, 8])
    for (n, pq, c, k), order in itertools.product(sizes, ALL_ORDERS[::5]):
        tiling = Tiling(n, pq, c, k, order)
        walked = brute_force(nest, tiling, read_before_write)
        traffic = closed_form(nest, tiling, read_before_write)
        assert traffic.input_read_bits == walked["input"] * BITS.act, (tiling, layer)
        assert traffic.weight_read_bits == walked["weight"] * BITS.wgt, (tiling, layer)
        assert traffic.output_read_bits == walked["out_read"] * BITS.psum, (tiling, layer)
        assert traffic.output_write_bits == walked["out_write"] * BITS.psum, (tiling, layer)


@settings(max_examples=40, deadline=None)
@given(c=st.integers(1, 9), k=st.integers(1, 9), size=st.integers(2, 9),
       kernel=st.sampled_from([1, 3]),
       stride=st.integers(1, 2), batch=st.integers(1, 3), order=st.sampled_from(ALL_ORDERS),
       tiles=st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 5), st.integers(1, 5)))
def test_traffic_oracle_property(c, k, size, kernel, stride, batch, order, tiles):
    layer = Layer("x", LayerKind.CONV, c, k, size, size, kernel, stride, kernel // 2)
    nest = loop_nest(layer, batch)
    tiling = Tiling(*tiles, order)
    walked = brute_force(nest, tiling, False)
    traffic = closed_form(nest, tiling, False)
    assert traffic.input_read_bits == walked["input"] * BITS.act
    assert traffic.weight_read_bits == walked["weight"] * BITS.wgt
    assert traffic.output_write_bits == walked["out_write"] * BITS.psum


def test_every_tensor_is_read_at_least_once():
    layer = LAYERS[0]
    nest = loop_nest(layer, batch=2)
    _, traffic = search_tiling(nest, BITS, Capacities(4096, 4096, 4096), ArrayFolding(4, 4, 1),
                               False, 64)
    assert traffic.weight_read_bits >= layer.weight_count * BITS.wgt
    assert traffic.output_write_bits >= 2 * layer.out_channels * 9 * 7 * BITS.psum


def test_nothing_fits_is_a_returned_value():
    nest = loop_nest(LAYERS[0], batch=1)
    assert search_tiling(nest, BITS, Capacities(8, 8, 8), ArrayFolding(4, 4, 1), False, 64) is None
