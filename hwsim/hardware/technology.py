"""Technology that scales with the machine: leakage power, SRAM energy by capacity, clock gating.

Accelergy's idea (Wu et al., ICCAD 2019): energy = action counts x a table of energy per action,
every entry of which says where it comes from. The arch's `energy` section gives the per-action
figures measured at one design point (the paper's buffer sizes); the optional `technology`
section says how they change when a sweep changes the machine:

  - leakage is power per Fusion Unit and per KiB of SRAM (mW), turned into pJ per cycle through
    the clock: pJ/cycle = (FUs x mW/FU + KiB x mW/KiB) x 1000 / MHz, so array, buffer and clock
    sweeps all scale it;
  - SRAM read/write pJ per bit follows the buffer's capacity, anchored at the energy section's
    figures for the reference sizes: pJ/bit(C) = pJ/bit(C_ref) x (C / C_ref)^exponent (bit-line
    and word-line lengths grow with the square root of the array, so the exponent is ~0.5);
  - compute energy is charged per busy Fusion Unit-cycle plus `idle_fu_energy_fraction` of a busy
    one for every idle FU-cycle of the layer's compute (clock gating); 1.0 is the authors'
    convention of charging the whole array every compute cycle.

Each entry is `{value: X, source: "..."}`; a missing source is an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hwsim.schema import Field, Section, int_between, number_between, text

BUFFER_NAMES = ("input", "weight", "output")


@dataclass(frozen=True, slots=True)
class Sourced:
    """A number and where it comes from."""

    value: float
    source: str


@dataclass(frozen=True, slots=True)
class Technology:
    """How the energy table scales (see the module docstring).

    Attributes:
        node_nm: the process node the figures belong to (documentation; no scaling across nodes).
        sram_reference_kib: the buffer sizes (KiB) at which the energy section's SRAM pJ/bit hold.
        sram_energy_exponent: pJ/bit grows as (capacity / reference)^exponent.
        fu_leakage_mw: leakage power of one Fusion Unit (or PE).
        sram_leakage_mw_per_kib: leakage power of one KiB of buffer SRAM.
        idle_fu_energy_fraction: energy of an idle FU-cycle during compute, as a fraction of a
            busy one (1.0: the whole array every compute cycle).
    """

    node_nm: int
    sram_reference_kib: tuple[float, float, float]  # input, weight, output
    sram_reference_source: str
    sram_energy_exponent: Sourced
    fu_leakage_mw: Sourced
    sram_leakage_mw_per_kib: Sourced
    idle_fu_energy_fraction: Sourced


def _sourced(check) -> Section:
    return Section({"value": Field(check), "source": Field(text)})


TECHNOLOGY_SPEC = Section({
    "node_nm": Field(int_between(1, 1000)),
    "sram_reference_kib": Section({name: Field(number_between(1 / 1024, 1 << 20))
                                   for name in BUFFER_NAMES}),
    "sram_reference_source": Field(text),
    "sram_energy_exponent": _sourced(number_between(0.0, 2.0)),
    "fu_leakage_mw": _sourced(number_between(0.0, 1000.0)),
    "sram_leakage_mw_per_kib": _sourced(number_between(0.0, 1000.0)),
    "idle_fu_energy_fraction": _sourced(number_between(0.0, 1.0)),
}, required=False)


def technology_from_clean(clean: dict[str, Any]) -> Technology:
    def sourced(key: str) -> Sourced:
        return Sourced(float(clean[key]["value"]), clean[key]["source"])

    ref = clean["sram_reference_kib"]
    return Technology(
        node_nm=int(clean["node_nm"]),
        sram_reference_kib=tuple(float(ref[name]) for name in BUFFER_NAMES),
        sram_reference_source=clean["sram_reference_source"],
        sram_energy_exponent=sourced("sram_energy_exponent"),
        fu_leakage_mw=sourced("fu_leakage_mw"),
        sram_leakage_mw_per_kib=sourced("sram_leakage_mw_per_kib"),
        idle_fu_energy_fraction=sourced("idle_fu_energy_fraction"))


def technology_to_dict(tech: Technology) -> dict[str, Any]:
    def sourced(entry: Sourced) -> dict[str, Any]:
        return {"value": entry.value, "source": entry.source}

    return {
        "node_nm": tech.node_nm,
        "sram_reference_kib": dict(zip(BUFFER_NAMES, tech.sram_reference_kib, strict=True)),
        "sram_reference_source": tech.sram_reference_source,
        "sram_energy_exponent": sourced(tech.sram_energy_exponent),
        "fu_leakage_mw": sourced(tech.fu_leakage_mw),
        "sram_leakage_mw_per_kib": sourced(tech.sram_leakage_mw_per_kib),
        "idle_fu_energy_fraction": sourced(tech.idle_fu_energy_fraction),
    }


def leakage_pj_per_cycle(tech: Technology, fu_count: int, sram_kib: float,
                         frequency_mhz: float) -> float:
    """mW over MHz is nJ per cycle: (FUs x mW/FU + KiB x mW/KiB) x 1000 / MHz pJ."""
    power_mw = (fu_count * tech.fu_leakage_mw.value
                + sram_kib * tech.sram_leakage_mw_per_kib.value)
    return power_mw * 1000.0 / frequency_mhz


def sram_scale(tech: Technology, buffer_index: int, size_kib: float) -> float:
    """Multiplier of a buffer's reference pJ/bit at capacity `size_kib`."""
    return (size_kib / tech.sram_reference_kib[buffer_index]) ** tech.sram_energy_exponent.value
