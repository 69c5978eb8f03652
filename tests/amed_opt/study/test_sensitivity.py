"""The AMED `probed` start: the ladder, one probe per layer, then the separable model's picks."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from amed_opt.study.metrics import price_allocation
from amed_opt.study.search_space import BitSearchSpace
from amed_opt.study.search_space import uniform_ladder
from amed_opt.study.sensitivity import SensitivityModel
from amed_opt.study.sensitivity import latency_weight_grid
from amed_opt.study.sensitivity import probed_start
from amed_opt.study.sensitivity import start_budget
from amed_opt.study.spec import SearchSpec
from hardware import LayerShape
from hardware import SystolicArray
from hardware import load_preset


HARDWARE = SystolicArray(load_preset("scale-sim"))
CHANNELS = (16, 512, 64, 256, 32, 128)


def _space(bits: tuple[int, ...] = (2, 3, 4, 8), separate: bool = False) -> BitSearchSpace:
    """Six searched layers of different weight (the first and last are fixed)."""
    layers = [
        LayerShape.conv2d("stem", in_channels=3, out_channels=16, input_hw=(32, 32), kernel=3)
    ]
    for i, channels in enumerate(CHANNELS):
        layers.append(
            LayerShape.conv2d(
                f"c{i}", in_channels=channels, out_channels=channels, input_hw=(4, 4), kernel=1
            )
        )
    layers.append(LayerShape.linear("fc", in_features=128, out_features=10))
    return BitSearchSpace(layers, SearchSpec(bits=bits, separate_activation_bits=separate))


def _cycles(space: BitSearchSpace, params: dict[str, int]) -> int:
    return price_allocation(HARDWARE, space.layers, space.to_bits(params)).latency_cycles


def test_the_weight_grid_doubles_from_the_smallest_and_keeps_the_chains_weights() -> None:
    assert latency_weight_grid([2.0, 0.5, 8.0, 0.1, 1.0]) == (
        0.1, 0.2, 0.4, 0.5, 0.8, 1.0, 1.6, 2.0, 3.2, 6.4, 8.0
    )  # fmt: skip
    assert latency_weight_grid([1.0]) == (1.0,)
    assert latency_weight_grid([0.0, 0.25, 1.0]) == (0.25, 0.5, 1.0)  # weight 0: no pick
    assert latency_weight_grid([0.0]) == latency_weight_grid([]) == ()
    for bad in ([1.0, -2.0], [float("nan")], [float("inf")]):
        with pytest.raises(ValueError, match="latency weights must be numbers >= 0"):
            latency_weight_grid(bad)


@pytest.mark.parametrize("separate", [False, True])
def test_probes_follow_the_ladder_heaviest_layers_first(separate: bool) -> None:
    space = _space(separate=separate)
    first, model = probed_start(HARDWARE, space, None, latency_weights=[1.0], max_probes=4)
    ladder = uniform_ladder(space, None)
    assert first[: len(ladder)] == ladder
    probes = first[len(ladder) :]
    assert len(probes) == 4 and model is not None
    lowered = []
    for probe in probes:  # all at 8 bits but one layer (both its parameters) at 2 bits
        layers = [
            layer.name
            for layer in space.searched_layers
            if space.to_bits(probe)[layer.name].w_bits == 2
        ]
        assert len(layers) == 1 and set(probe.values()) == {2, 8}
        assert {probe[p] for p in space.param_names(layers[0])} == {2}
        lowered.append(layers[0])
    saved = [_cycles(space, space.uniform_params(8)) - _cycles(space, probe) for probe in probes]
    assert saved == sorted(saved, reverse=True)
    assert lowered[0] == "c1"  # 512 channels: the most latency saved
    # Without room for probes, only the ladder; with one bitwidth, no model at all.
    assert probed_start(HARDWARE, space, None, latency_weights=[1.0], max_probes=0)[0] == ladder
    # A size limit that only uniform 2 bits meets leaves one bitwidth: no probes, no model.
    limit = space.uniform_bits(2).weight_size_bytes(space.layers)
    single, none = probed_start(HARDWARE, space, limit, latency_weights=[1.0], max_probes=9)
    assert single == [space.uniform_params(2)] and none is None
    with pytest.raises(ValueError, match="max_probes"):
        probed_start(HARDWARE, space, None, latency_weights=[1.0], max_probes=-1)


def _separable_truth(space: BitSearchSpace) -> Any:
    """Accuracy that adds up over layers: each layer's scale of one bitwidth curve."""
    scale = {layer.name: 0.01 * (1 + (i * 7) % 5) for i, layer in enumerate(space.searched_layers)}
    curve = {8: 0.0, 4: 0.05, 3: 0.3, 2: 1.0}

    def accuracy(params: dict[str, int]) -> float:
        bits = space.to_bits(params)
        return 0.9 - sum(scale[n] * curve[bits[n].w_bits] for n in scale)

    return accuracy


