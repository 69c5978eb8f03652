"""`StudySpec` checks its top-level keys and the types of its sections; `to_dict` is plain data."""

from __future__ import annotations

import dataclasses
import json

import pytest

from amed_opt.study.spec import EvaluatorMode
from amed_opt.study.spec import EvaluatorSpec
from amed_opt.study.spec import ModelSpec
from amed_opt.study.spec import SpecError
from amed_opt.study.spec import StudySpec
from amed_opt.study.spec import load_spec


TINY = StudySpec("tiny", ModelSpec("resnet18"))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": ""}, "name must be a non-empty name without spaces or slashes, got ''"),
        ({"name": "a/b"}, "name must be a non-empty name"),
        ({"n_trials": 0}, "n_trials must be > 0, got 0"),
        ({"n_trials": 2.0}, "n_trials must be an integer, got float"),
        ({"seed": True}, "seed must be an integer, got bool True"),
        ({"description": None}, "description must be a string"),
        ({"model": "resnet18"}, "model must be a ModelSpec, got str"),
        ({"evaluator": ModelSpec("x")}, "evaluator must be a EvaluatorSpec, got ModelSpec"),
    ],
)
def test_bad_top_level_values_name_the_key(changes: dict[str, object], message: str) -> None:
    with pytest.raises(SpecError, match=f"^{message}"):
        dataclasses.replace(TINY, **changes)  # type: ignore[arg-type]


def test_a_seed_is_a_32_bit_unsigned_integer() -> None:
    # numpy's and Optuna's generators refuse other seeds, so a study with one would fail late.
    assert dataclasses.replace(TINY, seed=2**32 - 1).seed == 2**32 - 1
    for seed in (-1, 2**32):
        with pytest.raises(SpecError, match="seed must be in"):
            dataclasses.replace(TINY, seed=seed)


@pytest.mark.parametrize("name", ["a?b", "-x", ".x", "a b", "a/b", "é", "x:y"])
def test_a_study_name_is_letters_digits_dots_dashes_underscores(name: str) -> None:
    with pytest.raises(SpecError, match="name must be a non-empty name"):
        dataclasses.replace(TINY, name=name)


def test_to_dict_is_plain_json() -> None:
    spec = dataclasses.replace(TINY, evaluator=EvaluatorSpec(mode=EvaluatorMode.SHARED))
    plain = spec.to_dict()
    assert plain["evaluator"]["mode"] == "shared"
    assert plain["search"]["bits"] == [2, 3, 4, 5, 6, 7, 8]
    assert json.loads(json.dumps(plain)) == plain


def test_a_loaded_spec_equals_its_rebuilt_copy() -> None:
    spec = load_spec("r18")
    assert dataclasses.replace(spec) == spec
    assert hash(dataclasses.replace(spec)) == hash(spec)
