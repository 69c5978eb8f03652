"""How often the AMED proposal picks each layer: `[sampler] layer_choice = "cost"`.

A layer's weight is the latency the hardware says it can save: its cycles at the highest
candidate bitwidth minus its cycles at the lowest, every other layer held at the same uniform
bitwidth (`hardware.network_latency`, so memory- and compute-bound layers are priced as the
accelerator sees them). A compute-bound layer on a fixed-precision array saves nothing and is
picked rarely; the deep, weight-heavy layers of a memory-bound network are picked often. The
search then spends its proposals where the hardware cares, and a different accelerator gets a
different proposal from the same network.

Every layer keeps a floor of `COST_FLOOR` of a uniform share, so the chain can still reach every
allocation (the proposal stays irreducible and exact, `samplers/_weighted.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hardware import network_latency


if TYPE_CHECKING:
    from amed_opt.study.search_space import BitSearchSpace
    from hardware.protocol import HardwareModel


__all__ = ["COST_FLOOR", "cost_weights", "latency_savings"]

COST_FLOOR = 0.25
"""The fraction of each parameter's weight that is uniform (chosen on tuning seeds 0-1 of the
synthetic studies, `benchmarks/results/layer_choice/`)."""


def latency_savings(hardware: HardwareModel, space: BitSearchSpace) -> dict[str, int]:
    """Cycles each searched layer saves from the highest to the lowest candidate bitwidth."""
    bits = space.candidate_bits
    layers = space.layers
    high = network_latency(hardware, layers, [(max(bits), max(bits))] * len(layers))
    low = network_latency(hardware, layers, [(min(bits), min(bits))] * len(layers))
    return {
        layer.name: max(0, high.cycles_by_layer[layer.name] - low.cycles_by_layer[layer.name])
        for layer in space.searched_layers
    }


def cost_weights(hardware: HardwareModel, space: BitSearchSpace) -> dict[str, float]:
    """A proposal weight > 0 per trial parameter: `COST_FLOOR` uniform, the rest by savings.

    A layer searched as two parameters (weight and activation bits) splits its share between
    them. When no layer saves anything, every parameter gets the same weight.
    """
    savings = latency_savings(hardware, space)
    total = sum(savings.values())
    layers = space.searched_layers
    weights: dict[str, float] = {}
    for layer in layers:
        names = tuple(dict.fromkeys(space.param_names(layer.name)))
        share = savings[layer.name] / total if total > 0 else 1.0 / len(layers)
        layer_weight = COST_FLOOR / len(layers) + (1.0 - COST_FLOOR) * share
        for name in names:
            weights[name] = layer_weight / len(names)
    return weights
