"""What one allocation costs and what one trial measured: the one metrics type and its pricing.

`price_allocation` is the only place that turns an allocation into hardware figures (network
latency in cycles and milliseconds, energy per inference, bit-packed weight size, per-layer cycles,
memory-bound layers); every evaluator (measured, synthetic, memoised) and every report uses it, so
a trial's latency means the same thing wherever it was computed. `TrialMetrics` is what every
evaluator returns and what the objective stores.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING
from typing import Any

from amed_opt.study.bits import BitConfig
from hardware import Bound
from hardware import EnergyModel
from hardware import network_energy
from hardware import network_latency


if TYPE_CHECKING:
    from amed_opt.study.paired import ImageOutcomes
    from hardware import HardwareModel
    from hardware import LayerShape

__all__ = ["REFERENCE_BITS", "Pricing", "TrialMetrics", "price_allocation", "reference_pricing"]


@dataclass(frozen=True, slots=True)
class Pricing:
    """The hardware figures of one allocation.

    Attributes:
        latency_cycles: Network latency in cycles (layers run one after another).
        latency_ms: The same in milliseconds at the hardware's clock.
        size_bytes: Weight storage, bit-packed, in bytes.
        cycles_by_layer: Cycles per layer name, in network order.
        memory_bound_layers: Names of the layers that stall on DRAM at these bits.
        energy_uj: Energy of one inference in µJ, or None when the hardware model does not
            price energy (it implements only `hardware.HardwareModel`).
    """

    latency_cycles: int
    latency_ms: float
    size_bytes: int
    cycles_by_layer: Mapping[str, int]
    memory_bound_layers: tuple[str, ...]
    energy_uj: float | None = None


def price_allocation(
    hardware: HardwareModel, layers: Sequence[LayerShape], bits: BitConfig
) -> Pricing:
    """Price `bits` on `hardware`.

    Args:
        hardware: The target.
        layers: Every quantizable layer, in network order.
        bits: An entry for every layer in `layers`.

    Raises:
        KeyError: If `bits` lacks a layer.
    """
    pairs = [(bits[layer.name].w_bits, bits[layer.name].a_bits) for layer in layers]
    latency = network_latency(hardware, layers, pairs)
    energy = (
        network_energy(hardware, layers, pairs).total_uj
        if isinstance(hardware, EnergyModel)
        else None
    )
    return Pricing(
        latency_cycles=latency.total_cycles,
        latency_ms=latency.latency_ms,
        size_bytes=bits.weight_size_bytes(layers),
        cycles_by_layer=MappingProxyType(latency.cycles_by_layer),
        memory_bound_layers=tuple(
            layer.name for layer in latency.layers if layer.bound is Bound.MEMORY
        ),
        energy_uj=energy,
    )


REFERENCE_BITS = 8
"""Every layer at this bitwidth prices the latency and energy references of `Q` (METHOD.md §4)."""


def reference_pricing(hardware: HardwareModel, layers: Sequence[LayerShape]) -> Pricing:
    """The pricing of every layer of `layers` (fixed ones included) at `REFERENCE_BITS`: the
    latency (and energy) that `Q` divides by."""
    return price_allocation(
        hardware, layers, BitConfig.uniform([layer.name for layer in layers], REFERENCE_BITS)
    )


@dataclass(frozen=True, slots=True)
class TrialMetrics:
    """What one trial measured.

    Attributes:
        accuracy: Top-1 accuracy on the validation split, a fraction in [0, 1] (SYNTHETIC when
            the study's accuracy model says so).
        latency_cycles: Network latency on the hardware model, in cycles.
        latency_ms: The same in milliseconds at the hardware's clock.
        size_bytes: Weight storage, bit-packed, in bytes.
        cycles_by_layer: Cycles per layer name, in network order.
        memory_bound_layers: Names of the layers that stall on DRAM at these bits.
        train_steps: QAT steps run in this trial.
        seconds: Wall-clock time of the measurement (0 when the accuracy was recalled).
        energy_uj: Energy of one inference in µJ (None when the hardware prices no energy).
        val_correct: Which validation images the quantized model classified correctly, in the
            fixed validation order (None when the accuracy was not measured on images: the
            synthetic accuracy model).
    """

    accuracy: float
    latency_cycles: int
    latency_ms: float
    size_bytes: int
    cycles_by_layer: Mapping[str, int]
    memory_bound_layers: tuple[str, ...]
    train_steps: int = 0
    seconds: float = 0.0
    energy_uj: float | None = None
    val_correct: ImageOutcomes | None = None

    @classmethod
    def from_pricing(
        cls,
        accuracy: float,
        pricing: Pricing,
        *,
        train_steps: int = 0,
        seconds: float = 0.0,
        val_correct: ImageOutcomes | None = None,
    ) -> TrialMetrics:
        """The metrics of an allocation whose accuracy is `accuracy` and cost `pricing`."""
        return cls(
            accuracy=accuracy,
            latency_cycles=pricing.latency_cycles,
            latency_ms=pricing.latency_ms,
            size_bytes=pricing.size_bytes,
            cycles_by_layer=pricing.cycles_by_layer,
            memory_bound_layers=pricing.memory_bound_layers,
            train_steps=train_steps,
            seconds=seconds,
            energy_uj=pricing.energy_uj,
            val_correct=val_correct,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (for Optuna user attributes and reports)."""
        return {
            "accuracy": self.accuracy,
            "latency_cycles": self.latency_cycles,
            "latency_ms": self.latency_ms,
            "size_bytes": self.size_bytes,
            "cycles_by_layer": dict(self.cycles_by_layer),
            "memory_bound_layers": list(self.memory_bound_layers),
            "train_steps": self.train_steps,
            "seconds": self.seconds,
            "energy_uj": self.energy_uj,
            "val_correct": None if self.val_correct is None else self.val_correct.to_attr(),
        }
