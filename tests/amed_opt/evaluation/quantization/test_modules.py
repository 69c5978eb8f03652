"""QuantConv2d / QuantLinear: drop-in behaviour, step bank, gradients and the weight cache."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from amed_opt.evaluation.quantization import ActivationQuantizer
from amed_opt.evaluation.quantization import QuantConv2d
from amed_opt.evaluation.quantization import QuantLinear
from amed_opt.study.bits import LayerBits


def _calibrated(layer: QuantConv2d | QuantLinear, x: torch.Tensor) -> None:
    quantizer = layer.input_quantizer
    generator = torch.Generator().manual_seed(0)
    quantizer.start_observing()
    quantizer.observe(x, generator)
    quantizer.finish_observing(generator)
    layer.set_bits(layer.bits)


def _conv(groups: int = 1) -> nn.Conv2d:
    torch.manual_seed(0)
    return nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=groups)


@pytest.mark.parametrize("groups", [1, 2, 8])
def test_quant_conv_is_a_drop_in_conv_and_close_to_float_at_8_bits(groups: int) -> None:
    conv = _conv(groups)
    layer = QuantConv2d.from_float(conv, LayerBits(8, 8))
    assert isinstance(layer, nn.Conv2d)
    assert layer.weight is conv.weight and layer.bias is conv.bias
    assert (layer.stride, layer.padding, layer.groups) == (conv.stride, conv.padding, groups)
    x = torch.randn(4, 8, 9, 9)
    _calibrated(layer, x)
    layer.eval()
    with torch.no_grad():
        reference = conv(x)
        error = (layer(x) - reference).abs().max() / reference.abs().max()
    assert error < 0.03


def test_quant_linear_is_close_to_float_at_8_bits_and_coarser_at_2() -> None:
    torch.manual_seed(0)
    linear = nn.Linear(32, 10)
    layer = QuantLinear.from_float(linear, LayerBits(8, 8))
    assert isinstance(layer, nn.Linear)
    x = torch.randn(16, 32)
    _calibrated(layer, x)
    with torch.no_grad():
        reference = linear(x)
        error_8 = (layer(x) - reference).pow(2).mean()
        layer.set_bits(LayerBits(2, 2))
        error_2 = (layer(x) - reference).pow(2).mean()
    assert error_8 < 1e-3 * reference.pow(2).mean()
    assert error_2 > 10 * error_8


def test_running_uncalibrated_layer_asks_for_calibration() -> None:
    layer = QuantConv2d.from_float(_conv(), LayerBits(4, 4))
    with pytest.raises(RuntimeError, match="calibrate"):
        layer(torch.randn(1, 8, 5, 5))


def test_bits_outside_2_to_8_are_rejected() -> None:
    layer = QuantConv2d.from_float(_conv(), LayerBits(4, 4))
    with pytest.raises(ValueError, match=r"\[2, 8\]"):
        layer.weight_quantizer.bits = 9
    with pytest.raises(ValueError, match=r"\[2, 8\]"):
        layer.set_bits(LayerBits(1, 4))
    with pytest.raises(TypeError):
        layer.set_bits((4, 4))  # type: ignore[arg-type]


def test_gradient_reaches_weights_and_only_the_active_steps() -> None:
    layer = QuantConv2d.from_float(_conv(), LayerBits(4, 3))
    x = torch.randn(4, 8, 9, 9)
    _calibrated(layer, x)
    layer.train()
    layer(x).pow(2).sum().backward()
    assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0
    for bits, step in zip(range(2, 9), layer.weight_quantizer.steps, strict=True):
        assert (step.grad is not None) == (bits == 4)
    for bits, step in zip(range(2, 9), layer.input_quantizer.steps, strict=True):
        assert (step.grad is not None) == (bits == 3)


def test_a_bitwidth_keeps_its_own_step_when_bits_change_and_come_back() -> None:
    layer = QuantConv2d.from_float(_conv(), LayerBits(4, 4))
    _calibrated(layer, torch.randn(4, 8, 9, 9))
    with torch.no_grad():
        layer.weight_quantizer.step.mul_(1.5)
    learned = layer.weight_quantizer.step.detach().clone()
    layer.set_bits(LayerBits(2, 2))
    assert layer.weight_quantizer.step.shape == learned.shape
    assert not torch.equal(layer.weight_quantizer.step, learned)
    layer.set_bits(LayerBits(4, 4))
    assert torch.equal(layer.weight_quantizer.step, learned)


def test_cached_weight_equals_the_training_path_and_follows_in_place_updates() -> None:
    layer = QuantConv2d.from_float(_conv(), LayerBits(4, 4))
    x = torch.randn(2, 8, 9, 9)
    _calibrated(layer, x)
    layer.eval()
    with torch.no_grad():
        cached = layer.quantized_weight()
        assert layer.quantized_weight() is cached
    assert torch.equal(layer.quantized_weight().detach(), cached)
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.5)
    layer(x).sum().backward()
    optimizer.step()
    with torch.no_grad():
        updated = layer.quantized_weight()
    assert updated is not cached
    assert torch.equal(updated, layer.weight_quantizer(layer.weight))
    with torch.no_grad():
        layer.set_bits(LayerBits(2, 4))
        assert not torch.equal(layer.quantized_weight(), updated)


def test_activation_quantizer_decides_signedness_from_the_data() -> None:
    generator = torch.Generator().manual_seed(0)
    for values, signed in ((torch.rand(100), False), (torch.randn(100), True)):
        quantizer = ActivationQuantizer(bits=4)
        quantizer.start_observing()
        quantizer.observe(values, generator)
        quantizer.finish_observing(generator)
        assert quantizer.signed is signed
        assert quantizer.q_range == ((-7, 7) if signed else (0, 15))


def test_state_dict_round_trip_needs_no_calibration() -> None:
    layer = QuantConv2d.from_float(_conv(), LayerBits(3, 5))
    x = torch.randn(2, 8, 9, 9)
    _calibrated(layer, x)
    copy = QuantConv2d.from_float(_conv(), LayerBits(3, 5))
    copy.load_state_dict(layer.state_dict())
    copy.set_bits(LayerBits(3, 5))
    with torch.no_grad():
        assert torch.equal(copy(x), layer(x))
