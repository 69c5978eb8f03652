"""The description of a systolic-array accelerator, and the presets that ship with the package.

A `SystolicArrayConfig` is a frozen value: array size, the three SRAMs, the DRAM link, the clock,
the dataflow and the precision model (how weight and activation bitwidths change the processing
elements' throughput). Strings from TOML files or overrides are parsed into the enums here, once;
everything downstream dispatches on the enums.

Presets are TOML files in `hardware/presets/` (package data). Adding a hardware target is one
more file there (or anywhere, loaded by path); every key is a field of `SystolicArrayConfig`, and
an optional `[energy]` table holds the energy per action (`hardware.energy_table`).
"""

from __future__ import annotations

import dataclasses
import enum
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from typing import TypeVar

from hardware.energy_table import DEFAULT_ENERGY_TABLE
from hardware.energy_table import EnergyTable


_E = TypeVar("_E", bound=enum.Enum)

#: Bitwidths of weights and activations the model supports (inclusive).
MIN_BITS = 2
MAX_BITS = 8

#: Width of one SRAM word and of the PE datapath, in bits (SCALE-Sim's 1-byte word).
WORD_BITS = 8


class Dataflow(enum.Enum):
    """Which operand stays in the processing elements while the others stream past."""

    OUTPUT_STATIONARY = "os"
    WEIGHT_STATIONARY = "ws"
    INPUT_STATIONARY = "is"


class PrecisionModel(enum.Enum):
    """How the bitwidths change the MACs a processing element completes per cycle.

    See `hardware.precision` for the exact rules.
    """

    FIXED = "fixed"
    BIT_FUSION = "bit_fusion"
    BIT_SERIAL = "bit_serial"


class SerialOperand(enum.Enum):
    """Which operand a `bit_serial` processing element consumes one bit at a time."""

    ACTIVATION = "activation"
    WEIGHT = "weight"
    BOTH = "both"


_DATAFLOW_WORDS = {
    Dataflow.OUTPUT_STATIONARY: "output-stationary",
    Dataflow.WEIGHT_STATIONARY: "weight-stationary",
    Dataflow.INPUT_STATIONARY: "input-stationary",
}

_PRECISION_WORDS = {
    PrecisionModel.FIXED: "one MAC per PE per cycle at any bitwidth (bits only shrink memory "
    "traffic)",
    PrecisionModel.BIT_FUSION: "BitFusion-style fused PEs, floor(8/w)*floor(8/a) MACs per PE "
    "per cycle",
    PrecisionModel.BIT_SERIAL: "bit-serial PEs, streaming cycles proportional to the {operand} "
    "bits",
}


