"""Bit Fusion fusion modes (Sharma et al., ISCA 2018, and the DFS cost rule (b/32)^2)."""

from __future__ import annotations

import pytest

from hwsim.errors import MappingError
from hwsim.hardware.arch import PeConfig, PeKind
from hwsim.hardware.pe import fusion_mode, native_bits
from hwsim.workload.layer import Precision

PE = PeConfig(PeKind.BITFUSION)


@pytest.mark.parametrize(("act", "wgt", "products_per_cycle"), [
    (2, 2, 16), (4, 4, 4), (8, 2, 4), (2, 8, 4), (8, 4, 2), (8, 8, 1),
    (16, 16, 1 / 4), (32, 32, 1 / 16), (16, 8, 1 / 2), (1, 1, 16),
])
def test_products_per_fu_cycle_match_the_paper(act, wgt, products_per_cycle):
    assert float(fusion_mode(Precision(act, wgt), PE).products_per_fu_cycle) == products_per_cycle


def test_temporal_fusion_follows_the_dfs_cost_rule():
    full = fusion_mode(Precision(32, 32), PE).products_per_fu_cycle
    for bits in (8, 16):
        ratio = full / fusion_mode(Precision(bits, bits), PE).products_per_fu_cycle
        assert ratio == (bits / 32) ** 2


@pytest.mark.parametrize(("bits", "native"), [(1, 2), (2, 2), (3, 4), (5, 8), (9, 16), (17, 32)])
def test_unsupported_widths_round_up(bits, native):
    assert native_bits(bits, PE) == native


def test_widths_beyond_the_pe_are_an_error():
    with pytest.raises(MappingError, match="33-bit.*widest mode"):
        native_bits(33, PE)


def test_brick_ops_count_work_not_time():
    assert fusion_mode(Precision(8, 8), PE).brick_ops_per_mac == 16
    assert fusion_mode(Precision(32, 32), PE).brick_ops_per_mac == 256
    assert fusion_mode(Precision(1, 1), PE).brick_ops_per_mac == 1
