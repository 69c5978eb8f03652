"""The greedy baseline: its walk on a hand-made landscape, determinism, resuming, its start."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution
from optuna.distributions import IntDistribution

from amed_opt.samplers import GreedySampler
from amed_opt.samplers import QualityScore


BITS = (2, 3, 4, 5, 6, 7, 8)
LAYERS = ("a", "b", "c")
SPACE = {name: CategoricalDistribution(BITS) for name in LAYERS}
# Accuracy lost and latency saved per bit removed from each layer: the ratios are 0.001 (a),
# 0.0005 (b) and 0.004 (c), so greedy lowers b first.
LOSS = {"a": 0.002, "b": 0.001, "c": 0.004}
COST = {"a": 2.0, "b": 2.0, "c": 1.0}
REFERENCE = sum(8 * COST[name] for name in LAYERS)


def measure(params: dict[str, int]) -> tuple[float, float]:
    accuracy = 0.9 - sum(LOSS[n] * (8 - params[n]) for n in LAYERS)
    return accuracy, sum(COST[n] * params[n] for n in LAYERS)


def objective(trial: optuna.Trial) -> tuple[float, float]:
    return measure({n: int(trial.suggest_categorical(n, BITS)) for n in LAYERS})


def make_sampler(seed: int = 0, **kwargs: object) -> GreedySampler:
    return GreedySampler(
        search_space=SPACE,
        score=QualityScore(latency_reference=REFERENCE),
        candidates=[dict.fromkeys(LAYERS, bits) for bits in reversed(BITS)],
        seed=seed,
        **kwargs,  # type: ignore[arg-type]
    )


def run(n_trials: int, seed: int = 0, storage: str | None = None) -> optuna.Study:
    study = optuna.create_study(
        directions=["maximize", "minimize"],
        sampler=make_sampler(seed),
        storage=storage,
        study_name="greedy",
        load_if_exists=True,
    )
    study.optimize(objective, n_trials=n_trials - len(study.trials))
    return study


def params_of(study: optuna.Study) -> list[dict[str, int]]:
    return [dict(t.params) for t in study.trials]


def test_walks_down_by_least_accuracy_per_latency() -> None:
    study = run(1 + 3 + 3)
    params = params_of(study)
    assert params[0] == dict.fromkeys(LAYERS, 8)  # No ladder finished: uniform 8 bits first.
    # Round 0: every layer one step lower, in search-space order.
    assert params[1:4] == [
        {"a": 7, "b": 8, "c": 8},
        {"a": 8, "b": 7, "c": 8},
        {"a": 8, "b": 8, "c": 7},
    ]
    # b has the best ratio, so round 1 starts from b at 7 bits.
    assert params[4:7] == [
        {"a": 7, "b": 7, "c": 8},
        {"a": 8, "b": 6, "c": 8},
        {"a": 8, "b": 7, "c": 7},
    ]
    system = study.trials[4].system_attrs["greedy:proposal"]
    assert (system["round"], system["kind"]) == (1, "step")


def test_stops_at_the_bottom_and_falls_back_to_new_allocations() -> None:
    space = {"a": IntDistribution(2, 3), "b": IntDistribution(2, 3)}
    sampler = GreedySampler(search_space=space, score=QualityScore(latency_reference=6.0), seed=1)
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
    study.optimize(
        lambda t: (t.suggest_int("a", 2, 3) / 10, t.suggest_int("b", 2, 3) * 1.0), n_trials=6
    )
    seen = [tuple(t.params.values()) for t in study.trials]
    assert set(seen[:4]) == {(3, 3), (2, 3), (3, 2), (2, 2)}
    assert study.trials[5].system_attrs["greedy:proposal"]["kind"] == "fallback"


def test_starts_from_the_best_enqueued_uniform_allocation() -> None:
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=make_sampler())
    for bits in reversed(BITS):
        study.enqueue_trial(dict.fromkeys(LAYERS, bits))
    study.optimize(objective, n_trials=len(BITS) + 1)
    # Q = accuracy - latency / REFERENCE is highest at uniform 2 bits on this landscape, which
    # has nothing lower: the walk starts from the best allocation it can descend from instead.
    score = QualityScore(latency_reference=REFERENCE)
    ladder = zip(reversed(BITS), study.trials[: len(BITS)], strict=True)
    scores = {bits: score(trial.values) for bits, trial in ladder}
    assert max(scores, key=scores.__getitem__) == 2
    assert max((b for b in BITS if b > 2), key=scores.__getitem__) == 3
    step = study.trials[-1]
    assert step.system_attrs["greedy:proposal"]["kind"] == "step"
    assert step.params == {"a": 2, "b": 3, "c": 3}  # round 0 from uniform 3: a lowered first

    heavy = QualityScore(latency_reference=REFERENCE, latency_weight=0.0)  # accuracy alone
    sampler = GreedySampler(
        search_space=SPACE,
        score=heavy,
        candidates=[dict.fromkeys(LAYERS, bits) for bits in reversed(BITS)],
        seed=0,
    )
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
    for bits in (8, 5):
        study.enqueue_trial(dict.fromkeys(LAYERS, bits))
    study.optimize(objective, n_trials=3)
    assert study.trials[2].params == {"a": 7, "b": 8, "c": 8}  # from uniform 8, the best


def test_is_deterministic_and_resumes_from_storage(tmp_path: Path) -> None:
    reference = params_of(run(25, seed=3))
    assert params_of(run(25, seed=3)) == reference
    url = f"sqlite:///{tmp_path / 'greedy.db'}"
    run(11, seed=3, storage=url)  # a new sampler object, as after a killed process
    assert params_of(run(25, seed=3, storage=url)) == reference


def test_ties_are_broken_by_the_seed() -> None:
    space = {name: CategoricalDistribution(BITS) for name in ("x", "y")}

    def flat(trial: optuna.Trial) -> tuple[float, float]:
        x, y = (int(trial.suggest_categorical(n, BITS)) for n in ("x", "y"))
        return 0.9 - 0.001 * (16 - x - y), float(x + y)

    chosen = set()
    for seed in range(8):
        sampler = GreedySampler(
            search_space=space, score=QualityScore(latency_reference=16.0), seed=seed
        )
        study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
        study.optimize(flat, n_trials=4)
        chosen.add(tuple(study.trials[3].params.values()))
    # From (7, 8) the next trial is (6, 8), from (8, 7) it is (7, 7): both happen.
    assert chosen == {(6, 8), (7, 7)}


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="distinct"):
        GreedySampler(search_space=SPACE, score=lambda v: v[0], accuracy_index=1, latency_index=1)
    with pytest.raises(ValueError, match="candidates"):
        GreedySampler(search_space=SPACE, score=lambda v: v[0], candidates=[{"a": 8}])
