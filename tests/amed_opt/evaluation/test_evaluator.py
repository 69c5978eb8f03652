"""The evaluator: metrics, the fresh and shared modes, determinism and bad input."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from amed_opt.evaluation.data import Loaders
from amed_opt.evaluation.evaluator import Evaluator
from amed_opt.evaluation.evaluator import TrialMetrics
from amed_opt.evaluation.models import quantizable_layers
from amed_opt.evaluation.training import classify_correct
from amed_opt.study.bits import BitConfig
from amed_opt.study.bits import LayerBits
from amed_opt.study.spec import EvaluatorMode
from amed_opt.study.spec import EvaluatorSpec
from hardware import HardwareModel
from hardware import LayerShape
from hardware import network_latency


CPU = torch.device("cpu")
FRESH = EvaluatorSpec(mode=EvaluatorMode.FRESH, steps_per_trial=0)
SHARED = EvaluatorSpec(mode=EvaluatorMode.SHARED, steps_per_trial=4, lr=0.02)


@pytest.fixture
def layers(trained_tiny_cnn: nn.Module) -> list[LayerShape]:
    return quantizable_layers(trained_tiny_cnn, (3, 8, 8))


def _evaluator(
    model: nn.Module,
    layers: list[LayerShape],
    loaders: Loaders,
    hardware: HardwareModel,
    spec: EvaluatorSpec,
    device: torch.device = CPU,
) -> Evaluator:
    return Evaluator(model, layers, hardware, loaders=loaders, spec=spec, device=device, seed=0)


def _mixed(layers: list[LayerShape]) -> BitConfig:
    widths = [8, 3, 2, 8]
    return BitConfig(
        {layer.name: LayerBits(w, w) for layer, w in zip(layers, widths, strict=True)}
    )


def test_metrics_come_from_the_hardware_model_and_the_allocation(
    trained_tiny_cnn: nn.Module,
    layers: list[LayerShape],
    synthetic_loaders: Loaders,
    toy_hardware: HardwareModel,
) -> None:
    evaluator = _evaluator(trained_tiny_cnn, layers, synthetic_loaders, toy_hardware, FRESH)
    bits = _mixed(layers)
    metrics = evaluator.evaluate(bits)
    pairs = [(b.w_bits, b.a_bits) for b in bits.values()]
    expected = network_latency(toy_hardware, layers, pairs)
    assert isinstance(metrics, TrialMetrics)
    assert 0 <= metrics.accuracy <= 1
    assert metrics.latency_cycles == expected.total_cycles
    assert metrics.latency_ms == pytest.approx(expected.total_cycles / 100e6 * 1e3)
    assert dict(metrics.cycles_by_layer) == expected.cycles_by_layer
    assert list(metrics.cycles_by_layer) == [layer.name for layer in layers]
    assert metrics.size_bytes == bits.weight_size_bytes(layers)
    assert metrics.train_steps == 0 and metrics.seconds > 0
    assert metrics.to_dict()["latency_cycles"] == metrics.latency_cycles
    with pytest.raises(dataclasses.FrozenInstanceError):
        metrics.accuracy = 1.0  # type: ignore[misc]


def test_8_bit_matches_float_and_2_bit_costs_accuracy_cycles_and_bytes(
    trained_tiny_cnn: nn.Module,
    layers: list[LayerShape],
    synthetic_loaders: Loaders,
    toy_hardware: HardwareModel,
) -> None:
    spec = dataclasses.replace(FRESH, recalibrate_bn=False)
    evaluator = _evaluator(trained_tiny_cnn, layers, synthetic_loaders, toy_hardware, spec)
    names = [layer.name for layer in layers]
    eight = evaluator.evaluate(BitConfig.uniform(names, 8))
    two = evaluator.evaluate(BitConfig.uniform(names, 2))
    assert evaluator.float_accuracy > 0.5
    assert eight.accuracy == pytest.approx(evaluator.float_accuracy, abs=0.03)
    assert two.accuracy < eight.accuracy
    assert two.latency_cycles < eight.latency_cycles
    assert two.size_bytes * 4 == pytest.approx(eight.size_bytes, abs=4)


def test_each_trial_records_which_validation_images_it_got_right_in_their_order(
    trained_tiny_cnn: nn.Module,
    layers: list[LayerShape],
    synthetic_loaders: Loaders,
    toy_hardware: HardwareModel,
) -> None:
    evaluator = _evaluator(trained_tiny_cnn, layers, synthetic_loaders, toy_hardware, FRESH)
    names = [layer.name for layer in layers]
    n_images = len(synthetic_loaders.validation.dataset)
    for bits in (BitConfig.uniform(names, 8), _mixed(layers), BitConfig.uniform(names, 2)):
        metrics = evaluator.evaluate(bits)
        assert metrics.val_correct is not None and metrics.val_correct.count == n_images
        vector = metrics.val_correct.array()
        assert vector.mean() == metrics.accuracy
        # The same model, classified again image by image over the loader, in its fixed order.
        again = classify_correct(
            evaluator.quantized_model, synthetic_loaders.validation, device=CPU
        )
        assert vector.tolist() == again.tolist()


@pytest.mark.parametrize("steps", [0, 3])
def test_fresh_trials_are_independent_and_reproducible(
    trained_tiny_cnn: nn.Module,
    layers: list[LayerShape],
    synthetic_loaders: Loaders,
    toy_hardware: HardwareModel,
    steps: int,
) -> None:
    spec = dataclasses.replace(FRESH, steps_per_trial=steps)
    evaluator = _evaluator(trained_tiny_cnn, layers, synthetic_loaders, toy_hardware, spec)
    names = [layer.name for layer in layers]
    mixed, four = _mixed(layers), BitConfig.uniform(names, 4)
    first = evaluator.evaluate(mixed)
    evaluator.evaluate(four)
    again = evaluator.evaluate(mixed)
    other = _evaluator(trained_tiny_cnn, layers, synthetic_loaders, toy_hardware, spec)
    alone = other.evaluate(mixed)
    assert first.accuracy == again.accuracy == alone.accuracy
    assert first.val_correct == again.val_correct == alone.val_correct
    assert first.train_steps == steps
    after = {k: v.clone() for k, v in evaluator.quantized_model.state_dict().items()}
    evaluator.evaluate(mixed)
    final = evaluator.quantized_model.state_dict()
    assert all(torch.equal(after[k], final[k]) for k in after)


def test_the_float_model_is_never_modified(
    trained_tiny_cnn: nn.Module,
    layers: list[LayerShape],
    synthetic_loaders: Loaders,
    toy_hardware: HardwareModel,
) -> None:
    before = {k: v.clone() for k, v in trained_tiny_cnn.state_dict().items()}
    for spec in (dataclasses.replace(FRESH, steps_per_trial=2), SHARED):
        evaluator = _evaluator(trained_tiny_cnn, layers, synthetic_loaders, toy_hardware, spec)
        evaluator.evaluate(_mixed(layers))
    after = trained_tiny_cnn.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not any(type(m).__name__.startswith("Quant") for m in trained_tiny_cnn.modules())


def test_shared_trials_keep_training_the_same_network(
    trained_tiny_cnn: nn.Module,
    layers: list[LayerShape],
    synthetic_loaders: Loaders,
    toy_hardware: HardwareModel,
) -> None:
    evaluator = _evaluator(trained_tiny_cnn, layers, synthetic_loaders, toy_hardware, SHARED)
    mixed = _mixed(layers)
    model = evaluator.quantized_model
    weights = [model.get_submodule("down").weight.detach().clone()]
    for _ in range(2):
        evaluator.evaluate(mixed)
        weights.append(model.get_submodule("down").weight.detach().clone())
    assert not torch.equal(weights[0], weights[1])
    assert not torch.equal(weights[1], weights[2])


def test_shared_trials_are_reproducible_given_the_same_history(
    trained_tiny_cnn: nn.Module,
    layers: list[LayerShape],
    synthetic_loaders: Loaders,
    toy_hardware: HardwareModel,
) -> None:
    names = [layer.name for layer in layers]
    history = [_mixed(layers), BitConfig.uniform(names, 4), _mixed(layers)]
    runs = []
    for _ in range(2):
        evaluator = _evaluator(trained_tiny_cnn, layers, synthetic_loaders, toy_hardware, SHARED)
        runs.append([evaluator.evaluate(bits).accuracy for bits in history])
        runs[-1].append(evaluator.quantized_model.get_submodule("fc").weight.sum().item())
    assert runs[0] == runs[1]


def test_shared_mode_returns_to_a_bitwidth_with_its_learned_step(
    trained_tiny_cnn: nn.Module,
    layers: list[LayerShape],
    synthetic_loaders: Loaders,
    toy_hardware: HardwareModel,
) -> None:
    evaluator = _evaluator(trained_tiny_cnn, layers, synthetic_loaders, toy_hardware, SHARED)
    names = [layer.name for layer in layers]
    quantizer = evaluator.quantized_model.get_submodule("down").weight_quantizer
    evaluator.evaluate(BitConfig.uniform(names, 3))
    learned = quantizer.step.detach().clone()
    assert not torch.equal(learned, quantizer.steps[4 - 2].detach())
    evaluator.evaluate(BitConfig.uniform(names, 4))
    # The 3-bit step is left alone while the layer trains at 4 bits, and comes back as it was.
    assert torch.equal(quantizer.steps[3 - 2].detach(), learned)
    evaluator.evaluate(BitConfig.uniform(names, 3))
    assert quantizer.step is quantizer.steps[3 - 2]


def test_bits_must_name_exactly_the_layers(
    trained_tiny_cnn: nn.Module,
    layers: list[LayerShape],
    synthetic_loaders: Loaders,
    toy_hardware: HardwareModel,
) -> None:
    evaluator = _evaluator(trained_tiny_cnn, layers, synthetic_loaders, toy_hardware, FRESH)
    names = [layer.name for layer in layers]
    with pytest.raises(ValueError, match=r"missing: \['fc'\]"):
        evaluator.evaluate(BitConfig.uniform(names[:-1], 8))
    with pytest.raises(ValueError, match=r"unknown: \['extra'\]"):
        evaluator.evaluate(BitConfig.uniform([*names, "extra"], 8))
    with pytest.raises(TypeError, match="BitConfig"):
        evaluator.evaluate({name: (8, 8) for name in names})  # type: ignore[arg-type]


def test_unknown_layer_names_are_rejected_at_construction(
    trained_tiny_cnn: nn.Module,
    layers: list[LayerShape],
    synthetic_loaders: Loaders,
    toy_hardware: HardwareModel,
) -> None:
    renamed = [dataclasses.replace(layers[0], name="nope"), *layers[1:]]
    with pytest.raises(KeyError, match="nope"):
        _evaluator(trained_tiny_cnn, renamed, synthetic_loaders, toy_hardware, FRESH)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("spec", [FRESH, SHARED])
def test_cuda_gives_the_same_metrics_as_cpu(
    trained_tiny_cnn: nn.Module,
    layers: list[LayerShape],
    synthetic_loaders: Loaders,
    toy_hardware: HardwareModel,
    spec: EvaluatorSpec,
) -> None:
    cuda = torch.device("cuda")
    bits = _mixed(layers)
    on_cpu = _evaluator(trained_tiny_cnn, layers, synthetic_loaders, toy_hardware, spec).evaluate(
        bits
    )
    on_gpu = _evaluator(
        trained_tiny_cnn, layers, synthetic_loaders, toy_hardware, spec, device=cuda
    ).evaluate(bits)
    assert on_gpu.latency_cycles == on_cpu.latency_cycles
    assert on_gpu.size_bytes == on_cpu.size_bytes
    # Kernels differ in summation order; allow a couple of images to flip.
    assert on_gpu.accuracy == pytest.approx(on_cpu.accuracy, abs=2 / 96)
    assert on_gpu.val_correct is not None and on_cpu.val_correct is not None
    assert on_gpu.val_correct.array().mean() == on_gpu.accuracy
    flipped = on_gpu.val_correct.array() != on_cpu.val_correct.array()
    assert flipped.sum() <= 2
    assert next(trained_tiny_cnn.parameters()).device.type == "cpu"
