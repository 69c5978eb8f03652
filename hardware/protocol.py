"""The plug point for hardware targets, and the latency results every target returns.

Anything that can price a layer at given weight and activation bitwidths is a hardware target:
implement `HardwareModel` (one method and two attributes) and every part of amed-opt can use it.
`SystolicArray` is the built-in implementation.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
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
