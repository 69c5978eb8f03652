"""Cost weights for the AMED proposal: the latency each layer can save, with a uniform floor."""

from __future__ import annotations

import dataclasses

import pytest

from amed_opt.app.sampler_factory import build_sampler
from amed_opt.samplers._weighted import WeightedProposal
from amed_opt.study.proposal_weights import COST_FLOOR
from amed_opt.study.proposal_weights import cost_weights
from amed_opt.study.proposal_weights import latency_savings
from amed_opt.study.search_space import BitSearchSpace
from amed_opt.study.spec import LayerChoice
from amed_opt.study.spec import ModelSpec
from amed_opt.study.spec import SearchSpec
from amed_opt.study.spec import SpecError
from amed_opt.study.spec import StudySpec
from hardware import LayerShape
from hardware import SystolicArray
from hardware import load_preset


def layers() -> list[LayerShape]:
    """A small network: a light stem, a weight-heavy 1x1 layer, a light conv, a classifier."""
    return [
        LayerShape.conv2d("stem", in_channels=3, out_channels=16, input_hw=(32, 32), kernel=3),
        LayerShape.conv2d("light", in_channels=16, out_channels=16, input_hw=(32, 32), kernel=3),
        LayerShape.conv2d("heavy", in_channels=512, out_channels=512, input_hw=(4, 4), kernel=1),
        LayerShape.conv2d("small", in_channels=16, out_channels=8, input_hw=(8, 8), kernel=1),
        LayerShape.linear("fc", in_features=512, out_features=10),
    ]


HARDWARE = SystolicArray(load_preset("scale-sim"))


@pytest.mark.parametrize("separate", [False, True])
def test_weights_follow_the_latency_saved_and_keep_a_floor(separate: bool) -> None:
    space = BitSearchSpace(layers(), SearchSpec(separate_activation_bits=separate))
    savings = latency_savings(HARDWARE, space)
    assert set(savings) == {"light", "heavy", "small"}
    assert savings["heavy"] > savings["light"] > 0
    weights = cost_weights(HARDWARE, space)
    assert set(weights) == set(space.distributions())
    assert sum(weights.values()) == pytest.approx(1.0)
    per_layer = {
        layer: sum(w for name, w in weights.items() if layer in name)
        for layer in ("light", "heavy", "small")
    }
    assert per_layer["heavy"] > per_layer["light"]
    assert min(weights.values()) >= COST_FLOOR / 3 / (2 if separate else 1) - 1e-12


def test_without_any_saving_every_parameter_weighs_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    space = BitSearchSpace(layers(), SearchSpec())
    monkeypatch.setattr(
        "amed_opt.study.proposal_weights.latency_savings",
        lambda hardware, space: {layer.name: 0 for layer in space.searched_layers},
    )
    weights = cost_weights(HARDWARE, space)
    assert len(set(weights.values())) == 1


def test_a_cost_study_samples_with_the_weighted_kernel() -> None:
    spec = StudySpec("t", ModelSpec("resnet18"))
    spec = dataclasses.replace(
        spec, sampler=dataclasses.replace(spec.sampler, layer_choice=LayerChoice.COST, n_flips=2)
    )
    space = BitSearchSpace(layers(), spec.search)
    sampler = build_sampler(
        spec, space, reference_latency_ms=1.0, max_size_bytes=None, hardware=HARDWARE
    )
    kernel = sampler._kernel  # type: ignore[attr-defined]
    assert isinstance(kernel, WeightedProposal)
    inclusion = kernel.inclusion
    heavy = next(name for name in inclusion if "heavy" in name)
    assert inclusion[heavy] == max(inclusion.values())


def test_cost_choice_and_a_size_limit_are_refused_together() -> None:
    spec = StudySpec("t", ModelSpec("resnet18"))
    with pytest.raises(SpecError, match="sampler.layer_choice"):
        dataclasses.replace(
            spec,
            sampler=dataclasses.replace(spec.sampler, layer_choice=LayerChoice.COST),
            search=dataclasses.replace(spec.search, max_size_kib=100.0),
        )
