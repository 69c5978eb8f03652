"""Where the AMED chains may start: `[sampler] start = "best-bridged"`.

With `start = "best-uniform"` the chains choose among the uniform ladder (8, 7, ..., 2 bits), so
a chain whose place on the front lies between two neighbouring uniform allocations walks there
from one of them, a few layers per step. `bridged_ladder` adds, between every two neighbours
`hi > lo` of the ladder, one *midpoint*: uniform `hi` with the searched layers that save the most
latency on this accelerator lowered to `lo`, heaviest first, until half of the latency between
the two is saved. The midpoints need no accuracy (only the hardware model), are the same for
every seed, and cost one trial each (six on the 2..8-bit ladder), counted in the budget like the
ladder's. A start does not change any chain's target: the chains stay exact.

Why by latency saved: on measured ResNet-18, lowering the deep, weight-heavy layers first loses
the least accuracy per latency saved (the greedy baseline's descent lowers them first,
benchmarks/results/search_quality/), and the hardware model ranks the layers without spending a
trial. Chosen on tuning seeds (benchmarks/results/layer_choice/, round 6).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from amed_opt.study.metrics import price_allocation
from amed_opt.study.search_space import start_bits
from amed_opt.study.search_space import uniform_ladder


if TYPE_CHECKING:
    from amed_opt.study.metrics import Pricing
    from amed_opt.study.search_space import BitSearchSpace
    from hardware.protocol import HardwareModel


__all__ = ["bridged_ladder", "latency_midpoint"]


def latency_midpoint(
    hardware: HardwareModel, space: BitSearchSpace, high: int, low: int
) -> dict[str, int]:
    """Uniform `high` bits with the layers saving the most cycles at `low` bits lowered to
    `low`, heaviest first, until at least half the cycles between uniform `high` and uniform
    `low` are saved (trial parameters). Ties keep network order.

    Raises:
        ValueError: If `low >= high`.
    """
    if low >= high:
        raise ValueError(f"a midpoint needs low < high bits, got low {low} and high {high}")
    return _midpoint(space, _price(hardware, space, high), _price(hardware, space, low), high, low)


def bridged_ladder(
    hardware: HardwareModel, space: BitSearchSpace, max_size_bytes: int | None
) -> list[dict[str, int]]:
    """The uniform ladder (highest bits first, as `uniform_ladder`), then the latency midpoint
    of every two neighbours on it, from the highest pair down; a midpoint equal to an allocation
    already in the list is left out. Each uniform allocation is priced once."""
    top = start_bits(space, max_size_bytes)
    bits = [b for b in sorted(space.candidate_bits, reverse=True) if b <= top]
    pricing = {b: _price(hardware, space, b) for b in bits}
    found = uniform_ladder(space, max_size_bytes)
    for high, low in zip(bits, bits[1:], strict=False):
        midpoint = _midpoint(space, pricing[high], pricing[low], high, low)
        if midpoint not in found:
            found.append(midpoint)
    return found


def _price(hardware: HardwareModel, space: BitSearchSpace, bits: int) -> Pricing:
    return price_allocation(hardware, space.layers, space.uniform_bits(bits))


def _midpoint(
    space: BitSearchSpace, at_high: Pricing, at_low: Pricing, high: int, low: int
) -> dict[str, int]:
    savings = {
        layer.name: at_high.cycles_by_layer[layer.name] - at_low.cycles_by_layer[layer.name]
        for layer in space.searched_layers
    }
    target = (at_high.latency_cycles - at_low.latency_cycles) / 2
    params = space.uniform_params(high)
    saved = 0
    for name in sorted(savings, key=lambda n: -savings[n]):  # stable: network order on ties
        if saved >= target:
            break
        for param in dict.fromkeys(space.param_names(name)):
            params[param] = low
        saved += savings[name]
    return params
