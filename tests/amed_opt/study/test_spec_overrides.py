"""Command-line overrides are validated like a file; stored specs compare by their settings."""

from __future__ import annotations

import dataclasses

import pytest

from amed_opt.study.spec import HardwareSpec
from amed_opt.study.spec import ProposalBoundary
from amed_opt.study.spec import SamplerName
from amed_opt.study.spec import SpecError
from amed_opt.study.spec import effective_settings
from amed_opt.study.spec import load_spec
from amed_opt.study.spec import with_overrides


def test_overrides_are_applied() -> None:
    spec = with_overrides(
        load_spec("r18"),
        sampler="tpe",
        n_trials=7,
        storage="sqlite:///x.db",
        seed=3,
        hardware="eyeriss",
        data_root="/data",
        name_suffix="-tpe",
    )
    assert spec.sampler.name is SamplerName.TPE
    assert (spec.n_trials, spec.seed, spec.name) == (7, 3, "r18-tpe")
    assert spec.storage.url == "sqlite:///x.db"
    # The preset is replaced; the study's pricing resolution (224 for r18) is kept.
    assert spec.hardware == HardwareSpec(preset="eyeriss", input_resolution=224)
    assert spec.data.root == "/data"


def test_no_override_keeps_the_spec() -> None:
    spec = load_spec("r18")
    assert with_overrides(spec) == spec


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"n_trials": 0}, "command line: n_trials must be > 0, got 0"),
        ({"n_trials": True}, "command line: n_trials must be an integer, got bool"),
        ({"sampler": "annealing"}, "command line: --sampler must be one of amed, tpe"),
        ({"hardware": ""}, "command line: hardware.preset must not be empty"),
        ({"name_suffix": "/x"}, "command line: name must be a non-empty name"),
        ({"seed": 1.5}, "command line: seed must be an integer, got float"),
    ],
)
def test_overrides_are_validated(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(SpecError, match=message) as caught:
        with_overrides(load_spec("r18"), **overrides)  # type: ignore[arg-type]
    assert caught.value.source == "command line"


def test_effective_settings_ignore_qat_optimiser_without_qat_steps() -> None:
    base = load_spec("r18").to_dict()

    def variant(steps: int, lr: float) -> dict:
        return {**base, "evaluator": {**base["evaluator"], "steps_per_trial": steps, "lr": lr}}

    assert effective_settings(variant(0, 0.01)) == effective_settings(variant(0, 0.001))
    assert effective_settings(variant(5, 0.01)) != effective_settings(variant(5, 0.001))
    assert effective_settings({**base, "n_trials": 7}) == effective_settings(base)
    assert effective_settings({**base, "seed": 7}) != effective_settings(base)


def test_a_setting_added_later_counts_at_its_default_in_stored_specs() -> None:
    spec = load_spec("r18")
    forced = dataclasses.replace(spec.sampler, boundary=ProposalBoundary.FORCED)
    base = dataclasses.replace(spec, sampler=forced).to_dict()
    older = {**base, "sampler": {k: v for k, v in base["sampler"].items() if k != "boundary"}}
    assert effective_settings(older) == effective_settings(base)
    lazy = {**base, "sampler": {**base["sampler"], "boundary": "lazy"}}
    assert effective_settings(lazy) != effective_settings(older)
