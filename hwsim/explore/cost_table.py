"""The simulator's cost of every (gated block, option), for training gates against it.

DFS prices a block at (b/32)^2 of its full-precision FLOPs; on a real accelerator memory traffic
falls only linearly with bits and blocks differ in cost. `cost_table` measures, per input, the
energy and latency of everything a gated block runs at each option (its convs at that option,
plus what runs whatever it chooses: its gate and a downsampling shortcut), and the fixed part
(stem, ungated blocks, FC). Per input, fixed + the sum over blocks of the chosen entries equals
`hwsim run`'s per-input energy and latency exactly at batch 1 (activation residency is a static
allocation, so no block's cost depends on another's choice); at `batch` N an entry assumes the
whole group takes that option.

Format `hwsim.cost_table/1` (JSON): arch name and sha256, network, input shape, batch, options,
blocks, `fixed` {energy_pj, latency_cycles}, `entries` [{block, option, energy_pj,
latency_cycles}] per input. docs/trace-format.md documents it beside the trace format.
"""

from __future__ import annotations

import numpy as np

from hwsim.cost.energy import COMPONENTS
from hwsim.cost.timing import TimingKind
from hwsim.hardware.arch import ArchConfig
from hwsim.simulation import Decisions, SimulationResult, simulate_network
from hwsim.workload.layer import Layer, Network, Precision

FORMAT = "hwsim.cost_table/1"


def _owner(layer: Layer, network: Network) -> int | None:
    """The gated block a layer belongs to: its own, or (gates) the block its name prefixes."""
    if layer.block is not None:
        return layer.block
    prefix, marker, _ = layer.name.partition(".gate.")
    if marker and prefix in network.blocks:
        return network.blocks.index(prefix)
    return None


def _per_input(result: SimulationResult, batch: int) -> list[tuple[float, float]]:
    """(energy pJ, latency cycles) of each layer for one input of a group of `batch`."""
    costs = []
    for summary in result.layers:
        t = summary.totals
        energy = sum(t[c] for c in COMPONENTS) / result.input_count
        costs.append((energy, (t["compute_cycles"] + t["stall_cycles"])))  # one group
    return costs


def cost_table(network: Network, arch: ArchConfig, batch: int = 1,
               timing: TimingKind = TimingKind.ANALYTIC) -> dict:
    """The table (see the module docstring); `network` must have gated blocks and options."""
    blocks, options = network.blocks, network.options
    runs = {}
    for option in options:  # every block at `option`, one group of `batch` inputs
        bits = np.full((batch, len(blocks)), option.act_bits, dtype=np.int16)
        wgt = np.full((batch, len(blocks)), option.wgt_bits, dtype=np.int16)
        runs[option] = _per_input(simulate_network(network, Decisions(bits, wgt), arch, batch,
                                                   timing), batch)
    entries = {(b, o): [0.0, 0.0] for b in range(len(blocks)) for o in options}
    fixed = [0.0, 0.0]
    for index, layer in enumerate(network.layers):
        owner = _owner(layer, network)
        for option in options:
            energy, cycles = runs[option][index]
            if owner is not None:
                entries[(owner, option)][0] += energy
                entries[(owner, option)][1] += cycles
        if owner is None:
            energy, cycles = runs[options[0]][index]
            fixed[0] += energy
            fixed[1] += cycles
    return {
        "format": FORMAT, "batch": batch, "timing": timing.value,
        "network": network.name,
        "options": [_option(o) for o in options], "blocks": list(blocks),
        "fixed": {"energy_pj": fixed[0], "latency_cycles": fixed[1]},
        "entries": [{"block": blocks[b], "option": _option(o), "energy_pj": e,
                     "latency_cycles": c} for (b, o), (e, c) in entries.items()],
    }


def _option(precision: Precision) -> list[int]:
    return [precision.act_bits, precision.wgt_bits]


def table_costs(table: dict, act_bits: np.ndarray, wgt_bits: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Per-input (energy pJ, latency cycles) of decisions (inputs, blocks) from a table."""
    index = {(e["block"], tuple(e["option"])): (e["energy_pj"], e["latency_cycles"])
             for e in table["entries"]}
    energy = np.full(act_bits.shape[0], table["fixed"]["energy_pj"])
    cycles = np.full(act_bits.shape[0], table["fixed"]["latency_cycles"])
    for b, block in enumerate(table["blocks"]):
        for option in table["options"]:
            chosen = (act_bits[:, b] == option[0]) & (wgt_bits[:, b] == option[1])
            e, c = index[(block, tuple(option))]
            energy += chosen * e
            cycles += chosen * c
    return energy, cycles
