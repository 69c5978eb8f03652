"""The grouped settings validate themselves and resolve what each chain uses."""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import pytest
from optuna.distributions import CategoricalDistribution
from optuna.distributions import IntDistribution

from amed_opt.samplers import Boundary
from amed_opt.samplers import ChainSettings
from amed_opt.samplers import ConstantTemperature
from amed_opt.samplers import GeometricAnnealing
from amed_opt.samplers import ProposalSettings
from amed_opt.samplers import QualityScore
from amed_opt.samplers._space import OrderedSearchSpace


SCORES = [QualityScore(latency_reference=1.0, latency_weight=w) for w in (0.5, 2.0)]


# -- ChainSettings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"temperature": 0.0}, "temperature must be a finite number > 0"),
        ({"temperature": -1.0}, "temperature"),
        ({"temperature": float("nan")}, "temperature"),
        ({"temperature": True}, "temperature"),
        ({"temperature": "hot"}, "temperature must be a number > 0 or a schedule"),
        ({"temperature": [0.1, 0.0], "n_chains": 2}, r"temperature\[1\]"),
        ({"n_chains": 0}, "n_chains"),
        ({"n_chains": 1.0}, "n_chains"),
        ({"score": SCORES, "n_chains": 3}, "n_chains"),
        ({"score": SCORES, "temperature": [0.1]}, "temperature"),
        ({"score": []}, "score"),
        ({"score": ["not callable"]}, r"score\[0\] must be callable"),
        ({"chain_ids": [1]}, "chain_ids"),
        ({"chain_ids": []}, "chain_ids"),
        ({"chain_ids": [True]}, "chain_ids"),
        ({"score": SCORES, "chain_ids": [0, 0]}, "chain_ids"),
    ],
)
def test_bad_chain_settings_raise_value_error_naming_them(
    kwargs: dict[str, Any], argument: str
) -> None:
    with pytest.raises(ValueError, match=argument):
        ChainSettings(**kwargs)


def test_default_is_one_chain_scoring_the_objective_at_a_hundredth() -> None:
    settings = ChainSettings()
    assert settings.count == 1 and settings.advanced == (0,)
    assert settings.scores == (None,)
    assert settings.temperatures == (ConstantTemperature(0.01),)


def test_the_number_of_chains_comes_from_any_sequence_or_n_chains() -> None:
    annealing = GeometricAnnealing(initial_temperature=0.1, decay=0.9, min_temperature=0.01)
    by_score = ChainSettings(score=SCORES, temperature=annealing)
    assert by_score.count == 2
    assert by_score.scores == tuple(SCORES)
    assert by_score.temperatures == (annealing, annealing)
    by_temperature = ChainSettings(temperature=[0.1, annealing, 3])
    assert by_temperature.count == 3 and by_temperature.scores == (None, None, None)
    assert by_temperature.temperatures == (
        ConstantTemperature(0.1),
        annealing,
        ConstantTemperature(3.0),
    )
    assert ChainSettings(n_chains=4, score=SCORES[0]).scores == (SCORES[0],) * 4


def test_chain_ids_select_the_chains_a_sampler_advances() -> None:
    settings = ChainSettings(score=SCORES, chain_ids=[1])
    assert settings.advanced == (1,) and settings.chain_ids == (1,)
    assert ChainSettings(score=SCORES).advanced == (0, 1)
    worker = dataclasses.replace(ChainSettings(score=SCORES), chain_ids=[0])
    assert worker.advanced == (0,) and worker.scores == tuple(SCORES)


def test_sequences_are_copied_into_tuples() -> None:
    scores = list(SCORES)
    settings = ChainSettings(score=scores, temperature=[0.1, 0.2])
    scores.append(SCORES[0])
    assert settings.score == tuple(SCORES) and settings.temperature == (0.1, 0.2)
    assert settings == ChainSettings(score=tuple(SCORES), temperature=(0.1, 0.2))


# -- ProposalSettings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"n_flips": 0}, "n_flips"),
        ({"n_flips": 1.0}, "n_flips"),
        ({"n_flips": True}, "n_flips"),
        ({"boundary": "sideways"}, "boundary must be one of 'forced', 'lazy'"),
        ({"proposal_filter": "small"}, "proposal_filter"),
    ],
)
def test_bad_proposal_settings_raise_value_error_naming_them(
    kwargs: dict[str, Any], argument: str
) -> None:
    with pytest.raises(ValueError, match=argument):
        ProposalSettings(**kwargs)


def test_boundary_names_become_the_enum() -> None:
    assert ProposalSettings(boundary="lazy").boundary is Boundary.LAZY
    assert ProposalSettings().boundary is Boundary.FORCED


def test_even_n_flips_warn_about_parity_only_with_the_forced_boundary() -> None:
    with pytest.warns(UserWarning, match="parity"):
        ProposalSettings(n_flips=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ProposalSettings(n_flips=2, boundary="lazy")
        ProposalSettings(n_flips=3)
        # Weighted choices move a random number of parameters: no parity is kept.
        ProposalSettings(n_flips=2, layer_weights={"a": 1.0, "b": 2.0})


def test_the_kernel_refuses_more_flips_than_movable_parameters() -> None:
    space = OrderedSearchSpace({"a": CategoricalDistribution((8,)), "b": IntDistribution(2, 4)})
    kernel = ProposalSettings(n_flips=1).kernel(space)
    assert all(kernel.draw((0, 1), np.random.default_rng(seed)).state[0] == 0 for seed in range(5))
    with pytest.raises(ValueError, match=r"n_flips \(2\) must not exceed .* \(1\)"):
        ProposalSettings(n_flips=2, boundary="lazy").kernel(space)
