"""The composition root's parts: the torch device, the hardware model and the built components."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from amed_opt.app import RunOptions
from amed_opt.app import build_components
from amed_opt.app import build_hardware
from amed_opt.app import torch_device
from amed_opt.evaluation.synthetic import SyntheticEvaluator
from amed_opt.study.spec import load_spec
from amed_opt.study.spec import with_overrides
from hardware import network_latency


STUDY = Path(__file__).resolve().parents[2] / "data" / "synthetic_study.toml"


def test_cpu_is_a_device() -> None:
    assert torch_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize("name", ["foo", "gpu0", ""])
def test_a_bad_device_name_is_a_value_error_naming_it(name: str) -> None:
    with pytest.raises(ValueError, match="is not a torch device"):
        torch_device(name)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA present")
def test_cuda_without_a_gpu_says_to_use_the_cpu() -> None:
    with pytest.raises(ValueError, match="use --device cpu"):
        torch_device("cuda")


def test_the_hardware_is_the_specs_preset() -> None:
    spec = with_overrides(load_spec(str(STUDY)), hardware="eyeriss")
    assert build_hardware(spec).name == "eyeriss"


def test_components_of_the_synthetic_study(tmp_path: Path) -> None:
    spec = load_spec(str(STUDY))
    options = RunOptions(cache_dir=tmp_path / "cache", results_dir=tmp_path, progress=False)
    components = build_components(spec, options)

    assert isinstance(components.evaluator, SyntheticEvaluator)
    assert len(components.layers) == 21  # ResNet-18: 20 convolutions and the classifier
    assert components.space.searched_layers == components.layers[1:-1]
    eight = network_latency(components.hardware, components.layers, [(8, 8)] * 21)
    assert components.reference_latency_ms == eight.latency_ms
    assert components.max_size_bytes is None
    assert "SYNTHETIC" in components.baseline_note
    assert list(tmp_path.iterdir()) == []  # nothing written: no database, no results yet