@dataclass(frozen=True, slots=True)
class SystolicArrayConfig:
    """An R x C systolic array with double-buffered SRAMs and one DRAM link.

    Attributes:
        name: Short identifier (the preset name).
        rows: Processing-element rows `R` (SCALE-Sim's `ArrayHeight`).
        cols: Processing-element columns `C` (SCALE-Sim's `ArrayWidth`).
        ifmap_sram_kib: Input feature-map SRAM in KiB (both halves of the double buffer).
        filter_sram_kib: Weight SRAM in KiB (both halves).
        ofmap_sram_kib: Output feature-map SRAM in KiB (both halves).
        dram_bytes_per_cycle: Bytes the DRAM link moves per cycle, reads and writes together;
            `math.inf` prices compute only (SCALE-Sim's stall-free `CALC` mode).
        clock_hz: Clock frequency in hertz.
        dataflow: Output, weight or input stationary.
        precision_model: How bitwidths change PE throughput (`hardware.precision`).
        serial_operand: The operand a `bit_serial` PE serializes (ignored by other models).
        ofmap_bits: Width in bits at which outputs (and spilled partial sums) are stored; the next
            layer's activation width is not known when one layer is priced, so it is a property
            of the hardware (8 by default, SCALE-Sim's 1-byte word).
        description: One line saying what the preset models and where its numbers come from.
        energy: Energy per action (a preset's `[energy]` table; a mapping of its keys is
            accepted too). Without one, `DEFAULT_ENERGY_TABLE`, whose `source` says so.

    Raises:
        ValueError: If a size is not positive, an enum field has an unknown value,
            `ofmap_bits` is outside 2..8, or the energy table is invalid; the message names the
            field (`energy.<key>` inside the table) and the value.
    """

    name: str
    rows: int
    cols: int
    ifmap_sram_kib: int
    filter_sram_kib: int
    ofmap_sram_kib: int
    dram_bytes_per_cycle: float
    clock_hz: float
    dataflow: Dataflow = Dataflow.OUTPUT_STATIONARY
    precision_model: PrecisionModel = PrecisionModel.FIXED
    serial_operand: SerialOperand = SerialOperand.ACTIVATION
    ofmap_bits: int = WORD_BITS
    description: str = ""
    energy: EnergyTable = DEFAULT_ENERGY_TABLE

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty string, got {self.name!r}")
        for field_name in ("rows", "cols", "ifmap_sram_kib", "filter_sram_kib", "ofmap_sram_kib"):
            _check_positive_int(field_name, getattr(self, field_name))
        # Enum fields accept their string values too, so that TOML files, overrides and
        # dataclasses.replace all go through one parser.
        object.__setattr__(self, "dataflow", _parse_enum("dataflow", Dataflow, self.dataflow))
        object.__setattr__(
            self,
            "precision_model",
            _parse_enum("precision_model", PrecisionModel, self.precision_model),
        )
        serial = _parse_enum("serial_operand", SerialOperand, self.serial_operand)
        object.__setattr__(self, "serial_operand", serial)
        bandwidth = _check_positive_number("dram_bytes_per_cycle", self.dram_bytes_per_cycle)
        object.__setattr__(self, "dram_bytes_per_cycle", bandwidth)
        clock = _check_positive_number("clock_hz", self.clock_hz)
        if math.isinf(clock):
            raise ValueError(f"clock_hz must be finite, got {self.clock_hz!r}")
        object.__setattr__(self, "clock_hz", clock)
        _check_positive_int("ofmap_bits", self.ofmap_bits)
        if not MIN_BITS <= self.ofmap_bits <= MAX_BITS:
            raise ValueError(
                f"ofmap_bits must be in {MIN_BITS}..{MAX_BITS}, got {self.ofmap_bits!r}"
            )
        if not isinstance(self.description, str):
            raise ValueError(f"description must be a string, got {self.description!r}")
        # A TOML `[energy]` table arrives as a mapping; it is parsed here, like the enums.
        if isinstance(self.energy, Mapping):
            object.__setattr__(self, "energy", EnergyTable.from_mapping(self.energy))
        elif not isinstance(self.energy, EnergyTable):
            raise ValueError(f"energy must be an [energy] table, got {self.energy!r}")

    @property
    def processing_elements(self) -> int:
        """Number of processing elements, `rows * cols`."""
        return self.rows * self.cols

    def sram_half_bits(self) -> tuple[int, int, int]:
        """Working-half capacity of the (ifmap, filter, ofmap) SRAMs, in bits.

        Each SRAM is double-buffered: one half holds what the array works on, the other half is
        being filled from (or drained to) DRAM, as in SCALE-Sim.
        """
        return (
            self.ifmap_sram_kib * 1024 * 8 // 2,
            self.filter_sram_kib * 1024 * 8 // 2,
            self.ofmap_sram_kib * 1024 * 8 // 2,
        )

    def summary(self) -> str:
        """One Markdown paragraph describing the accelerator, for reports and dashboards."""
        bandwidth = (
            "unlimited DRAM bandwidth (compute only)"
            if math.isinf(self.dram_bytes_per_cycle)
            else f"a DRAM link of {self.dram_bytes_per_cycle:g} B/cycle "
            f"({self.dram_bytes_per_cycle * self.clock_hz / 1e9:.3g} GB/s)"
        )
        precision = _PRECISION_WORDS[self.precision_model].format(
            operand=self.serial_operand.value
        )
        text = (
            f"**{self.name}**: a {self.rows}×{self.cols} systolic array "
            f"({self.processing_elements:,} PEs), {_DATAFLOW_WORDS[self.dataflow]} dataflow, "
            f"double-buffered SRAMs of {self.ifmap_sram_kib} / {self.filter_sram_kib} / "
            f"{self.ofmap_sram_kib} KiB (ifmap / filter / ofmap), {bandwidth}, precision model "
            f"`{self.precision_model.value}` ({precision}; operands bit-packed, outputs stored at "
            f"{self.ofmap_bits} bits), clock {self.clock_hz / 1e6:g} MHz."
        )
        if self.description:
            text += f" {self.description}"
        return f"{text} {self.energy.summary()}."


