"""The plug points for hardware targets, and the latency and energy results they return.

Anything that can price a layer at given weight and activation bitwidths is a hardware target:
implement `HardwareModel` (one method and two attributes) and every part of amed-opt can use it.
Energy is a second, separate protocol, `EnergyModel` (`layer_energy`), so that a target that
prices only latency stays a complete `HardwareModel`; `network_energy` accepts any `EnergyModel`.
`SystolicArray` is the built-in implementation of both.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from dataclasses import fields
from typing import TYPE_CHECKING
from typing import Protocol
from typing import runtime_checkable


if TYPE_CHECKING:
    from collections.abc import Sequence

    from hardware.layer import LayerShape


class Bound(enum.Enum):
    """What limits a layer: the processing elements or the DRAM link."""

    COMPUTE = "compute"
    MEMORY = "memory"


@dataclass(frozen=True, slots=True)
class LayerLatency:
    """Latency of one layer at one (w_bits, a_bits) setting.

    Attributes:
        name: The layer's name (`LayerShape.name`).
        w_bits: Weight bitwidth it was priced at.
        a_bits: Activation bitwidth it was priced at.
        compute_cycles: Cycles the array needs when memory always keeps up.
        stall_cycles: Extra cycles spent waiting for the DRAM link (0 when compute-bound).
        dram_bytes: Bytes moved over the DRAM link (reads and writes, bit-packed).
    """

    name: str
    w_bits: int
    a_bits: int
    compute_cycles: int
    stall_cycles: int
    dram_bytes: int

    @property
    def total_cycles(self) -> int:
        """Compute plus stall cycles."""
        return self.compute_cycles + self.stall_cycles

    @property
    def bound(self) -> Bound:
        """`MEMORY` when the layer stalls on DRAM, else `COMPUTE`."""
        return Bound.MEMORY if self.stall_cycles > 0 else Bound.COMPUTE


@dataclass(frozen=True, slots=True)
class NetworkLatency:
    """Latency of a network: layers run one after another, as in SCALE-Sim.

    Attributes:
        layers: Per-layer results, in network order.
        clock_hz: Clock of the target, to convert cycles to time.
    """

    layers: tuple[LayerLatency, ...]
    clock_hz: float

    @property
    def total_cycles(self) -> int:
        """Sum of the layers' total cycles."""
        return sum(layer.total_cycles for layer in self.layers)

    @property
    def latency_ms(self) -> float:
        """Total latency in milliseconds at `clock_hz`."""
        return self.total_cycles / self.clock_hz * 1e3

    @property
    def cycles_by_layer(self) -> dict[str, int]:
        """Total cycles per layer name, in network order."""
        return {layer.name: layer.total_cycles for layer in self.layers}


@runtime_checkable
class HardwareModel(Protocol):
    """A hardware target that prices layers.

    Implementations must be pure: the same arguments always give the same result (callers memoise).

    Attributes:
        name: Short identifier of the target (a preset name).
        clock_hz: Clock frequency in hertz, to convert cycles into time.
    """

    name: str
    clock_hz: float

    def layer_latency(self, layer: LayerShape, w_bits: int, a_bits: int) -> LayerLatency:
        """Latency of `layer` with `w_bits`-bit weights and `a_bits`-bit input activations.

        Raises:
            ValueError: If a bitwidth is outside what the target supports.
        """
        ...


def network_latency(
    model: HardwareModel, layers: Sequence[LayerShape], bits: Sequence[tuple[int, int]]
) -> NetworkLatency:
    """Latency of `layers` run one after another, layer `i` at `bits[i] = (w_bits, a_bits)`.

    Raises:
        ValueError: If `layers` and `bits` differ in length, or a bitwidth is unsupported.
    """
    if len(layers) != len(bits):
        raise ValueError(f"got {len(layers)} layers but {len(bits)} (w_bits, a_bits) pairs")
    return NetworkLatency(
        layers=tuple(
            model.layer_latency(layer, w_bits, a_bits)
            for layer, (w_bits, a_bits) in zip(layers, bits, strict=True)
        ),
        clock_hz=model.clock_hz,
    )


#: Picojoules in a microjoule.
PJ_PER_UJ = 1e6


