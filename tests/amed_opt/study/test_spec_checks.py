"""`SpecError` carries its key and source; `FieldChecks` checks types before ranges."""

from __future__ import annotations

import math
import pickle
from dataclasses import dataclass

import pytest

from amed_opt.study.spec import SpecError
from amed_opt.study.spec_checks import FieldChecks


def test_message_names_source_key_and_reason() -> None:
    error = SpecError("must be > 0, got 0", key="sampler.temperature")
    assert str(error) == "sampler.temperature must be > 0, got 0"
    named = error.with_source("r18.toml")
    assert str(named) == "r18.toml: sampler.temperature must be > 0, got 0"
    assert (named.key, named.reason, named.source) == (error.key, error.reason, "r18.toml")
    assert named.with_source("elsewhere") is named
    assert str(SpecError("whole message")) == "whole message"
    assert isinstance(error, ValueError)


def test_spec_error_survives_pickling() -> None:
    error = SpecError("must be > 0", key="n_trials", source="command line")
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.key, copy.source) == (str(error), "n_trials", "command line")


@dataclass(frozen=True)
class _Toy:
    count: int = 1
    ratio: float = 0.5
    weights: tuple[float, ...] = (1.0,)
    flag: bool = False
    label: str = "x"

    def __post_init__(self) -> None:
        FieldChecks(self, "toy").positive("count", "ratio")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"count": True}, "toy.count must be an integer, got bool True"),
        ({"count": 1.0}, "toy.count must be an integer, got float 1.0"),
        ({"ratio": "0.5"}, "toy.ratio must be a number, got str '0.5'"),
        ({"ratio": math.nan}, "toy.ratio must be a finite number, got nan"),
        ({"ratio": -math.inf}, "toy.ratio must be a finite number, got -inf"),
        ({"ratio": 0}, "toy.ratio must be > 0, got 0"),
        ({"weights": (1.0, math.nan)}, r"toy.weights\[1\] must be a finite number"),
        ({"weights": [1.0]}, "toy.weights must be a tuple, each item a number"),
        ({"flag": 0}, "toy.flag must be a boolean, got int 0"),
        ({"label": b"x"}, "toy.label must be a string, got bytes"),
    ],
)
def test_types_and_finiteness_are_checked_first(changes: dict[str, object], message: str) -> None:
    with pytest.raises(SpecError, match=f"^{message}"):
        _Toy(**changes)  # type: ignore[arg-type]


def test_a_top_level_field_has_no_section_prefix() -> None:
    checks = FieldChecks(_Toy(), "")
    with pytest.raises(SpecError, match="^count must be") as caught:
        checks.require(False, "count", "must be right")
    assert caught.value.key == "count"
