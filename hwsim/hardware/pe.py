"""Processing-element throughput: how many products one PE finishes per cycle, for each PE kind.

Every kind is expressed as a `FusionMode` (products per PE per pass, passes, bit-level work per
product), so the tiling and timing models need no per-kind code.

bitfusion -- Bit Fusion (Sharma et al., ISCA 2018, Sec. 3): a Fusion Unit holds 16 BitBricks
(2-bit x 2-bit multipliers). Up to `spatial_max_bits` (8) the bricks fuse spatially: an FU computes
(8 / a) * (8 / w) products per cycle for native widths a, w. Above it they fuse temporally: a 16-bit
operand takes 2 passes of the 8-bit datapath, 32 bits take 4, 32x32 costs 16 FU-cycles per product.
Widths the datapath cannot run natively are rounded up to the next width it can (3 -> 4, 12 -> 16);
widths below a brick (binary) compute as one brick but still move their true width through memory.

fixed -- one multiplier of `multiplier_bits` per PE (an Eyeriss- or TPU-like array): narrower
operands gain nothing (they run at the multiplier's width); wider ones take extra passes, one per
pair of multiplier-wide slices, as in temporal fusion (16x16 on an 8-bit multiplier: 4 passes).

bit_serial -- Stripes (Judd et al., MICRO 2016): each of the PE's lanes (`bricks_per_unit`, 16 in
Stripes' serial inner-product unit) multiplies a `multiplier_bits`-wide weight by one activation
bit per cycle, so a product takes exactly act_bits cycles (any width 1..temporal_max_bits, no
rounding) and time is proportional to the activation width; wider weights cannot run.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from hwsim.errors import MappingError
from hwsim.hardware.arch import PeConfig, PeKind
from hwsim.workload.layer import Precision


@dataclass(frozen=True, slots=True)
class FusionMode:
    """How one (act_bits, wgt_bits) pair runs on one PE (a Fusion Unit for bitfusion).

    Attributes:
        native: the widths the datapath actually computes at (rounded up).
        spatial_products: independent products one PE finishes per pass (bit-serial: lanes).
        temporal_passes: PE-cycles one pass group takes (bitfusion: 1 up to spatial_max_bits;
            fixed: one per pair of multiplier-wide slices; bit-serial: the activation bits).
        brick_ops_per_mac: bit-level unit operations one product needs (work, not time):
            BitBrick multiplications, multiplier operations, or lane-cycles.
    """

    native: Precision
    spatial_products: int
    temporal_passes: int
    brick_ops_per_mac: int

    @property
    def products_per_fu_cycle(self) -> Fraction:
        return Fraction(self.spatial_products, self.temporal_passes)


def _round_up(bits: int, unit: int, widest: int, what: str = "operands") -> int:
    """The smallest unit * 2^k >= bits, for 1 <= bits <= widest."""
    if bits < 1:
        raise MappingError(f"{bits}-bit operands cannot be computed (skipped layers have no cost)")
    if bits > widest:
        raise MappingError(
            f"{bits}-bit {what} exceed this PE's widest mode ({widest} bits); "
            f"raise pe.temporal_max_bits or quantize the layer")
    width = unit
    while width < bits:
        width *= 2
    return width


def native_bits(bits: int, pe: PeConfig) -> int:
    """The smallest width >= bits that a bitfusion or fixed PE computes natively.

    Raises:
        MappingError: bits exceed what the PE can run at all.
    """
    unit = pe.multiplier_bits if pe.kind is PeKind.FIXED else pe.brick_bits
    return _round_up(bits, unit, pe.temporal_max_bits)


def fusion_mode(precision: Precision, pe: PeConfig) -> FusionMode:
    """Products per pass, passes and bit-level work of one operand pair on one PE.

    Raises:
        MappingError: a width the PE cannot run.
    """
    if pe.kind is PeKind.FIXED:
        return _fixed_mode(precision, pe)
    if pe.kind is PeKind.BIT_SERIAL:
        return _bit_serial_mode(precision, pe)
    return _bitfusion_mode(precision, pe)


def _bitfusion_mode(precision: Precision, pe: PeConfig) -> FusionMode:
    """Spatial and temporal fusion for one operand pair on a Bit Fusion PE."""
    act = native_bits(precision.act_bits, pe)
    wgt = native_bits(precision.wgt_bits, pe)
    act_groups = max(1, pe.spatial_max_bits // act)
    wgt_groups = max(1, pe.spatial_max_bits // wgt)
    passes = max(1, act // pe.spatial_max_bits) * max(1, wgt // pe.spatial_max_bits)
    brick_ops = (act // pe.brick_bits) * (wgt // pe.brick_bits)
    return FusionMode(Precision(act, wgt), act_groups * wgt_groups, passes, brick_ops)


def _fixed_mode(precision: Precision, pe: PeConfig) -> FusionMode:
    """One product per pass; a wide operand is cut into multiplier-wide slices, one pass per
    pair of slices. `brick_ops_per_mac` counts multiplier operations (the PE's one brick)."""
    act = native_bits(precision.act_bits, pe)
    wgt = native_bits(precision.wgt_bits, pe)
    passes = (act // pe.multiplier_bits) * (wgt // pe.multiplier_bits)
    return FusionMode(Precision(act, wgt), 1, passes, passes)


def _bit_serial_mode(precision: Precision, pe: PeConfig) -> FusionMode:
    """One product per lane (`bricks_per_unit` lanes) at a time, one activation bit per cycle;
    work is lane-cycles."""
    act = precision.act_bits
    _round_up(act, 1, pe.temporal_max_bits, "activations")
    if precision.wgt_bits > pe.multiplier_bits:
        raise MappingError(
            f"{precision.wgt_bits}-bit weights exceed this bit-serial PE's "
            f"{pe.multiplier_bits}-bit lanes; raise pe.multiplier_bits or quantize the layer")
    if precision.wgt_bits < 1:
        raise MappingError(f"{precision.wgt_bits}-bit weights cannot be computed")
    return FusionMode(Precision(act, pe.multiplier_bits), pe.bricks_per_unit, act, act)
