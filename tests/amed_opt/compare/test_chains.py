"""AMED chain summaries read back from a real (in-memory, synthetic) AMED study."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import optuna
import pytest

from amed_opt.app import build_sampler
from amed_opt.compare._chains import chain_summaries
from amed_opt.evaluation.synthetic import SyntheticEvaluator
from amed_opt.samplers import WEIGHTS_KEY
from amed_opt.samplers import chain_history
from amed_opt.study.metrics import price_allocation
from amed_opt.study.objective import Objective
from amed_opt.study.search_space import BitSearchSpace
from amed_opt.study.spec import ChainStart
from amed_opt.study.spec import ChainWeights
from amed_opt.study.spec import StudySpec
from amed_opt.study.spec import load_spec
from hardware import LayerShape
from hardware import SystolicArray
from hardware import load_preset


N_TRIALS = 9


STUDY = Path(__file__).resolve().parents[2] / "data" / "synthetic_study.toml"


def _run_amed(spec: StudySpec, n_trials: int) -> tuple[optuna.Study, float]:
    """`spec`'s AMED sampler over five small layers, for `n_trials` synthetic trials."""
    layers = [
        LayerShape.conv2d(f"conv{i}", in_channels=32, out_channels=32, input_hw=(16, 16), kernel=3)
        for i in range(5)
    ]
    hardware = SystolicArray(load_preset("scale-sim"))
    space = BitSearchSpace(layers, spec.search)
    reference_ms = price_allocation(hardware, layers, space.uniform_bits(8)).latency_ms
    sampler = build_sampler(
        spec, space, reference_latency_ms=reference_ms, max_size_bytes=None, hardware=hardware
    )
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
    objective = Objective(SyntheticEvaluator(layers, hardware, seed=0), space)
    study.optimize(objective, n_trials=n_trials)
    return study, reference_ms


@pytest.fixture(scope="module")
def amed_study() -> tuple[optuna.Study, StudySpec, float]:
    """Nine trials of the study's two AMED chains (lambda 0.5 and 2) over five small layers."""
    spec = load_spec(str(STUDY))
    study, reference_ms = _run_amed(spec, N_TRIALS)
    return study, spec, reference_ms


def test_every_chain_is_summarised_with_its_moves_and_head_trace(
    amed_study: tuple[optuna.Study, StudySpec, float],
) -> None:
    study, spec, reference_ms = amed_study
    trials = study.get_trials()
    chains = chain_summaries(study, spec, {t.number for t in trials}, reference_ms)
    assert [(c.chain, c.latency_weight) for c in chains] == [(0, 0.5), (1, 2.0)]
    # One shared start (uniform 8 bits), then every trial is one chain's move.
    assert sum(c.moves for c in chains) == N_TRIALS - 1
    assert sum(c.accepted for c in chains) == sum(
        bool(t.user_attrs.get("mh_accepted")) for t in trials[1:]
    )
    for chain in chains:
        history = chain_history(study, chain.chain)
        assert [row[0] for row in chain.proposals] == [s.step for s in history]
        assert [bool(row[4]) for row in chain.proposals] == [s.accepted for s in history]
        assert chain.temperatures == (0.01, 0.01)  # the study's constant temperature
        assert 0 <= chain.mean_alpha <= 1
        for _, head_number, accuracy, latency, mean_bits, quality in chain.trace:
            head = trials[int(head_number)]
            assert (accuracy, latency) == pytest.approx(
                (head.values[0], head.values[1] / reference_ms)
            )
            assert quality == pytest.approx(accuracy - chain.latency_weight * latency)
            assert 2 <= mean_bits <= 8


def test_chains_stop_at_the_budget(amed_study: tuple[optuna.Study, StudySpec, float]) -> None:
    study, spec, reference_ms = amed_study
    chains = chain_summaries(study, spec, set(range(5)), reference_ms)
    assert sum(c.moves for c in chains) == 4
    assert all(row[1] < 5 for c in chains for row in c.proposals)


def test_a_study_without_chains_has_no_chain_summaries(
    amed_study: tuple[optuna.Study, StudySpec, float],
) -> None:
    _, spec, reference_ms = amed_study
    study = optuna.create_study(directions=["maximize", "minimize"])
    study.add_trial(optuna.trial.create_trial(values=[0.5, 1.0], user_attrs={"bits": "8 8"}))
    assert chain_summaries(study, spec, {0}, reference_ms) == []


def test_chains_with_weights_read_off_the_uniform_front_are_summarised_at_those_weights() -> None:
    """`chain_weights = "uniform-front"` through the factory: the chains' stored weights, not the
    spec's fallback list, label the summaries and score their heads."""
    spec = load_spec(str(STUDY))
    spec = dataclasses.replace(
        spec,
        sampler=dataclasses.replace(
            spec.sampler, start=ChainStart.BEST_UNIFORM, chain_weights=ChainWeights.UNIFORM_FRONT
        ),
    )
    study, reference_ms = _run_amed(spec, 7 + 6)  # the uniform ladder (8..2 bits), six steps
    stored = study._storage.get_study_system_attrs(study._study_id)[WEIGHTS_KEY]
    assert len(stored) == len(spec.sampler.latency_weights)
    assert tuple(stored) != spec.sampler.latency_weights
    trials = study.get_trials()
    chains = chain_summaries(study, spec, {t.number for t in trials}, reference_ms)
    assert [c.latency_weight for c in chains] == stored
    for chain in chains:
        for _, _, accuracy, latency, _, quality in chain.trace:
            assert quality == pytest.approx(accuracy - chain.latency_weight * latency)
