"""The search space: quantizable layers ↔ Optuna parameters ↔ `BitConfig`.

This is the only module that makes parameter names. A searched layer `layer2.0.conv1` at position
7 in the network becomes the parameter `"07.layer2.0.conv1"` (one parameter setting weight and
activation bits), or `"07.layer2.0.conv1.w"` and `"07.layer2.0.conv1.a"` when the study searches
them separately. The index prefix keeps the dashboard's alphabetical parameter lists in network
order. The first and the last quantizable layer are fixed (METHOD.md §2) and have no parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from optuna.distributions import CategoricalDistribution

from amed_opt.study.bits import BitConfig
from amed_opt.study.bits import LayerBits
from amed_opt.study.spec import SpecError


if TYPE_CHECKING:
    import optuna

    from amed_opt.study.spec import SearchSpec
    from hardware.layer import LayerShape


class BitSearchSpace:
    """Maps between bit allocations and the parameters of an Optuna trial.

    Args:
        layers: All quantizable layers in network order (first and last included).
        search: The study's search settings.

    Raises:
        ValueError: If the network has fewer than three quantizable layers (nothing to search
            once the first and last are fixed) or layer names repeat.
    """

    def __init__(self, layers: Sequence[LayerShape], search: SearchSpec) -> None:
        names = [layer.name for layer in layers]
        if len(set(names)) != len(names):
            raise ValueError("quantizable layer names must be unique")
        if len(layers) < 3:
            raise ValueError(
                f"the network has {len(layers)} quantizable layers; at least 3 are needed "
                "(the first and the last are fixed at 8 bits)"
            )
        self._layers = tuple(layers)
        self._search = search
        width = len(str(len(layers) - 1))
        self._prefixes = {
            layer.name: f"{index:0{width}d}.{layer.name}" for index, layer in enumerate(layers)
        }

    @property
    def layers(self) -> tuple[LayerShape, ...]:
        """All quantizable layers, in network order."""
        return self._layers

    @property
    def candidate_bits(self) -> tuple[int, ...]:
        """The ordered candidate bitwidths of every searched layer."""
        return self._search.bits

    @property
    def searched_layers(self) -> tuple[LayerShape, ...]:
        """The layers with a parameter: all but the first and the last."""
        return self._layers[1:-1]

    @property
    def fixed_layer_names(self) -> tuple[str, str]:
        """The first and last layer, kept at `search.fixed_bits`."""
        return self._layers[0].name, self._layers[-1].name

    def param_names(self, layer_name: str) -> tuple[str, str]:
        """The (weight, activation) parameter names of a searched layer; equal when shared."""
        prefix = self._prefixes[layer_name]
        if self._search.separate_activation_bits:
            return f"{prefix}.w", f"{prefix}.a"
        return prefix, prefix

    def distributions(self) -> dict[str, CategoricalDistribution]:
        """One categorical distribution per parameter, in network order."""
        choices = CategoricalDistribution(list(self._search.bits))
        space: dict[str, CategoricalDistribution] = {}
        for layer in self.searched_layers:
            for name in dict.fromkeys(self.param_names(layer.name)):
                space[name] = choices
        return space

    def to_bits(self, params: Mapping[str, int]) -> BitConfig:
        """The full allocation (fixed layers included) for a trial's parameters.

        Raises:
            KeyError: If a parameter is missing.
        """
        fixed = LayerBits(self._search.fixed_bits, self._search.fixed_bits)
        bits: dict[str, LayerBits] = {}
        for layer in self._layers:
            if layer.name in self.fixed_layer_names:
                bits[layer.name] = fixed
                continue
            w_name, a_name = self.param_names(layer.name)
            bits[layer.name] = LayerBits(int(params[w_name]), int(params[a_name]))
        return BitConfig(bits)

    def to_params(self, bits: BitConfig) -> dict[str, int]:
        """The trial parameters of an allocation (fixed layers have none).

        Raises:
            ValueError: If a searched layer's bits are not candidates, or weight and activation
                bits differ in a space that shares them.
        """
        params: dict[str, int] = {}
        for layer in self.searched_layers:
            layer_bits = bits[layer.name]
            w_name, a_name = self.param_names(layer.name)
            if w_name == a_name and layer_bits.w_bits != layer_bits.a_bits:
                raise ValueError(
                    f"layer {layer.name!r} has w_bits {layer_bits.w_bits} != a_bits "
                    f"{layer_bits.a_bits}, but this space shares them"
                )
            for value in (layer_bits.w_bits, layer_bits.a_bits):
                if value not in self._search.bits:
                    raise ValueError(
                        f"layer {layer.name!r}: {value} bits is not a candidate "
                        f"{list(self._search.bits)}"
                    )
            params[w_name] = layer_bits.w_bits
            params[a_name] = layer_bits.a_bits
        return params

    def uniform_params(self, bits: int) -> dict[str, int]:
        """Parameters that put every searched layer at `bits`."""
        return self.to_params(BitConfig.uniform([layer.name for layer in self._layers], bits))

    def uniform_bits(self, bits: int) -> BitConfig:
        """The allocation with every searched layer at `bits` and the fixed layers as fixed."""
        return self.to_bits(self.uniform_params(bits))

    def suggest(self, trial: optuna.Trial) -> BitConfig:
        """Ask the trial for every parameter and return the allocation."""
        params = {
            name: int(trial.suggest_categorical(name, dist.choices))  # type: ignore[arg-type]
            for name, dist in self.distributions().items()
        }
        return self.to_bits(params)


def start_bits(space: BitSearchSpace, max_size_bytes: int | None) -> int:
    """The uniform bitwidth every chain starts from: the largest candidate under the size limit.

    Raises:
        SpecError: If even the smallest uniform allocation is over the size limit.
    """
    for bits in sorted(space.candidate_bits, reverse=True):
        size = space.uniform_bits(bits).weight_size_bytes(space.layers)
        if max_size_bytes is None or size <= max_size_bytes:
            return bits
    smallest = min(space.candidate_bits)
    size_kib = space.uniform_bits(smallest).weight_size_bytes(space.layers) / 1024
    raise SpecError(
        f"search.max_size_kib is too small: even uniform {smallest}-bit weights take "
        f"{size_kib:.1f} KiB; raise the limit or allow fewer bits"
    )


def uniform_ladder(space: BitSearchSpace, max_size_bytes: int | None) -> list[dict[str, int]]:
    """The uniform allocations under the size limit, as trial parameters, highest bits first.

    The first is the latency reference (`start_bits`); this is the warm start every sampler of a
    comparison gets, and the candidates of the AMED `best-uniform` start.
    """
    top = start_bits(space, max_size_bytes)
    return [
        space.uniform_params(bits)
        for bits in sorted(space.candidate_bits, reverse=True)
        if bits <= top
    ]


def size_filter(space: BitSearchSpace, max_size_bytes: int) -> Callable[[dict[str, Any]], bool]:
    """A proposal filter accepting parameter sets whose weights fit in `max_size_bytes`."""

    def fits(params: dict[str, Any]) -> bool:
        return space.to_bits(params).weight_size_bytes(space.layers) <= max_size_bytes

    return fits
