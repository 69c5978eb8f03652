"""The exact noiseless front of the synthetic model, checked against every allocation."""

from __future__ import annotations

import itertools
import math

import pytest

from amed_opt.evaluation.synthetic import SyntheticEvaluator
from amed_opt.evaluation.synthetic_front import Reach
from amed_opt.evaluation.synthetic_front import reachable_front
from amed_opt.study.bits import BitConfig
from amed_opt.study.bits import LayerBits
from amed_opt.study.hypervolume import hypervolume
from amed_opt.study.search_space import BitSearchSpace
from amed_opt.study.spec import SearchSpec
from hardware import LayerShape
from hardware import SystolicArray
from hardware import load_preset


# Weight-heavy layers of different sizes, so that bits change cycles on the memory-bound preset.
LAYERS = tuple(
    LayerShape.conv2d(
        f"conv{i}", in_channels=16 * (i + 1), out_channels=64 * (i + 1), kernel=3, input_hw=(7, 7)
    )
    for i in range(5)
)
HARDWARE = SystolicArray(load_preset("scale-sim-lowmem"))


def _every_allocation(space: BitSearchSpace) -> list[BitConfig]:
    names = list(space.distributions())
    return [
        space.to_bits(dict(zip(names, values, strict=True)))
        for values in itertools.product(space.candidate_bits, repeat=len(names))
    ]


def _clean(evaluator: SyntheticEvaluator, bits: BitConfig) -> float:
    damage = sum(evaluator.layer_damage(n, b.w_bits, b.a_bits) for n, b in bits.items())
    assert damage == pytest.approx(evaluator.damage(bits), rel=1e-12)
    return evaluator.clean_accuracy(damage)


def _brute_front(
    evaluator: SyntheticEvaluator, allocations: list[BitConfig]
) -> list[tuple[int, float]]:
    """(cycles, noiseless accuracy) of every allocation no other beats, fastest first."""
    points = sorted(
        (evaluator.evaluate(b).latency_cycles, -_clean(evaluator, b)) for b in allocations
    )
    front: list[tuple[int, float]] = []
    for cycles, negative in points:
        # same cycles come most accurate first, so a later one never passes this test
        if not front or -negative > front[-1][1] + 1e-12:
            front.append((cycles, -negative))
    return front


@pytest.mark.parametrize("separate", [False, True])
def test_the_front_is_every_allocation_no_other_beats(separate: bool) -> None:
    search = SearchSpec(bits=(2, 3, 4, 6), separate_activation_bits=separate)
    space = BitSearchSpace(LAYERS, search)
    evaluator = SyntheticEvaluator(LAYERS, HARDWARE, seed=4)
    front = reachable_front(evaluator, space)
    expected = _brute_front(evaluator, _every_allocation(space))
    assert len(front) == len(expected) > 5
    for index, (cycles, accuracy) in enumerate(expected):
        point = front.point(index)
        assert point.latency_cycles == cycles
        assert point.accuracy == pytest.approx(accuracy, abs=1e-12)
        # the allocation it names has that latency and that accuracy before the noise
        metrics = evaluator.evaluate(point.bits)
        assert metrics.latency_cycles == cycles
        assert point.latency_ms == pytest.approx(metrics.latency_ms)
        assert _clean(evaluator, point.bits) == pytest.approx(accuracy, abs=1e-12)
        assert abs(metrics.accuracy - accuracy) <= evaluator.jitter + 1e-12
        assert point.bits[LAYERS[0].name] == LayerBits(8, 8)  # fixed layers stay fixed


def test_hypervolume_and_best_q_are_those_of_every_allocation() -> None:
    space = BitSearchSpace(LAYERS, SearchSpec(bits=(2, 3, 4, 5, 8)))
    evaluator = SyntheticEvaluator(LAYERS, HARDWARE, seed=7)
    front = reachable_front(evaluator, space)
    reference = evaluator.evaluate(space.uniform_bits(8)).latency_ms
    every = [
        (_clean(evaluator, b), evaluator.evaluate(b).latency_ms) for b in _every_allocation(space)
    ]
    assert front.hypervolume(reference) == pytest.approx(
        hypervolume((a, latency / reference) for a, latency in every), abs=1e-12
    )
    for weight in (0.1, 1.0, 4.0):
        best, index = front.best_q(weight, reference)
        assert best == pytest.approx(max(a - weight * lat / reference for a, lat in every))
        point = front.point(index)
        assert point.accuracy - weight * point.latency_ms / reference == pytest.approx(best)


