"""BitSearchSpace: parameter names, round trips, fixed first and last layers."""

from __future__ import annotations

import optuna
import pytest

from amed_opt.study.bits import BitConfig
from amed_opt.study.bits import LayerBits
from amed_opt.study.search_space import BitSearchSpace
from amed_opt.study.spec import SearchSpec
from hardware.layer import LayerShape


def _layers(count: int) -> list[LayerShape]:
    convs = [
        LayerShape.conv2d(
            f"block{i}.conv", in_channels=4, out_channels=4, input_hw=(8, 8), kernel=3
        )
        for i in range(count - 1)
    ]
    return [*convs, LayerShape.linear("fc", in_features=4, out_features=10)]


def test_parameters_are_in_network_order_and_skip_fixed_layers() -> None:
    space = BitSearchSpace(_layers(12), SearchSpec(bits=(2, 4, 8)))
    names = list(space.distributions())
    assert names == [f"{i:02d}.block{i}.conv" for i in range(1, 11)]
    assert names == sorted(names)
    assert space.fixed_layer_names == ("block0.conv", "fc")
    assert all(d.choices == (2, 4, 8) for d in space.distributions().values())


@pytest.mark.parametrize("separate", [False, True])
def test_params_to_bits_round_trip(separate: bool) -> None:
    space = BitSearchSpace(
        _layers(5), SearchSpec(bits=(2, 3, 8), separate_activation_bits=separate)
    )
    params = {name: (2, 3, 8)[i % 3] for i, name in enumerate(space.distributions())}
    bits = space.to_bits(params)
    assert bits["block0.conv"] == LayerBits(8, 8) and bits["fc"] == LayerBits(8, 8)
    assert space.to_params(bits) == params
    assert len(bits) == 5


def test_separate_bits_give_two_parameters_per_layer() -> None:
    space = BitSearchSpace(_layers(4), SearchSpec(separate_activation_bits=True))
    assert list(space.distributions()) == [
        "1.block1.conv.w",
        "1.block1.conv.a",
        "2.block2.conv.w",
        "2.block2.conv.a",
    ]
    bits = space.to_bits(
        {"1.block1.conv.w": 2, "1.block1.conv.a": 5, "2.block2.conv.w": 8, "2.block2.conv.a": 8}
    )
    assert bits["block1.conv"] == LayerBits(2, 5)


def test_fixed_bits_follow_the_spec() -> None:
    space = BitSearchSpace(_layers(3), SearchSpec(bits=(2, 4), fixed_bits=6))
    bits = space.uniform_bits(4)
    assert bits.compact() == "6 4 6"


def test_to_params_rejects_non_candidates_and_split_bits_in_shared_space() -> None:
    space = BitSearchSpace(_layers(3), SearchSpec(bits=(2, 4, 8)))
    with pytest.raises(ValueError, match="not a candidate"):
        space.to_params(BitConfig.uniform(["block0.conv", "block1.conv", "fc"], 5))
    split = BitConfig(
        {"block0.conv": LayerBits(8, 8), "block1.conv": LayerBits(2, 4), "fc": LayerBits(8, 8)}
    )
    with pytest.raises(ValueError, match="shares"):
        space.to_params(split)


def test_too_few_layers_or_duplicates_are_rejected() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        BitSearchSpace(_layers(2), SearchSpec())
    layers = _layers(3)
    with pytest.raises(ValueError, match="unique"):
        BitSearchSpace([layers[0], layers[0], layers[2]], SearchSpec())


def test_suggest_uses_the_trial_and_returns_the_allocation() -> None:
    space = BitSearchSpace(_layers(4), SearchSpec(bits=(2, 4, 8)))
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    study.enqueue_trial(space.uniform_params(2))
    trial = study.ask()
    assert space.suggest(trial).compact() == "8 2 2 8"
    assert trial.params == space.uniform_params(2)
