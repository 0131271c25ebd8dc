"""Processing-element throughput: how many products a Fusion Unit finishes per cycle.

Bit Fusion (Sharma et al., ISCA 2018, Sec. 3): a Fusion Unit holds 16 BitBricks (2-bit x 2-bit
multipliers). Up to `spatial_max_bits` (8) the bricks fuse spatially: an FU computes
(8 / a) * (8 / w) products per cycle for native widths a, w. Above it they fuse temporally: a 16-bit
operand takes 2 passes of the 8-bit datapath, 32 bits take 4, 32x32 costs 16 FU-cycles per product.
Widths the datapath cannot run natively are rounded up to the next width it can (3 -> 4, 12 -> 16);
widths below a brick (binary) compute as one brick but still move their true width through memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from hwsim.arch import PeConfig, PeKind
from hwsim.errors import MappingError
from hwsim.layer import Precision


@dataclass(frozen=True, slots=True)
class FusionMode:
    """How one (act_bits, wgt_bits) pair runs on one Fusion Unit.

    Attributes:
        native: the widths the datapath actually computes at (rounded up).
        spatial_products: independent products one FU finishes per pass.
        temporal_passes: FU-cycles one pass group takes (1 up to spatial_max_bits).
        brick_ops_per_mac: BitBrick multiplications one product needs (work, not time).
    """

    native: Precision
    spatial_products: int
    temporal_passes: int
    brick_ops_per_mac: int

    @property
    def products_per_fu_cycle(self) -> Fraction:
        return Fraction(self.spatial_products, self.temporal_passes)


def native_bits(bits: int, pe: PeConfig) -> int:
    """The smallest width >= bits that the PE computes natively.

    Raises:
        MappingError: bits exceed what the PE can run at all.
    """
    if bits < 1:
        raise MappingError(f"{bits}-bit operands cannot be computed (skipped layers have no cost)")
    if bits > pe.temporal_max_bits:
        raise MappingError(
            f"{bits}-bit operands exceed this PE's widest mode ({pe.temporal_max_bits} bits); "
            f"raise pe.temporal_max_bits or quantize the layer")
    width = pe.brick_bits
    while width < bits:
        width *= 2
    return width


def fusion_mode(precision: Precision, pe: PeConfig) -> FusionMode:
    """Spatial and temporal fusion for one operand pair on a Bit Fusion PE."""
    if pe.kind is not PeKind.BITFUSION:
        raise MappingError(f"PE kind {pe.kind.value!r} is not modelled yet; use 'bitfusion'")
    act = native_bits(precision.act_bits, pe)
    wgt = native_bits(precision.wgt_bits, pe)
    act_groups = max(1, pe.spatial_max_bits // act)
    wgt_groups = max(1, pe.spatial_max_bits // wgt)
    passes = max(1, act // pe.spatial_max_bits) * max(1, wgt // pe.spatial_max_bits)
    brick_ops = (act // pe.brick_bits) * (wgt // pe.brick_bits)
    return FusionMode(Precision(act, wgt), act_groups * wgt_groups, passes, brick_ops)
