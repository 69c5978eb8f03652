"""Every section checks itself, however it is built: directly, by `dataclasses.replace` or from
a file; an error names the key with its section."""

from __future__ import annotations

import dataclasses
import math
import typing
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amed_opt.study.spec import MIN_RESOLUTION
from amed_opt.study.spec import BaselineSpec
from amed_opt.study.spec import DataSpec
from amed_opt.study.spec import EvaluatorSpec
from amed_opt.study.spec import HardwareSpec
from amed_opt.study.spec import ModelSpec
from amed_opt.study.spec import SamplerName
from amed_opt.study.spec import SamplerSpec
from amed_opt.study.spec import SearchSpec
from amed_opt.study.spec import SpecError
from amed_opt.study.spec import StorageSpec
from amed_opt.study.spec import StudySpec


SECTIONS: dict[type[Any], Any] = {
    ModelSpec: ModelSpec("resnet18"),
    DataSpec: DataSpec(),
    BaselineSpec: BaselineSpec(),
    EvaluatorSpec: EvaluatorSpec(),
    SearchSpec: SearchSpec(),
    HardwareSpec: HardwareSpec(),
    SamplerSpec: SamplerSpec(),
    StorageSpec: StorageSpec(),
    StudySpec: StudySpec("tiny", ModelSpec("resnet18")),
}
"""A valid value of every section (and of the whole study)."""

NEGATIVE_ALLOWED = {(StudySpec, "seed")}
"""Numeric fields for which a negative value is legal."""


def _numeric_fields() -> list[tuple[type[Any], str, Any]]:
    found = []
    for cls in SECTIONS:
        hints = typing.get_type_hints(cls)
        for spec_field in dataclasses.fields(cls):
            hint = hints[spec_field.name]
            item = typing.get_args(hint)[0] if typing.get_origin(hint) is tuple else hint
            if item in (int, float):
                found.append((cls, spec_field.name, hint))
    return found


NUMERIC_FIELDS = _numeric_fields()


def test_every_section_has_numeric_fields_under_test() -> None:
    covered = {cls for cls, _name, _hint in NUMERIC_FIELDS}
    assert covered == set(SECTIONS) - {ModelSpec, StorageSpec}
    assert (HardwareSpec, "input_resolution", int) in NUMERIC_FIELDS
    assert (SamplerSpec, "latency_weights", tuple[float, ...]) in NUMERIC_FIELDS


def test_defaults_are_valid() -> None:
    for cls, value in SECTIONS.items():
        assert dataclasses.replace(value) == value, cls