def test_on_a_separable_landscape_the_model_picks_the_best_allocation_per_weight() -> None:
    space = _space()
    accuracy = _separable_truth(space)
    weights = [0.05, 0.3, 1.0, 4.0]
    first, model = probed_start(HARDWARE, space, None, latency_weights=weights, max_probes=99)
    assert model is not None and len(first) == 4 + len(space.searched_layers)
    finished = [(p, (accuracy(p), float(_cycles(space, p)))) for p in first]
    picks = model(finished)
    grid = latency_weight_grid(weights)
    # The halvings of the smallest weight (most accurate first), the grid, then one pick per
    # uniform bitwidth strictly between the top and the lowest (4 and 3 bits).
    picks, fitting = picks[:-2], picks[-2:]
    below = len(picks) - len(grid)
    assert 1 <= below <= 8
    weights_of_picks = [grid[0] * 2.0**-k for k in range(below, 0, -1)] + list(grid)
    reference = _cycles(space, space.uniform_params(8))
    names = [layer.name for layer in space.searched_layers]
    everything = [
        {space.param_names(n)[0]: b for n, b in zip(names, combo, strict=True)}
        for combo in itertools.product((2, 3, 4, 8), repeat=len(names))
    ]
    for weight, pick in zip(weights_of_picks, picks, strict=True):

        def q(params: dict[str, int], w: float = weight) -> float:
            return accuracy(params) - w * _cycles(space, params) / reference

        assert q(pick) == pytest.approx(max(q(p) for p in everything), abs=1e-9)
    # Small weights keep the accurate bits, large ones go fast; the halvings stop at the
    # model's most accurate allocation (here: every layer at 8 bits but the insensitive ones).
    latencies = [_cycles(space, pick) for pick in picks]
    assert latencies == sorted(latencies, reverse=True) and latencies[0] > latencies[-1]
    tiny = grid[0] * 2.0**-8

    def q_tiny(params: dict[str, int]) -> float:
        return accuracy(params) - tiny * _cycles(space, params) / reference

    assert q_tiny(picks[0]) == pytest.approx(max(q_tiny(p) for p in everything), abs=1e-9)
    # Each uniform bitwidth's pick is no slower than it and the most accurate of the picks
    # that are not.
    for bits, pick in zip((4, 3), fitting, strict=True):
        budget = _cycles(space, space.uniform_params(bits))
        assert _cycles(space, pick) <= budget
        assert accuracy(pick) >= max(accuracy(p) for p in picks if _cycles(space, p) <= budget)
    # Finished in another order, the same picks: the model reads the candidates by params.
    assert model(list(reversed(finished)))[: len(picks)] == picks


def test_a_loss_within_the_noise_counts_as_the_noise() -> None:
    """Probes more accurate than the top are noise; no layer is taken as free to lower."""
    space = _space()
    accuracy = _separable_truth(space)
    first, model = probed_start(HARDWARE, space, None, latency_weights=[1.0], max_probes=99)
    assert model is not None
    top = accuracy(first[0])
    noisy = {"c4": top + 0.002, "c5": top + 0.001}  # lucky probes of the two lightest layers
    finished = []
    for params in first:
        lowered = [n for n in noisy if space.to_bits(params)[n].w_bits == 2]
        value = noisy[lowered[0]] if len(lowered) == 1 and len(set(params.values())) > 1 else None
        finished.append((params, (accuracy(params) if value is None else value, 1.0)))
    most_accurate = model(finished)[0]
    for name in noisy:  # at a vanishing weight they stay at 8 bits, as every measured layer
        assert space.to_bits(most_accurate)[name].w_bits == 8
    assert set(most_accurate.values()) == {8}


def test_missing_results_fall_back_without_failing() -> None:
    space = _space()
    accuracy = _separable_truth(space)
    first, model = probed_start(HARDWARE, space, None, latency_weights=[1.0], max_probes=99)
    assert model is not None
    finished = [(p, (accuracy(p), float(_cycles(space, p)))) for p in first]
    top, probes = finished[0], finished[4:]
    assert model([]) == []  # nothing measured
    assert model([p for p in finished if p is not top]) == []  # no top accuracy
    assert model(finished[:4]) == []  # no probe: no sensitivity
    # A failed probe (or uniform 3 bits) leaves its layer at the mean sensitivity (that
    # bitwidth out of the choices): still one allocation, of searched params only.
    partial = model([f for f in finished if f is not probes[2] and f is not finished[2]])
    assert partial and all(set(pick) == set(space.distributions()) for pick in partial)
    assert all(3 not in pick.values() for pick in partial)


