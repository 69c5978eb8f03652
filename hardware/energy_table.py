"""Energy per action of an accelerator: the `[energy]` table of a preset, and the default table.

An `EnergyTable` holds what one action costs, in picojoules, at the preset's technology node:
one 8x8-bit multiply and one accumulator add (together one MAC of an 8-bit processing element),
one byte accessed in each SRAM, one byte over the DRAM link, and the static (leakage) energy of
the whole accelerator per cycle. `hardware.energy` turns these figures and the access counts of
the latency model into a layer's energy; the formulas are there and in `docs/hardware.md`.

A preset names its figures in an `[energy]` TOML table, each with its source in a comment and
the sources together in the `reference` key. A preset without one (and every SCALE-Sim `.cfg`)
gets `DEFAULT_ENERGY_TABLE`, whose `source` is `TableSource.DEFAULT`, so that every summary can
say that no figures were given for that hardware.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass


class TableSource(enum.StrEnum):
    """Where an `EnergyTable` came from."""

    PRESET = "preset"
    DEFAULT = "default"


#: Table fields that hold picojoules (finite and >= 0).
ENERGY_FIELDS = (
    "mac_multiply_pj",
    "mac_accumulate_pj",
    "ifmap_sram_pj_per_byte",
    "filter_sram_pj_per_byte",
    "ofmap_sram_pj_per_byte",
    "dram_pj_per_byte",
    "leakage_pj_per_cycle",
)


@dataclass(frozen=True, slots=True)
class EnergyTable:
    """Energy per action of one accelerator, in picojoules (pJ).

    Attributes:
        technology_nm: Technology node the figures belong to, in nanometres.
        mac_multiply_pj: One 8x8-bit multiply of a processing element, pJ.
        mac_accumulate_pj: One add into the accumulator of a processing element, pJ.
        ifmap_sram_pj_per_byte: One byte read from or written to the input SRAM, pJ.
        filter_sram_pj_per_byte: One byte read from or written to the weight SRAM, pJ.
        ofmap_sram_pj_per_byte: One byte read from or written to the output SRAM, pJ.
        dram_pj_per_byte: One byte read from or written to DRAM over the link, pJ.
        reference: Where the figures come from (papers, tables, the derivation).
        leakage_pj_per_cycle: Static energy of the whole accelerator per clock cycle, pJ.
        source: `PRESET` for a table given with the hardware, `DEFAULT` for
            `DEFAULT_ENERGY_TABLE`; set by the loader, not by a preset file.

    Raises:
        ValueError: If a figure is negative, NaN or infinite, the node is not positive, or the
            reference is empty; the message names the key (`energy.<key>`) and the value.
    """

    technology_nm: float
    mac_multiply_pj: float
    mac_accumulate_pj: float
    ifmap_sram_pj_per_byte: float
    filter_sram_pj_per_byte: float
    ofmap_sram_pj_per_byte: float
    dram_pj_per_byte: float
    reference: str
    leakage_pj_per_cycle: float = 0.0
    source: TableSource = TableSource.PRESET

    def __post_init__(self) -> None:
        node = _finite_number("technology_nm", self.technology_nm)
        if node <= 0:
            raise ValueError(f"energy.technology_nm must be > 0, got {self.technology_nm!r}")
        object.__setattr__(self, "technology_nm", node)
        for field_name in ENERGY_FIELDS:
            value = _finite_number(field_name, getattr(self, field_name))
            if value < 0:
                raise ValueError(
                    f"energy.{field_name} must be a finite number >= 0 (pJ), "
                    f"got {getattr(self, field_name)!r}"
                )
            object.__setattr__(self, field_name, value)
        if not isinstance(self.reference, str) or not self.reference.strip():
            raise ValueError(
                f"energy.reference must name the source of the figures, got {self.reference!r}"
            )
        if not isinstance(self.source, TableSource):
            raise ValueError(f"energy.source must be a TableSource, got {self.source!r}")

    @property
    def mac_pj(self) -> float:
        """One MAC at 8x8 bits (multiply plus accumulate), pJ."""
        return self.mac_multiply_pj + self.mac_accumulate_pj

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> EnergyTable:
        """Build a table from a preset file's `[energy]` table.

        Args:
            values: Keys are the fields of `EnergyTable` except `source` (the result's source is
                `PRESET`); `leakage_pj_per_cycle` may be left out (0).

        Raises:
            ValueError: If a key is unknown or missing, or a value is invalid; the message names
                the key.
        """
        known = {field.name for field in dataclasses.fields(cls)} - {"source"}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"energy: unknown key {unknown[0]!r} = {values[unknown[0]]!r}; "
                f"known keys: {', '.join(sorted(known))}"
            )
        missing = sorted(
            field.name
            for field in dataclasses.fields(cls)
            if field.name in known
            and field.name not in values
            and field.default is dataclasses.MISSING
        )
        if missing:
            raise ValueError(f"energy: missing key {missing[0]!r}")
        return cls(**values)  # type: ignore[arg-type]  # values are checked in __post_init__

    def summary(self) -> str:
        """One sentence naming the figures, their node and whether they are the default."""
        origin = (
            "the default table: the hardware gives none"
            if self.source is TableSource.DEFAULT
            else "the preset's table"
        )
        leakage = (
            f", leakage {self.leakage_pj_per_cycle:g} pJ/cycle"
            if self.leakage_pj_per_cycle
            else ", no leakage"
        )
        return (
            f"Energy ({origin}, {self.technology_nm:g} nm): MAC {self.mac_pj:g} pJ at 8x8 bits, "
            f"SRAM {self.ifmap_sram_pj_per_byte:g} / {self.filter_sram_pj_per_byte:g} / "
            f"{self.ofmap_sram_pj_per_byte:g} pJ/B (ifmap / filter / ofmap), DRAM "
            f"{self.dram_pj_per_byte:g} pJ/B{leakage}; from {self.reference}"
        )


def _finite_number(field_name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"energy.{field_name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"energy.{field_name} must be finite, got {value!r}")
    return number


#: The table of a preset without an `[energy]` table: M. Horowitz, "Computing's energy problem
#: (and what we can do about it)", ISSCC 2014, https://doi.org/10.1109/ISSCC.2014.6757323,
#: 45 nm. MAC = 8-bit multiply (0.2 pJ) + 32-bit add into the accumulator (0.1 pJ); each SRAM
#: 20 pJ per 64-bit read of a 32 KB SRAM = 2.5 pJ/B (the middle of the three sizes given);
#: DRAM 1.3 nJ per 64-bit access (the low end of the 1.3-2.6 nJ given) = 162.5 pJ/B. Horowitz
#: gives no leakage figure, so none is charged.
DEFAULT_ENERGY_TABLE = EnergyTable(
    technology_nm=45,
    mac_multiply_pj=0.2,
    mac_accumulate_pj=0.1,
    ifmap_sram_pj_per_byte=2.5,
    filter_sram_pj_per_byte=2.5,
    ofmap_sram_pj_per_byte=2.5,
    dram_pj_per_byte=162.5,
    reference="Horowitz, ISSCC 2014 (45 nm): 8-bit multiply, 32-bit add, 32 KB SRAM, DRAM",
    source=TableSource.DEFAULT,
)
