"""A synthetic accuracy model, for tests and fast sampler comparisons only. Never the default.

SYNTHETIC: the accuracy this module reports is not measured on any network. It is a smooth,
seeded stand-in with the shape of the real landscape measured on ResNet-18 / Fashion-MNIST
(8- to 4-bit lose almost nothing, 3-bit a few points, 2-bit a lot, and layers differ in
sensitivity), so that the whole search and comparison machinery can run in seconds. Latency and
size are real: they come from the hardware model and the layer shapes.

Model: each layer `l` has a sensitivity `s_l > 0` (seeded log-normal, scaled by the layer's share
of weights, normalised to sum to 1). Quantization noise of a `b`-bit uniform quantizer has variance
proportional to `4^-b`; the damage `D = sum_l s_l * 8^-(b_l - 1)` grows a little faster, which
matches the measured collapse at 2 bits. Accuracy is
`chance + (top - chance) * exp(-kappa * D)` plus a small deterministic jitter keyed by the
allocation (the evaluation noise of a finite validation set).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from amed_opt.study.metrics import TrialMetrics
from amed_opt.study.metrics import price_allocation


if TYPE_CHECKING:
    from amed_opt.study.bits import BitConfig
    from hardware.layer import LayerShape
    from hardware.protocol import HardwareModel


JITTER = 0.002
"""The default half-width of the deterministic evaluation noise (fraction of accuracy)."""


class SyntheticEvaluator:
    """Evaluates allocations with the synthetic accuracy model and the real hardware model.

    Args:
        layers: Quantizable layers in network order.
        hardware: The hardware target pricing the layers.
        seed: Seeds the layer sensitivities and the jitter.
        top_accuracy: Accuracy of the 8-bit network (fraction).
        chance_accuracy: Accuracy of a destroyed network (1 / classes).
        kappa: Damage scale; larger makes low bits hurt more.
        jitter: Half-width of the deterministic evaluation noise (fraction).
    """

    def __init__(
        self,
        layers: Sequence[LayerShape],
        hardware: HardwareModel,
        *,
        seed: int = 0,
        top_accuracy: float = 0.92,
        chance_accuracy: float = 0.10,
        kappa: float = 4.0,
        jitter: float = JITTER,
    ) -> None:
        self._layers = tuple(layers)
        self._hardware = hardware
        self._top = top_accuracy
        self._chance = chance_accuracy
        self._kappa = kappa
        self._jitter = jitter
        self._seed = seed
        rng = np.random.default_rng(seed)
        weight_share = np.array([layer.weight_count for layer in layers], dtype=float)
        weight_share /= weight_share.sum()
        raw = rng.lognormal(mean=0.0, sigma=0.75, size=len(layers)) * np.sqrt(weight_share)
        self._sensitivity = dict(
            zip((layer.name for layer in layers), raw / raw.sum(), strict=True)
        )

    @property
    def layers(self) -> tuple[LayerShape, ...]:
        """The layers it was built with, in network order."""
        return self._layers

    @property
    def hardware(self) -> HardwareModel:
        """The hardware target pricing the layers."""
        return self._hardware

    @property
    def jitter(self) -> float:
        """Half-width of the evaluation noise: a reported accuracy lies within this of
        `clean_accuracy` (fraction)."""
        return self._jitter

    def layer_damage(self, name: str, w_bits: int, a_bits: int) -> float:
        """The damage layer `name` adds at `(w_bits, a_bits)`; an allocation's damage is the
        sum over its layers.

        Raises:
            KeyError: If the model has no layer `name`.
        """
        weights, activations = self._damage_terms(name, w_bits, a_bits)
        return weights + activations

    def _damage_terms(self, name: str, w_bits: int, a_bits: int) -> tuple[float, float]:
        sensitivity = self._sensitivity[name]
        # activations count half as much as weights: they are re-scaled per tensor
        return sensitivity * (8.0 ** -(w_bits - 1)), 0.5 * sensitivity * (8.0 ** -(a_bits - 1))

    def clean_accuracy(self, damage: float) -> float:
        """The accuracy of an allocation of total `damage` before the evaluation noise
        (fraction; falls as the damage grows)."""
        return self._chance + (self._top - self._chance) * math.exp(-self._kappa * damage)

    def damage(self, bits: BitConfig) -> float:
        """The total damage of an allocation (`clean_accuracy` turns it into an accuracy)."""
        damage = 0.0
        for name in self._sensitivity:
            # added one term at a time, in this order, so that every accuracy is bit-identical
            # to the one stored by earlier versions
            weights, activations = self._damage_terms(name, bits[name].w_bits, bits[name].a_bits)
            damage += weights
            damage += activations
        return damage

    def accuracy(self, bits: BitConfig) -> float:
        """The SYNTHETIC accuracy of an allocation (a fraction)."""
        damage = self.damage(bits)
        digest = hashlib.sha256(f"{self._seed}|{bits.compact()}".encode()).digest()
        unit = int.from_bytes(digest[:8], "big") / 2**64
        return min(1.0, max(0.0, self.clean_accuracy(damage) + self._jitter * (2 * unit - 1)))

    def evaluate(self, bits: BitConfig) -> TrialMetrics:
        """Synthetic accuracy, real latency and size."""
        return TrialMetrics.from_pricing(
            self.accuracy(bits), price_allocation(self._hardware, self._layers, bits)
        )