def test_the_model_refuses_bad_settings() -> None:
    space = _space()
    _first, model = probed_start(HARDWARE, space, None, latency_weights=[1.0], max_probes=2)
    assert model is not None
    for change, message in [
        ({"layers": ()}, "at least one searched layer"),
        ({"bits": (8,)}, "two or more ascending bits"),
        ({"bits": (8, 2)}, "two or more ascending bits"),
        ({"reference_cycles": 0}, "reference_cycles must be positive"),
        ({"weights": (0.0,)}, "weights must be positive"),
        ({"accuracy_index": -1}, "accuracy_index"),
    ]:
        fields = {
            "layers": model.layers,
            "bits": model.bits,
            "reference_cycles": model.reference_cycles,
            "weights": model.weights,
            "accuracy_index": model.accuracy_index,
        }
        fields.update(change)
        with pytest.raises(ValueError, match=message):
            SensitivityModel(**fields)


def test_chains_at_weight_zero_get_the_picks_below_the_grid_and_against_the_ladder() -> None:
    space = _space()
    accuracy = _separable_truth(space)
    first, model = probed_start(HARDWARE, space, None, latency_weights=[0.0], max_probes=99)
    assert model is not None and model.weights == ()
    picks = model([(p, (accuracy(p), 1.0)) for p in first])
    assert len(picks) >= 3  # at least one below the grid, one per uniform 4 and 3 bits
    for bits, pick in zip((4, 3), picks[-2:], strict=True):
        assert _cycles(space, pick) <= _cycles(space, space.uniform_params(bits))


def test_the_model_weighs_latency_as_q_does_without_8_bits() -> None:
    """Q divides by every layer at 8 bits, whatever the candidates: so does the model."""
    space = _space(bits=(2, 3, 4, 6))
    first, model = probed_start(HARDWARE, space, None, latency_weights=[1.0], max_probes=99)
    assert model is not None
    everything_at_8 = _space(bits=(2, 8)).uniform_params(8)
    assert model.reference_cycles == _cycles(_space(bits=(2, 8)), everything_at_8)
    assert model.reference_cycles > _cycles(space, space.uniform_params(6))


def test_the_start_budget_leaves_the_chains_steps() -> None:
    assert start_budget(100, 7, 19, 5) == (50, 64)  # ResNet-18: no pick cap binds
    assert start_budget(100, 7, 51, 5) == (50, 33)  # MobileNetV2: 24 picks at most, no cap
    assert start_budget(60, 7, 52, 5) == (30, 13)  # ResNet-50: 7 + 30 + 13, 10 chain trials
    assert start_budget(10, 7, 19, 5) == (5, 5)  # a smoke test: one pick per chain still
    with pytest.raises(ValueError, match="start budget"):
        start_budget(0, 7, 19, 5)


def test_capped_picks_are_new_and_keep_the_chains_weights_first() -> None:
    space = _space()
    accuracy = _separable_truth(space)
    weights = [0.05, 0.3, 4.0]
    first, full_model = probed_start(HARDWARE, space, None, latency_weights=weights, max_probes=99)
    assert full_model is not None
    finished = [(p, (accuracy(p), 1.0)) for p in first]
    full = full_model(finished)
    grid = latency_weight_grid(weights)
    below = len(full) - len(grid) - 2
    chains = {tuple(sorted(full[below + grid.index(w)].items())) for w in weights} - {
        tuple(sorted(p.items())) for p in first
    }
    for limit in (0, len(chains), 100):
        _, model = probed_start(
            HARDWARE, space, None, latency_weights=weights, max_probes=99, max_picks=limit
        )
        assert model is not None
        capped = model(finished)
        keys = [tuple(sorted(p.items())) for p in capped]
        assert len(keys) == len(set(keys)) <= limit  # distinct, within the cap
        assert not set(keys) & {tuple(sorted(p.items())) for p in first}  # none a candidate
        assert capped == [
            p for i, p in enumerate(full) if p in capped and p not in full[:i]
        ]  # in the full list's order
        if limit == len(chains):
            assert set(keys) == chains
        if limit == 100:
            expected = {tuple(sorted(p.items())) for p in full} - {
                tuple(sorted(p.items())) for p in first
            }
            assert set(keys) == expected
    with pytest.raises(ValueError, match="max_picks"):
        probed_start(HARDWARE, space, None, latency_weights=weights, max_probes=9, max_picks=-1)
