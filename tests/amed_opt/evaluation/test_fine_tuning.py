"""Fine-tuning an allocation: the report and the exported files."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch
from torch import nn

from amed_opt.evaluation.baseline import prepare_study
from amed_opt.evaluation.data import Loaders
from amed_opt.evaluation.fine_tuning import finetune
from amed_opt.evaluation.fine_tuning import finetune_from_spec
from amed_opt.evaluation.fine_tuning import load_allocation
from amed_opt.evaluation.fine_tuning import restore_quantized
from amed_opt.evaluation.finetune_recipe import FinetuneRecipe
from amed_opt.evaluation.models import quantizable_layers
from amed_opt.evaluation.quantization import quantized_layers
from amed_opt.evaluation.training import measure_accuracy
from amed_opt.study.bits import BitConfig
from amed_opt.study.bits import LayerBits
from amed_opt.study.spec import BaselineSpec
from amed_opt.study.spec import DataSpec
from amed_opt.study.spec import ModelSpec
from amed_opt.study.spec import StudySpec
from hardware import HardwareModel
from hardware import LayerShape
from hardware import network_latency


CPU = torch.device("cpu")
RECIPE = FinetuneRecipe(lr=0.02, nesterov=False, warmup_fraction=0.0)


@pytest.fixture
def layers(trained_tiny_cnn: nn.Module) -> list[LayerShape]:
    return quantizable_layers(trained_tiny_cnn, (3, 8, 8))


@pytest.fixture
def bits(layers: list[LayerShape]) -> BitConfig:
    widths = [(8, 8), (3, 4), (2, 3), (8, 8)]
    return BitConfig({layer.name: LayerBits(*w) for layer, w in zip(layers, widths, strict=True)})


def test_finetune_reports_accuracy_latency_and_size(
    trained_tiny_cnn: nn.Module,
    layers: list[LayerShape],
    bits: BitConfig,
    toy_hardware: HardwareModel,
    synthetic_loaders: Loaders,
    tmp_path: Path,
) -> None:
    result = finetune(
        trained_tiny_cnn,
        layers,
        bits,
        toy_hardware,
        loaders=synthetic_loaders,
        epochs=2,
        recipe=RECIPE,
        device=CPU,
        output_dir=tmp_path,
        progress=False,
    )
    latency = network_latency(toy_hardware, layers, [(b.w_bits, b.a_bits) for b in bits.values()])
    assert result.bits == bits and result.epochs == 2
    for accuracy in (
        result.float_validation_accuracy,
        result.validation_accuracy_before,
        result.validation_accuracy,
        result.test_accuracy,
    ):
        assert 0 <= accuracy <= 1
    assert result.latency_cycles == latency.total_cycles
    assert result.latency_ms == pytest.approx(latency.latency_ms)
    assert result.size_bytes == bits.weight_size_bytes(layers)
    assert dict(result.cycles_by_layer) == latency.cycles_by_layer


def test_exported_files_round_trip(
    trained_tiny_cnn: nn.Module,
    layers: list[LayerShape],
    bits: BitConfig,
    toy_hardware: HardwareModel,
    synthetic_loaders: Loaders,
    tmp_path: Path,
) -> None:
    result = finetune(
        trained_tiny_cnn,
        layers,
        bits,
        toy_hardware,
        loaders=synthetic_loaders,
        epochs=1,
        recipe=RECIPE,
        device=CPU,
        output_dir=tmp_path / "out",
        progress=False,
    )
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == ["allocation.json", "integer_weights.pt", "quantized_state_dict.pt"]
    report = json.loads(result.allocation_path.read_text())
    assert report["validation_accuracy"] == result.validation_accuracy
    assert report["compact"] == bits.compact()
    assert load_allocation(result.allocation_path) == bits

    restored = restore_quantized(trained_tiny_cnn, bits, result.state_path, device=CPU)
    accuracy = measure_accuracy(restored, synthetic_loaders.validation, device=CPU)
    assert accuracy == result.validation_accuracy

    integers = torch.load(result.integer_weights_path, weights_only=True)
    assert list(integers) == [layer.name for layer in layers]
    for name, layer in quantized_layers(restored).items():
        exported = integers[name]
        assert exported["weight"].dtype == torch.int8
        assert (exported["w_bits"], exported["a_bits"]) == (bits[name].w_bits, bits[name].a_bits)
        q_max = 2 ** (bits[name].w_bits - 1) - 1
        assert exported["weight"].abs().max() <= q_max
        scale = exported["weight_scale"].reshape(-1, *([1] * (layer.weight.dim() - 1)))
        with torch.no_grad():
            assert torch.equal(exported["weight"].float() * scale, layer.quantized_weight())
        assert exported["input_signed"] == (name == "stem")


def test_zero_epochs_only_calibrates_and_measures(
    trained_tiny_cnn: nn.Module,
    layers: list[LayerShape],
    bits: BitConfig,
    toy_hardware: HardwareModel,
    synthetic_loaders: Loaders,
    tmp_path: Path,
) -> None:
    result = finetune(
        trained_tiny_cnn,
        layers,
        bits,
        toy_hardware,
        loaders=synthetic_loaders,
        epochs=0,
        recipe=RECIPE,
        device=CPU,
        output_dir=tmp_path,
        progress=False,
    )
    assert result.validation_accuracy == result.validation_accuracy_before


def test_bad_allocations_are_rejected_before_anything_is_written(
    trained_tiny_cnn: nn.Module,
    layers: list[LayerShape],
    toy_hardware: HardwareModel,
    synthetic_loaders: Loaders,
    tmp_path: Path,
) -> None:
    partial = BitConfig.uniform([layer.name for layer in layers[:-1]], 4)
    with pytest.raises(ValueError, match="missing"):
        finetune(
            trained_tiny_cnn,
            layers,
            partial,
            toy_hardware,
            loaders=synthetic_loaders,
            epochs=1,
            recipe=RECIPE,
            device=CPU,
            output_dir=tmp_path / "out",
            progress=False,
        )
    assert not (tmp_path / "out").exists()
    with pytest.raises(ValueError, match="no valid bit allocation"):
        (tmp_path / "bad.json").write_text("{}")
        load_allocation(tmp_path / "bad.json")


def test_finetune_from_spec_builds_everything_from_the_study(
    synthetic_spec: DataSpec, toy_hardware: HardwareModel, tmp_path: Path
) -> None:
    spec = StudySpec(
        name="tiny",
        model=ModelSpec("shufflenet_v2_x0_5"),
        data=dataclasses.replace(synthetic_spec, validation_images=32),
        baseline=BaselineSpec(epochs=0),
    )
    layers = prepare_study(spec, cache_dir=tmp_path / "cache", device=CPU, progress=False).layers
    names = [layer.name for layer in layers]
    bits = BitConfig(
        {name: LayerBits(8 if name in (names[0], names[-1]) else 4, 4) for name in names}
    )
    result = finetune_from_spec(
        spec,
        bits,
        toy_hardware,
        epochs=0,
        cache_dir=tmp_path / "cache",
        output_dir=tmp_path / "out",
        device=CPU,
        progress=False,
    )
    assert load_allocation(result.allocation_path) == bits
    assert result.size_bytes == bits.weight_size_bytes(layers)
