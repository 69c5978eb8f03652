"""Bit allocations: the value types every part of amed-opt passes around.

A `BitConfig` maps each quantizable layer, by module path, to the bitwidths of its weights and of
its input activations. It knows nothing of torch or Optuna; `search_space.py` translates it to and
from trial parameters and `quantization` applies it to a model.
"""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING


if TYPE_CHECKING:
    from hardware.layer import LayerShape

MIN_BITS = 2
MAX_BITS = 8


@dataclass(frozen=True, slots=True)
class LayerBits:
    """Bitwidths of one layer.

    Attributes:
        w_bits: Bits per weight, in [2, 8].
        a_bits: Bits per element of the layer's input activation, in [2, 8].

    Raises:
        ValueError: If a bitwidth is not an integer in [2, 8].
    """

    w_bits: int
    a_bits: int

    def __post_init__(self) -> None:
        for field_name in ("w_bits", "a_bits"):
            value = getattr(self, field_name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{field_name} must be an integer, got {value!r}")
            if not MIN_BITS <= value <= MAX_BITS:
                raise ValueError(f"{field_name} must be in [{MIN_BITS}, {MAX_BITS}], got {value}")

    def __str__(self) -> str:
        return str(self.w_bits) if self.w_bits == self.a_bits else f"{self.w_bits}/{self.a_bits}"

    @classmethod
    def parse(cls, token: str) -> LayerBits:
        """The inverse of `str`: `"4"` or `"4/8"` (weight/activation).

        Raises:
            ValueError: If `token` is neither form or a width is out of range.
        """
        weight, slash, activation = token.partition("/")
        try:
            return cls(int(weight), int(activation) if slash else int(weight))
        except ValueError as error:
            raise ValueError(f"{token!r} is not a layer's bits ('4' or '4/8'): {error}") from None


class BitConfig(Mapping[str, LayerBits]):
    """An immutable, ordered mapping from layer name (module path) to `LayerBits`.

    The order is network order; it is kept so that reports and compact strings line up with the
    layers.
    """

    __slots__ = ("_bits",)

    def __init__(self, bits: Mapping[str, LayerBits]) -> None:
        if not bits:
            raise ValueError("a BitConfig needs at least one layer")
        self._bits: Mapping[str, LayerBits] = MappingProxyType(dict(bits))

    @classmethod
    def uniform(cls, layer_names: Sequence[str], bits: int) -> BitConfig:
        """Every layer at `bits` for weights and activations."""
        return cls({name: LayerBits(bits, bits) for name in layer_names})

    def __getitem__(self, name: str) -> LayerBits:
        return self._bits[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._bits)

    def __len__(self) -> int:
        return len(self._bits)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BitConfig):
            return NotImplemented
        return list(self._bits.items()) == list(other._bits.items())

    def __hash__(self) -> int:
        return hash(tuple(self._bits.items()))

    def __repr__(self) -> str:
        return f"BitConfig({self.compact()!r})"

    @classmethod
    def from_compact(cls, text: str, layer_names: Sequence[str]) -> BitConfig:
        """The inverse of `compact`, given the layer names in network order.

        Raises:
            ValueError: If a token is malformed or the counts differ.
        """
        tokens = text.split()
        if len(tokens) != len(layer_names):
            raise ValueError(
                f"allocation {text!r} has {len(tokens)} layers, expected {len(layer_names)}"
            )
        return cls(dict(zip(layer_names, map(LayerBits.parse, tokens), strict=True)))

    def compact(self) -> str:
        """The allocation as one short string in network order, e.g. `"8 4 4 3/8 2 8"`.

        A layer with equal weight and activation bits shows one number, otherwise `w/a`.
        """
        return " ".join(str(layer_bits) for layer_bits in self._bits.values())

    def weight_size_bytes(self, layers: Sequence[LayerShape]) -> int:
        """Weight storage in bytes, bit-packed: `ceil(sum(weights_l * w_bits_l) / 8)`.

        Raises:
            KeyError: If a layer has no entry in this config.
        """
        total_bits = sum(layer.weight_count * self._bits[layer.name].w_bits for layer in layers)
        return (total_bits + 7) // 8


def weight_bits_of(compact: str) -> list[int]:
    """Weight bits per layer, in network order, of a compact allocation string
    (`BitConfig.compact`)."""
    return [LayerBits.parse(token).w_bits for token in compact.split()]
