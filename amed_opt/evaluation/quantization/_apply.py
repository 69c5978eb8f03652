"""Apply a bit allocation to a model: swap layers by module path, or change their bits in place.

`quantize_model` follows torchao's `quantize_` idea of addressing layers by fully qualified name,
but returns a copy: the float model stays untouched, which the `fresh` evaluator relies on.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from collections.abc import Mapping

from torch import nn

from amed_opt.evaluation.quantization._modules import QuantConv2d
from amed_opt.evaluation.quantization._modules import QuantizedLayer
from amed_opt.evaluation.quantization._modules import QuantLinear
from amed_opt.study.bits import LayerBits


def quantize_model(model: nn.Module, bits: Mapping[str, LayerBits]) -> nn.Module:
    """A copy of `model` whose layers named in `bits` are quantized.

    Only the named layers are swapped (`nn.Conv2d` → `QuantConv2d`, `nn.Linear` → `QuantLinear`);
    every other module, the float model and its tensors are left as they are. The copy must be
    calibrated (`calibrate`) before its activations can be quantized.

    Args:
        model: A float model.
        bits: Bitwidths per layer, keyed by module path (a `BitConfig`, or any mapping).

    Returns:
        The quantized copy, in the same training/eval mode as `model`.

    Raises:
        KeyError: If a name is not a module of `model`.
        TypeError: If a named module is not a `Conv2d` or `Linear`, or is already quantized.
    """
    modules = dict(model.named_modules())
    for name, layer_bits in bits.items():
        if name not in modules:
            known = [n for n, m in modules.items() if isinstance(m, nn.Conv2d | nn.Linear)]
            raise KeyError(
                f"no module {name!r} in the model; its conv/linear layers are: "
                f"{', '.join(known[:8])}{', ...' if len(known) > 8 else ''}"
            )
        module = modules[name]
        if isinstance(module, QuantizedLayer):
            raise TypeError(f"layer {name!r} is already quantized; use set_bits to change it")
        if not isinstance(module, nn.Conv2d | nn.Linear):
            raise TypeError(
                f"layer {name!r} is a {type(module).__name__}; only Conv2d and Linear "
                "layers can be quantized"
            )
        if not isinstance(layer_bits, LayerBits):
            raise TypeError(f"bits of {name!r} must be a LayerBits, got {layer_bits!r}")
    quantized = copy.deepcopy(model)
    for name, layer_bits in bits.items():
        module = quantized.get_submodule(name)
        replacement: QuantizedLayer
        if isinstance(module, nn.Conv2d):
            replacement = QuantConv2d.from_float(module, layer_bits)
        else:
            assert isinstance(module, nn.Linear)
            replacement = QuantLinear.from_float(module, layer_bits)
        replacement.train(module.training)
        _replace_submodule(quantized, name, replacement)
    return quantized


def set_bits(model: nn.Module, bits: Mapping[str, LayerBits]) -> None:
    """Change the bitwidths of already quantized layers in place.

    Layers not named keep their bits.

    Raises:
        KeyError: If a name is not a quantized layer of `model`.
    """
    layers = quantized_layers(model)
    unknown = [name for name in bits if name not in layers]
    if unknown:
        raise KeyError(
            f"{unknown[0]!r} is not a quantized layer; quantized layers: {', '.join(layers)}"
        )
    for name, layer_bits in bits.items():
        layers[name].set_bits(layer_bits)


def quantized_layers(model: nn.Module) -> dict[str, QuantizedLayer]:
    """The quantized layers of `model` by module path, in registration order."""
    return {
        name: module
        for name, module in model.named_modules()
        if isinstance(module, QuantizedLayer)
    }


@contextlib.contextmanager
def quantization_disabled(model: nn.Module) -> Iterator[None]:
    """Within the block, every quantized layer of `model` computes in float."""
    layers = list(quantized_layers(model).values())
    previous = [layer.quantization_enabled for layer in layers]
    for layer in layers:
        layer.quantization_enabled = False
    try:
        yield
    finally:
        for layer, enabled in zip(layers, previous, strict=True):
            layer.quantization_enabled = enabled


def _replace_submodule(root: nn.Module, name: str, replacement: nn.Module) -> None:
    parent_name, _, child_name = name.rpartition(".")
    parent = root.get_submodule(parent_name) if parent_name else root
    setattr(parent, child_name, replacement)
