"""The AMED `best-bridged` start: the uniform ladder, then latency midpoints between neighbours."""

from __future__ import annotations

import pytest

from amed_opt.study.metrics import price_allocation
from amed_opt.study.search_space import BitSearchSpace
from amed_opt.study.search_space import uniform_ladder
from amed_opt.study.spec import SearchSpec
from amed_opt.study.start_candidates import bridged_ladder
from amed_opt.study.start_candidates import latency_midpoint
from hardware import LayerShape
from hardware import SystolicArray
from hardware import load_preset


HARDWARE = SystolicArray(load_preset("scale-sim"))


def _space(separate: bool = False) -> BitSearchSpace:
    """Six searched layers of different weight (the first and last are fixed)."""
    layers = [
        LayerShape.conv2d("stem", in_channels=3, out_channels=16, input_hw=(32, 32), kernel=3)
    ]
    for i, channels in enumerate((16, 512, 64, 256, 32, 128)):
        layers.append(
            LayerShape.conv2d(
                f"c{i}", in_channels=channels, out_channels=channels, input_hw=(4, 4), kernel=1
            )
        )
    layers.append(LayerShape.linear("fc", in_features=128, out_features=10))
    return BitSearchSpace(layers, SearchSpec(separate_activation_bits=separate))


def _cycles(space: BitSearchSpace, params: dict[str, int]) -> int:
    return price_allocation(HARDWARE, space.layers, space.to_bits(params)).latency_cycles


@pytest.mark.parametrize("separate", [False, True])
def test_a_midpoint_lowers_the_heaviest_layers_until_half_the_latency_is_saved(
    separate: bool,
) -> None:
    space = _space(separate)
    high, low = space.uniform_params(4), space.uniform_params(3)
    midpoint = latency_midpoint(HARDWARE, space, 4, 3)
    half = (_cycles(space, high) - _cycles(space, low)) / 2
    assert _cycles(space, high) - _cycles(space, midpoint) >= half
    lowered = [
        layer.name
        for layer in space.searched_layers
        if space.to_bits(midpoint)[layer.name].w_bits == 3
    ]
    assert lowered and len(lowered) < len(space.searched_layers)
    for name in lowered:  # both parameters of a lowered layer move, the others stay
        assert {midpoint[p] for p in space.param_names(name)} == {3}
    assert set(midpoint.values()) == {3, 4}
    # The heaviest layers first (c1: 512 channels, c3: 256), and no more than needed: raising
    # the lightest lowered layer back saves less than half.
    assert "c1" in lowered
    savings = {
        layer.name: _cycles(space, high)
        - _cycles(space, {**high, **dict.fromkeys(space.param_names(layer.name), 3)})
        for layer in space.searched_layers
    }
    kept = [n for n in savings if n not in lowered]
    assert min(savings[n] for n in lowered) >= max(savings[n] for n in kept)
    lightest = min(lowered, key=lambda n: savings[n])
    undone = {**midpoint, **dict.fromkeys(space.param_names(lightest), 4)}
    assert _cycles(space, high) - _cycles(space, undone) < half


def test_the_bridged_ladder_is_the_uniform_ladder_then_one_midpoint_per_neighbour_pair() -> None:
    space = _space()
    found = bridged_ladder(HARDWARE, space, None)
    ladder = uniform_ladder(space, None)
    assert found[: len(ladder)] == ladder
    midpoints = found[len(ladder) :]
    assert len(midpoints) == len(ladder) - 1
    pairs = list(zip(ladder, ladder[1:], strict=False))
    for (high, low), midpoint in zip(pairs, midpoints, strict=True):
        assert _cycles(space, low) < _cycles(space, midpoint) < _cycles(space, high)
    assert len({tuple(p.values()) for p in found}) == len(found)  # no repeats


def test_a_size_limit_keeps_the_midpoints_below_the_highest_allowed_uniform() -> None:
    space = _space()
    limit = space.uniform_bits(6).weight_size_bytes(space.layers)
    found = bridged_ladder(HARDWARE, space, limit)
    assert [max(p.values()) for p in found[:5]] == [6, 5, 4, 3, 2]
    assert len(found) == 5 + 4
    assert all(space.to_bits(p).weight_size_bytes(space.layers) <= limit for p in found)


def test_a_midpoint_needs_a_lower_bitwidth() -> None:
    with pytest.raises(ValueError, match="low < high"):
        latency_midpoint(HARDWARE, _space(), 3, 3)