@dataclass(frozen=True, slots=True)
class LayerEnergy:
    """Energy of one layer (one inference, batch 1) at one (w_bits, a_bits) setting, in pJ.

    The parts add up to `total_pj`; see `hardware.energy` for how `SystolicArray` prices them.

    Attributes:
        name: The layer's name (`LayerShape.name`).
        w_bits: Weight bitwidth it was priced at.
        a_bits: Activation bitwidth it was priced at.
        mac_pj: Multiply-accumulates in the processing elements, pJ.
        ifmap_sram_pj: Input SRAM reads and fills, pJ.
        filter_sram_pj: Weight SRAM reads and fills, pJ.
        ofmap_sram_pj: Output SRAM writes, partial-sum reads and drains, pJ.
        dram_pj: DRAM traffic, reads and writes, pJ.
        leakage_pj: Static energy over the layer's cycles, pJ.

    Raises:
        ValueError: If a part is negative, NaN or infinite (the message names it).
    """

    name: str
    w_bits: int
    a_bits: int
    mac_pj: float
    ifmap_sram_pj: float
    filter_sram_pj: float
    ofmap_sram_pj: float
    dram_pj: float
    leakage_pj: float

    def __post_init__(self) -> None:
        for field_name in ENERGY_PARTS:
            value = getattr(self, field_name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(
                    f"layer {self.name!r}: {field_name} must be a finite number >= 0, "
                    f"got {value!r}"
                )

    @property
    def sram_pj(self) -> float:
        """The three SRAMs together, pJ."""
        return self.ifmap_sram_pj + self.filter_sram_pj + self.ofmap_sram_pj

    @property
    def total_pj(self) -> float:
        """All parts together, pJ (summed in `ENERGY_PARTS` order, so `sum` of them is equal)."""
        return (
            self.mac_pj
            + self.ifmap_sram_pj
            + self.filter_sram_pj
            + self.ofmap_sram_pj
            + self.dram_pj
            + self.leakage_pj
        )


#: The parts of a `LayerEnergy`, in the order reports show them.
ENERGY_PARTS = tuple(field.name for field in fields(LayerEnergy) if field.name.endswith("_pj"))


@dataclass(frozen=True, slots=True)
class NetworkEnergy:
    """Energy of one inference of a network (batch 1): the sum over its layers.

    Attributes:
        layers: Per-layer results, in network order (pJ each).
    """

    layers: tuple[LayerEnergy, ...]

    def part_uj(self, part: str) -> float:
        """One part (`mac_pj`, `dram_pj`, ... of `ENERGY_PARTS`) summed over layers, in µJ.

        Raises:
            ValueError: If `part` is not one of `ENERGY_PARTS`.
        """
        if part not in ENERGY_PARTS:
            raise ValueError(f"part must be one of {', '.join(ENERGY_PARTS)}, got {part!r}")
        return sum(getattr(layer, part) for layer in self.layers) / PJ_PER_UJ

    @property
    def parts_uj(self) -> dict[str, float]:
        """Every part summed over layers, in µJ, keyed by `ENERGY_PARTS` without `_pj`."""
        return {part.removesuffix("_pj"): self.part_uj(part) for part in ENERGY_PARTS}

    @property
    def total_uj(self) -> float:
        """Energy per inference, in µJ."""
        return sum(layer.total_pj for layer in self.layers) / PJ_PER_UJ

    @property
    def energy_uj_by_layer(self) -> dict[str, float]:
        """Energy per layer name in µJ, in network order."""
        return {layer.name: layer.total_pj / PJ_PER_UJ for layer in self.layers}


@runtime_checkable
class EnergyModel(Protocol):
    """A hardware target that prices the energy of layers (optional beside `HardwareModel`).

    Implementations must be pure, as for `HardwareModel`.

    Attributes:
        name: Short identifier of the target (a preset name).
    """

    name: str

    def layer_energy(self, layer: LayerShape, w_bits: int, a_bits: int) -> LayerEnergy:
        """Energy of one inference of `layer` at `w_bits` / `a_bits` bits, in pJ.

        Raises:
            ValueError: If a bitwidth is outside what the target supports.
        """
        ...


def network_energy(
    model: EnergyModel, layers: Sequence[LayerShape], bits: Sequence[tuple[int, int]]
) -> NetworkEnergy:
    """Energy of one inference of `layers`, layer `i` at `bits[i] = (w_bits, a_bits)`.

    Raises:
        ValueError: If `layers` and `bits` differ in length, or a bitwidth is unsupported.
    """
    if len(layers) != len(bits):
        raise ValueError(f"got {len(layers)} layers but {len(bits)} (w_bits, a_bits) pairs")
    return NetworkEnergy(
        layers=tuple(
            model.layer_energy(layer, w_bits, a_bits)
            for layer, (w_bits, a_bits) in zip(layers, bits, strict=True)
        )
    )