def test_uniform_reach_says_what_the_cheaper_allocations_can_do() -> None:
    space = BitSearchSpace(LAYERS, SearchSpec(bits=(2, 3, 4, 5, 8)))
    allocations = _every_allocation(space)
    seen = set()
    # (seed, noise half-width) pairs that between them give every class
    for seed, jitter in [(6, 0.002), (0, 0.002), (2, 0.0), (2, 0.02), (6, 0.3)]:
        evaluator = SyntheticEvaluator(LAYERS, HARDWARE, seed=seed, jitter=jitter)
        front = reachable_front(evaluator, space)
        for bits in space.candidate_bits:
            found = front.uniform_reach(bits)
            seen.add(found.reach)
            uniform = evaluator.evaluate(space.uniform_bits(bits))
            cheaper = [
                _clean(evaluator, b)
                for b in allocations
                if evaluator.evaluate(b).latency_cycles < uniform.latency_cycles
            ]
            assert found.accuracy == uniform.accuracy
            if not cheaper:
                assert found.best is None and math.isnan(found.margin)
                assert found.reach is Reach.NEVER
                continue
            assert found.best is not None
            assert found.margin == pytest.approx(max(cheaper) - uniform.accuracy, abs=1e-12)
            # each class means what it says, for the noise as large as it can be either way
            if found.reach is Reach.CERTAIN:
                assert max(cheaper) - jitter >= uniform.accuracy - 1e-12
            elif found.reach is Reach.NEVER:
                assert max(cheaper) + jitter < uniform.accuracy
            else:
                assert max(cheaper) - jitter < uniform.accuracy <= max(cheaper) + jitter + 1e-12
    assert seen == set(Reach)


def test_the_lowest_bits_cannot_be_dominated_by_anything_cheaper() -> None:
    space = BitSearchSpace(LAYERS, SearchSpec(bits=(2, 3, 4)))
    front = reachable_front(SyntheticEvaluator(LAYERS, HARDWARE, seed=0), space)
    lowest = front.uniform_reach(2)
    assert lowest.best is None and lowest.reach is Reach.NEVER


def test_an_evaluator_of_other_layers_is_refused() -> None:
    space = BitSearchSpace(LAYERS, SearchSpec())
    with pytest.raises(ValueError, match="same layers"):
        reachable_front(SyntheticEvaluator(LAYERS[:4], HARDWARE), space)
    with pytest.raises(IndexError, match="has"):
        reachable_front(SyntheticEvaluator(LAYERS, HARDWARE), space).point(10**6)


def test_a_firm_domination_holds_whatever_the_noise() -> None:
    space = BitSearchSpace(LAYERS, SearchSpec(bits=(2, 3, 4, 5, 8)))
    allocations = _every_allocation(space)
    found = set()
    for seed, jitter in [(6, 0.002), (6, 0.0), (2, 0.02)]:
        evaluator = SyntheticEvaluator(LAYERS, HARDWARE, seed=seed, jitter=jitter)
        front = reachable_front(evaluator, space)
        for bits in (3, 4, 8):
            uniform = evaluator.evaluate(space.uniform_bits(bits))
            for allocation in allocations:
                firm = front.dominates_beyond_noise(allocation, bits)
                found.add(firm)
                metrics = evaluator.evaluate(allocation)
                expected = (
                    allocation != space.uniform_bits(bits)
                    and metrics.latency_cycles <= uniform.latency_cycles
                    and _clean(evaluator, allocation) - jitter >= uniform.accuracy
                )
                assert firm == expected
                if firm:  # then it dominates as reported, too
                    assert metrics.accuracy >= uniform.accuracy
    assert found == {True, False}