def available_presets() -> tuple[str, ...]:
    """Names of the presets shipped in `hardware/presets/`, sorted."""
    folder = resources.files("hardware").joinpath("presets")
    return tuple(
        sorted(
            entry.name.removesuffix(".toml")
            for entry in folder.iterdir()
            if entry.name.endswith(".toml")
        )
    )


def load_preset(name_or_path: str | Path, **overrides: Any) -> SystolicArrayConfig:
    """Load a preset by name (`scale-sim`) or from a TOML file, with optional overrides.

    Args:
        name_or_path: A name from `available_presets()`, or a path to a TOML file whose keys are
            fields of `SystolicArrayConfig`.
        **overrides: Field values that replace the file's (enum fields take their string values,
            e.g. `dataflow="ws"`).

    Returns:
        The validated configuration.

    Raises:
        FileNotFoundError: If the name is not a preset and no such file exists.
        ValueError: If a key is unknown or a value is invalid (the message names both).
    """
    text, source = _read_preset_text(name_or_path)
    try:
        values = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"preset {source}: malformed TOML: {error}") from error
    values.setdefault("name", Path(str(name_or_path)).stem)
    values.update(overrides)
    if overrides and "description" not in overrides:
        # Keep the summary honest about what no longer matches the file.
        changed = ", ".join(f"{key} = {value!r}" for key, value in sorted(overrides.items()))
        values["description"] = f"{values.get('description', '')} Overridden: {changed}.".strip()
    known = {field.name for field in dataclasses.fields(SystolicArrayConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(
            f"preset {source}: unknown key {unknown[0]!r} = {values[unknown[0]]!r}; "
            f"known keys: {', '.join(sorted(known))}"
        )
    missing = sorted(
        field.name
        for field in dataclasses.fields(SystolicArrayConfig)
        if field.name not in values
        and field.default is dataclasses.MISSING
        and field.default_factory is dataclasses.MISSING
    )
    if missing:
        raise ValueError(f"preset {source}: missing key {missing[0]!r}")
    try:
        return SystolicArrayConfig(**values)
    except ValueError as error:
        raise ValueError(f"preset {source}: {error}") from error


def _read_preset_text(name_or_path: str | Path) -> tuple[str, str]:
    name = str(name_or_path)
    if name in available_presets():
        resource = resources.files("hardware").joinpath("presets", f"{name}.toml")
        return resource.read_text(encoding="utf-8"), repr(name)
    path = Path(name)
    if path.is_file():
        return path.read_text(encoding="utf-8"), str(path)
    raise FileNotFoundError(
        f"hardware preset {name!r} not found; available: {', '.join(available_presets())}"
    )


def _check_positive_int(field_name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{field_name} must be a positive integer, got {value!r}")


def _check_positive_number(field_name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{field_name} must be a positive number, got {value!r}")
    number = float(value)
    if math.isnan(number) or number <= 0:
        raise ValueError(f"{field_name} must be a positive number, got {value!r}")
    return number


def _parse_enum(field_name: str, enum_type: type[_E], value: object) -> _E:
    if isinstance(value, enum_type):
        return value
    if isinstance(value, str):
        for member in enum_type:
            if value.strip().lower() == member.value:
                return member
    choices = ", ".join(repr(member.value) for member in enum_type)
    raise ValueError(f"{field_name} must be one of {choices}, got {value!r}")
