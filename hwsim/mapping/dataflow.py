"""Compute cycles of a conventional systolic array under the OS, WS and IS dataflows.

The cycle model is SCALE-Sim's (Samajdar et al., "A Systematic Methodology for Characterizing
Scalability of DNN Accelerators using SCALE-Sim", ISPASS 2020), learnt from its documentation and
from running SCALE-Sim 3.0.0 (no code taken). A layer is a matrix product: every output pixel of
every batch image is one row of the im2col matrix, so with R x C PEs
    Sr = n * p * q    output pixels (batch included)
    Sc = k            filters
    T  = c * r * r    the window every output reduces over
Two of the three operands are laid out over the array and the third streams through it; the
array runs `folds` such mappings one after another, each costing its stream length plus the
cycles to fill and drain the array:

    dataflow  rows x cols hold    streams   folds                       fill and drain
    OS        Sr x Sc             T         ceil(Sr / R) * ceil(Sc / C)  R + C - 2
    WS        T x Sc              Sr        ceil(T / R) * ceil(Sc / C)   2R + C - 2
    IS        T x Sr              Sc        ceil(T / R) * ceil(Sr / C)   2R + C - 2

(in WS and IS the stationary operand is loaded through the rows first, hence the extra R).
SCALE-Sim counts one cycle less per layer than folds x (stream + fill), because its cycle count
starts at 0; we do the same, so `compute_cycles` equals its "Total Cycles" column (initial
prefetch excluded, CALC bandwidth), e.g. 3x3, 16x16 output, 32->32 channels on 16x16: OS 10,175,
WS 10,871 (reference bitfusion.md). A fixed PE that needs several passes per product (operands
wider than its multiplier) repeats every fold once per pass.

Loop letters as in `hwsim.mapping.loopnest` (n batch, k output channels, c input channels, p x q
output,
r kernel).
"""

from __future__ import annotations

from dataclasses import dataclass

from hwsim.errors import MappingError
from hwsim.hardware.arch import ArrayConfig, Dataflow
from hwsim.mapping.loopnest import LoopNest, ceil_div


@dataclass(frozen=True, slots=True)
class SystolicMapping:
    """How one layer runs on the array under one dataflow.

    Attributes:
        folds: mappings of the stationary operands run one after another (passes included).
        stream_cycles: cycles the moving operand streams through per fold.
        fill_drain_cycles: cycles to fill and drain the array per fold.
    """

    folds: int
    stream_cycles: int
    fill_drain_cycles: int

    @property
    def compute_cycles(self) -> int:
        """SCALE-Sim's total cycles (initial prefetch excluded): one less than the fold sum."""
        return self.folds * (self.stream_cycles + self.fill_drain_cycles) - 1


def systolic_mapping(nest: LoopNest, array: ArrayConfig, passes: int = 1) -> SystolicMapping:
    """Folds, stream length and fill/drain of one layer under the array's dataflow.

    Args:
        nest: the layer (im2col lowering, if any, already applied: the window is c * r * r).
        array: rows, columns and an OS, WS or IS dataflow.
        passes: passes of a fixed PE per product (1 when operands fit its multiplier).

    Raises:
        MappingError: the array's dataflow is `bitfusion` (not a systolic dataflow).
    """
    rows, cols = array.rows, array.cols
    pixels, filters, window = nest.n * nest.p * nest.q, nest.k, nest.c * nest.r * nest.r
    if array.dataflow is Dataflow.OS:
        folds = ceil_div(pixels, rows) * ceil_div(filters, cols)
        return SystolicMapping(folds * passes, window, rows + cols - 2)
    if array.dataflow is Dataflow.WS:
        folds = ceil_div(window, rows) * ceil_div(filters, cols)
        return SystolicMapping(folds * passes, pixels, 2 * rows + cols - 2)
    if array.dataflow is Dataflow.IS:
        folds = ceil_div(window, rows) * ceil_div(pixels, cols)
        return SystolicMapping(folds * passes, filters, 2 * rows + cols - 2)
    raise MappingError(f"dataflow {array.dataflow.value!r} is not a systolic dataflow "
                       f"(expected os, ws or is)")
