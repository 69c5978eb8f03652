"""Calibration (signedness, initial steps) and BatchNorm re-estimation."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from amed_opt.evaluation.data import Loaders
from amed_opt.evaluation.quantization import calibrate
from amed_opt.evaluation.quantization import quantization_disabled
from amed_opt.evaluation.quantization import quantize_model
from amed_opt.evaluation.quantization import quantized_layers
from amed_opt.evaluation.quantization import recalibrate_batchnorm
from amed_opt.evaluation.quantization import set_bits
from amed_opt.evaluation.training import measure_accuracy
from amed_opt.study.bits import BitConfig


CPU = torch.device("cpu")


def test_signedness_follows_the_inputs_of_each_layer(
    tiny_cnn: nn.Module, tiny_layer_names: tuple[str, ...], synthetic_loaders: Loaders
) -> None:
    quantized = quantize_model(tiny_cnn, BitConfig.uniform(tiny_layer_names, 4))
    calibrate(quantized, synthetic_loaders.calibration, device=CPU)
    signed = {
        name: layer.input_quantizer.signed for name, layer in quantized_layers(quantized).items()
    }
    # Normalised images can be negative; every other layer is fed by a ReLU.
    assert signed == {"stem": True, "down": False, "depthwise": False, "fc": False}


def test_calibration_initializes_active_steps_and_new_bitwidths_lazily(
    tiny_cnn: nn.Module, tiny_layer_names: tuple[str, ...], synthetic_loaders: Loaders
) -> None:
    quantized = quantize_model(tiny_cnn, BitConfig.uniform(tiny_layer_names, 4))
    calibrate(quantized, synthetic_loaders.calibration, device=CPU)
    layer = quantized_layers(quantized)["down"]
    assert layer.input_quantizer.has_step(4) and not layer.input_quantizer.has_step(2)
    step_4 = layer.input_quantizer.step.item()
    set_bits(quantized, BitConfig.uniform(tiny_layer_names, 2))
    assert layer.input_quantizer.has_step(2)
    # Fewer levels: a larger step (the clipping range shrinks less than the level count).
    assert layer.input_quantizer.step.item() > step_4


def test_calibrated_8_bit_model_matches_the_float_model(
    trained_tiny_cnn: nn.Module, tiny_layer_names: tuple[str, ...], synthetic_loaders: Loaders
) -> None:
    quantized = quantize_model(trained_tiny_cnn, BitConfig.uniform(tiny_layer_names, 8))
    calibrate(quantized, synthetic_loaders.calibration, device=CPU)
    images, _labels = next(iter(synthetic_loaders.validation))
    quantized.eval()
    with torch.no_grad():
        reference = trained_tiny_cnn(images)
        quantized_logits = quantized(images)
        with quantization_disabled(quantized):
            assert torch.equal(quantized(images), reference)
    assert (quantized_logits - reference).abs().max() < 0.05 * reference.abs().max()
    assert (quantized_logits.argmax(1) == reference.argmax(1)).float().mean() > 0.95


def test_calibration_rejects_empty_batches_and_unquantized_models(
    tiny_cnn: nn.Module, tiny_layer_names: tuple[str, ...]
) -> None:
    with pytest.raises(ValueError, match="no quantized layer"):
        calibrate(tiny_cnn, [], device=CPU)
    quantized = quantize_model(tiny_cnn, BitConfig.uniform(tiny_layer_names, 4))
    with pytest.raises(ValueError, match="empty"):
        calibrate(quantized, [], device=CPU)


def test_batchnorm_re_estimation_averages_batch_statistics_and_restores_modes(
    trained_tiny_cnn: nn.Module, synthetic_loaders: Loaders
) -> None:
    model = trained_tiny_cnn
    model.down_bn.momentum = 0.3
    model.train()
    model.fc.eval()
    batches = list(synthetic_loaders.calibration)
    recalibrate_batchnorm(model, batches, device=CPU)
    assert model.training and not model.fc.training and model.stem_bn.training
    assert model.down_bn.momentum == 0.3
    # The stem's BatchNorm sees the stem's output: its running mean is the mean of batch means.
    model.eval()
    with torch.no_grad():
        means = [model.stem(images).mean(dim=(0, 2, 3)) for images, _ in batches]
    assert torch.allclose(model.stem_bn.running_mean, torch.stack(means).mean(0), atol=1e-5)


def test_batchnorm_re_estimation_of_empty_batches_changes_nothing(
    trained_tiny_cnn: nn.Module,
) -> None:
    before = {k: v.clone() for k, v in trained_tiny_cnn.state_dict().items()}
    with pytest.raises(ValueError, match="empty"):
        recalibrate_batchnorm(trained_tiny_cnn, [], device=CPU)
    after = trained_tiny_cnn.state_dict()
    assert all(torch.equal(before[key], after[key]) for key in before)


def test_batchnorm_re_estimation_recovers_low_bit_accuracy(
    trained_tiny_cnn: nn.Module, tiny_layer_names: tuple[str, ...], synthetic_loaders: Loaders
) -> None:
    bits = BitConfig.uniform(tiny_layer_names, 3)
    quantized = quantize_model(trained_tiny_cnn, bits)
    calibrate(quantized, synthetic_loaders.calibration, device=CPU)
    before = measure_accuracy(quantized, synthetic_loaders.validation, device=CPU)
    recalibrate_batchnorm(quantized, synthetic_loaders.calibration, device=CPU)
    after = measure_accuracy(quantized, synthetic_loaders.validation, device=CPU)
    assert after >= before


@pytest.mark.slow
def test_mobilenet_v2_signedness_follows_its_graph(synthetic_loaders: Loaders) -> None:
    from amed_opt.evaluation.models import build_model
    from amed_opt.evaluation.models import quantizable_layers
    from amed_opt.study.spec import ModelSpec

    model = build_model(ModelSpec("mobilenet_v2"), in_channels=3, num_classes=10, input_hw=(8, 8))
    names = [layer.name for layer in quantizable_layers(model, (3, 8, 8))]
    quantized = quantize_model(model, BitConfig.uniform(names, 4))
    calibrate(quantized, synthetic_loaders.calibration, device=CPU)
    signed = {
        name: layer.input_quantizer.signed for name, layer in quantized_layers(quantized).items()
    }
    # The image and the outputs of linear bottlenecks (no ReLU) are signed: they feed the
    # expansions and the last 1x1 convolution. Depthwise and projection convolutions and the
    # classifier follow a ReLU6.
    assert signed["features.0.0"] and signed["features.2.conv.0.0"]
    assert signed["features.3.conv.0.0"] and signed["features.18.0"]
    assert not signed["features.2.conv.1.0"] and not signed["features.2.conv.2"]
    assert not signed["classifier.1"]
    assert sum(signed.values()) == 1 + 16 + 1  # the image, 16 expansions, features.18
    quantized.eval()
    with torch.no_grad():
        assert torch.isfinite(quantized(next(iter(synthetic_loaders.validation))[0])).all()
