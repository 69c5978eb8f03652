"""BitConfig and LayerBits: validation, order, compact strings and sizes."""

from __future__ import annotations

import pytest

from amed_opt.study.bits import BitConfig
from amed_opt.study.bits import LayerBits
from amed_opt.study.bits import weight_bits_of
from hardware.layer import LayerShape


@pytest.mark.parametrize("bad", [1, 9, 0, -3, 4.0, True, "4"])
def test_layer_bits_rejects_values_outside_2_to_8(bad: object) -> None:
    with pytest.raises(ValueError, match="w_bits"):
        LayerBits(bad, 8)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="a_bits"):
        LayerBits(8, bad)  # type: ignore[arg-type]


def test_compact_string_keeps_network_order_and_shows_split_bits() -> None:
    bits = BitConfig({"c": LayerBits(8, 8), "a": LayerBits(4, 4), "b": LayerBits(3, 6)})
    assert list(bits) == ["c", "a", "b"]
    assert bits.compact() == "8 4 3/6"


def test_equality_and_hash_depend_on_order_and_values() -> None:
    first = BitConfig({"a": LayerBits(4, 4), "b": LayerBits(8, 8)})
    same = BitConfig({"a": LayerBits(4, 4), "b": LayerBits(8, 8)})
    other = BitConfig({"a": LayerBits(4, 4), "b": LayerBits(7, 8)})
    assert first == same and hash(first) == hash(same)
    assert first != other


def test_weight_size_is_bit_packed_and_rounded_up() -> None:
    layers = [
        LayerShape.conv2d("conv", in_channels=3, out_channels=5, input_hw=(8, 8), kernel=3),
        LayerShape.linear("fc", in_features=7, out_features=1),
    ]
    bits = BitConfig({"conv": LayerBits(3, 8), "fc": LayerBits(2, 8)})
    # 135 weights at 3 bits + 7 at 2 bits = 419 bits -> 53 bytes
    assert bits.weight_size_bytes(layers) == 53
    assert BitConfig.uniform(["conv", "fc"], 8).weight_size_bytes(layers) == 135 + 7


def test_empty_config_is_rejected() -> None:
    with pytest.raises(ValueError):
        BitConfig({})


def test_compact_strings_parse_back_to_the_same_allocation() -> None:
    bits = BitConfig({"c": LayerBits(8, 8), "a": LayerBits(4, 4), "b": LayerBits(3, 6)})
    assert BitConfig.from_compact(bits.compact(), ["c", "a", "b"]) == bits
    assert weight_bits_of("8 4 3/6") == [8, 4, 3]


@pytest.mark.parametrize("text", ["8 4", "8 x 4", "8 4/ 4", "8 9 4", "8 4/1 4"])
def test_a_malformed_compact_string_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        BitConfig.from_compact(text, ["a", "b", "c"])