@pytest.mark.parametrize(
    ("section", "changes", "message"),
    [
        (ModelSpec("resnet18"), {"arch": ""}, "model.arch must not be empty"),
        (ModelSpec("resnet18"), {"weights": 3}, "model.weights must be a string, got int 3"),
        (DataSpec(), {"batch_size": 0}, "data.batch_size must be > 0, got 0"),
        (DataSpec(), {"validation_images": -1}, "data.validation_images must be > 0"),
        (DataSpec(), {"resolution": 1}, rf"data.resolution must be 0 .* >= {MIN_RESOLUTION}"),
        (DataSpec(), {"resolution": -8}, "data.resolution must be 0"),
        (HardwareSpec(), {"input_resolution": 4}, "hardware.input_resolution must be 0"),
        (SearchSpec(), {"objectives": ("latency_ms", "accuracy")}, "search.objectives must be"),
        (SearchSpec(), {"objectives": ("accuracy",)}, "search.objectives must be"),
        (DataSpec(), {"num_workers": -1}, "data.num_workers must be >= 0, got -1"),
        (DataSpec(), {"eval_batch_size": True}, "data.eval_batch_size must be an integer"),
        (BaselineSpec(), {"epochs": -1}, "baseline.epochs must be >= 0, got -1"),
        (BaselineSpec(), {"lr": 0.0}, "baseline.lr must be > 0, got 0.0"),
        (BaselineSpec(), {"lr": math.nan}, "baseline.lr must be a finite number, got nan"),
        (BaselineSpec(), {"momentum": 1.0}, r"baseline.momentum must be in \[0, 1\)"),
        (BaselineSpec(), {"weight_decay": -1e-4}, "baseline.weight_decay must be >= 0"),
        (EvaluatorSpec(), {"steps_per_trial": -1}, "evaluator.steps_per_trial must be >= 0"),
        (EvaluatorSpec(), {"lr": -0.1}, "evaluator.lr must be > 0"),
        (EvaluatorSpec(), {"momentum": -0.1}, r"evaluator.momentum must be in \[0, 1\)"),
        (EvaluatorSpec(), {"mode": "shared"}, "evaluator.mode must be one of shared, fresh"),
        (EvaluatorSpec(), {"recalibrate_bn": 1}, "evaluator.recalibrate_bn must be a boolean"),
        (SearchSpec(), {"bits": ()}, "search.bits must list at least two bitwidths"),
        (SearchSpec(), {"bits": (4,)}, "search.bits must list at least two bitwidths"),
        (SearchSpec(), {"bits": (4, 2)}, "search.bits must be strictly increasing"),
        (SearchSpec(), {"bits": (2, 9)}, r"search.bits values must be in \[2, 8\], got 9"),
        (SearchSpec(), {"bits": [2, 4]}, "search.bits must be a tuple"),
        (SearchSpec(), {"bits": (2, True)}, r"search.bits\[1\] must be an integer"),
        (SearchSpec(), {"fixed_bits": 1}, r"search.fixed_bits must be in \[2, 8\], got 1"),
        (SearchSpec(), {"max_size_kib": -1.0}, r"search.max_size_kib must be >= 0 \(0 = no limit"),
        (SearchSpec(), {"max_size_kib": math.nan}, "search.max_size_kib must be a finite number"),
        (HardwareSpec(), {"preset": ""}, "hardware.preset must not be empty"),
        (SamplerSpec(), {"temperature": 0}, "sampler.temperature must be > 0, got 0"),
        (SamplerSpec(), {"min_temperature": 0.5}, r"sampler.min_temperature must be in \(0, "),
        (SamplerSpec(), {"annealing": 1.5}, r"sampler.annealing must be in \(0, 1\]"),
        (SamplerSpec(), {"n_flips": 0}, "sampler.n_flips must be >= 1, got 0"),
        (SamplerSpec(), {"latency_weights": ()}, "sampler.latency_weights must be a non-empty"),
        (SamplerSpec(), {"latency_weights": (1.0, -1.0)}, "sampler.latency_weights must be"),
        (SamplerSpec(), {"latency_weights": (math.inf,)}, r"sampler.latency_weights\[0\]"),
        (SamplerSpec(), {"accuracy_threshold": 1.5}, r"sampler.accuracy_threshold must be a"),
        (SamplerSpec(), {"penalty_slope": math.nan}, "sampler.penalty_slope must be a finite"),
        (SamplerSpec(), {"penalty_slope": -1}, "sampler.penalty_slope must be >= 0, got -1"),
        (SamplerSpec(), {"name": "amed"}, "sampler.name must be one of amed, tpe"),
        (StorageSpec(), {"url": None}, "storage.url must be a string, got NoneType"),
    ],
)
def test_a_bad_value_names_its_key(section: Any, changes: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError, match=f"^{message}") as replaced:
        dataclasses.replace(section, **changes)
    assert replaced.value.key.startswith(f"{type(section).SECTION}.")
    assert replaced.value.source == ""
    with pytest.raises(SpecError, match=f"^{message}"):
        type(section)(**{**_fields(section), **changes})


def test_replace_cannot_skip_a_check() -> None:
    with pytest.raises(SpecError, match="sampler.temperature must be > 0, got 0"):
        dataclasses.replace(SamplerSpec(), temperature=0)


def test_integers_are_numbers_but_bools_are_not() -> None:
    assert SamplerSpec(temperature=1, min_temperature=1).temperature == 1
    with pytest.raises(SpecError, match="sampler.temperature must be a number, got bool"):
        SamplerSpec(temperature=True)


def test_a_cross_field_check_sees_both_fields() -> None:
    sampler = SamplerSpec(temperature=0.01, min_temperature=0.01)
    with pytest.raises(SpecError, match="sampler.min_temperature"):
        dataclasses.replace(sampler, temperature=0.001)
    assert dataclasses.replace(sampler, name=SamplerName.TPE).name is SamplerName.TPE


def _fields(value: Any) -> dict[str, Any]:
    return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}


def _bad_values(cls: type[Any], name: str) -> st.SearchStrategy[Any]:
    non_finite = st.sampled_from([math.nan, math.inf, -math.inf])
    if (cls, name) in NEGATIVE_ALLOWED:
        return non_finite
    negative = st.one_of(
        st.integers(max_value=-1), st.floats(max_value=-1e-9, allow_infinity=False)
    )
    return st.one_of(non_finite, negative)


@st.composite
def _bad_change(draw: st.DrawFn) -> tuple[type[Any], dict[str, Any]]:
    cls, name, hint = draw(st.sampled_from(NUMERIC_FIELDS))
    bad = draw(_bad_values(cls, name))
    if typing.get_origin(hint) is tuple:
        valid = getattr(SECTIONS[cls], name)
        index = draw(st.integers(0, len(valid)))
        bad = (*valid[:index], bad, *valid[index:])
    return cls, {name: bad}


@given(_bad_change())
def test_no_numeric_field_takes_a_non_finite_or_negative_value(
    change: tuple[type[Any], dict[str, Any]],
) -> None:
    cls, changes = change
    (name,) = changes
    with pytest.raises(SpecError) as caught:
        dataclasses.replace(SECTIONS[cls], **changes)
    assert caught.value.key.split("[")[0] == f"{getattr(cls, 'SECTION', '')}.{name}".lstrip(".")
