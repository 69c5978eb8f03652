"""quantize_model swaps only the named layers of a copy; set_bits changes them in place."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from amed_opt.evaluation.quantization import QuantConv2d
from amed_opt.evaluation.quantization import QuantizedLayer
from amed_opt.evaluation.quantization import QuantLinear
from amed_opt.evaluation.quantization import quantize_model
from amed_opt.evaluation.quantization import quantized_layers
from amed_opt.evaluation.quantization import set_bits
from amed_opt.study.bits import BitConfig
from amed_opt.study.bits import LayerBits


def test_only_the_named_layers_are_swapped_and_the_original_is_untouched(
    tiny_cnn: nn.Module,
) -> None:
    model = tiny_cnn
    before = {k: v.clone() for k, v in model.state_dict().items()}
    bits = BitConfig({"down": LayerBits(4, 4), "fc": LayerBits(8, 2)})
    quantized = quantize_model(model, bits)
    types = {name: type(module) for name, module in quantized.named_modules()}
    assert types["down"] is QuantConv2d and types["fc"] is QuantLinear
    assert types["stem"] is nn.Conv2d and types["depthwise"] is nn.Conv2d
    assert types["stem_bn"] is nn.BatchNorm2d
    assert list(quantized_layers(quantized)) == ["down", "fc"]
    assert quantized_layers(quantized)["fc"].bits == LayerBits(8, 2)
    # The original keeps its modules and values, and shares no tensor with the copy.
    assert not any(isinstance(m, QuantizedLayer) for m in model.modules())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert quantized.get_submodule("down").weight is not model.down.weight
    assert torch.equal(quantized.get_submodule("down").weight, model.down.weight)


def test_unknown_layer_name_lists_the_known_layers(tiny_cnn: nn.Module) -> None:
    with pytest.raises(KeyError, match="stem"):
        quantize_model(tiny_cnn, {"layer9.conv": LayerBits(4, 4)})


def test_non_conv_layer_and_already_quantized_layer_are_rejected(tiny_cnn: nn.Module) -> None:
    model = tiny_cnn
    with pytest.raises(TypeError, match="BatchNorm2d"):
        quantize_model(model, {"stem_bn": LayerBits(4, 4)})
    quantized = quantize_model(model, {"stem": LayerBits(4, 4)})
    with pytest.raises(TypeError, match="already quantized"):
        quantize_model(quantized, {"stem": LayerBits(4, 4)})


def test_bits_outside_2_to_8_cannot_even_be_expressed(
    tiny_cnn: nn.Module, tiny_layer_names: tuple[str, ...]
) -> None:
    with pytest.raises(ValueError, match=r"\[2, 8\]"):
        BitConfig.uniform(tiny_layer_names, 9)
    with pytest.raises(TypeError, match="LayerBits"):
        quantize_model(tiny_cnn, {"stem": (4, 4)})  # type: ignore[dict-item]


def test_set_bits_changes_named_layers_and_rejects_unknown_ones(
    tiny_cnn: nn.Module, tiny_layer_names: tuple[str, ...]
) -> None:
    quantized = quantize_model(tiny_cnn, BitConfig.uniform(tiny_layer_names, 8))
    set_bits(quantized, {"down": LayerBits(3, 5)})
    layers = quantized_layers(quantized)
    assert layers["down"].bits == LayerBits(3, 5)
    assert layers["stem"].bits == LayerBits(8, 8)
    with pytest.raises(KeyError, match="not a quantized layer"):
        set_bits(quantized, {"stem_bn": LayerBits(4, 4)})
