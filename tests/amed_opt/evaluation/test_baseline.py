"""The float baseline: trained once and cached atomically, or loaded from a checkpoint."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from amed_opt.evaluation import baseline as baseline_module
from amed_opt.evaluation import training as training_module
from amed_opt.evaluation.baseline import Baseline
from amed_opt.evaluation.baseline import BaselineSource
from amed_opt.evaluation.baseline import baseline_path
from amed_opt.evaluation.baseline import load_baseline
from amed_opt.evaluation.baseline import prepare_study
from amed_opt.evaluation.data import DataSplits
from amed_opt.study.spec import BaselineSpec
from amed_opt.study.spec import DataSpec
from amed_opt.study.spec import ModelSpec
from amed_opt.study.spec import StudySpec


CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def spec(synthetic_spec: DataSpec) -> StudySpec:
    # ShuffleNet V2 x0.5 is the cheapest torchvision classifier to train at 8x8 pixels.
    return StudySpec(
        name="tiny",
        model=ModelSpec("shufflenet_v2_x0_5"),
        data=synthetic_spec,
        baseline=BaselineSpec(epochs=1, lr=0.05),
    )


@pytest.fixture(scope="module")
def trained_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("trained")


@pytest.fixture(scope="module")
def trained(spec: StudySpec, synthetic_data: DataSplits, trained_dir: Path) -> Baseline:
    """The baseline as first trained into `trained_dir` (shared: training is the slow part)."""
    return load_baseline(spec, synthetic_data, cache_dir=trained_dir, device=CPU, progress=False)


def _load(spec: StudySpec, data: DataSplits, cache_dir: Path) -> Baseline:
    return load_baseline(spec, data, cache_dir=cache_dir, device=CPU, progress=False)


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _same_weights(first: torch.nn.Module, second: torch.nn.Module) -> bool:
    a, b = first.state_dict(), second.state_dict()
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_baseline_is_trained_once_then_loaded_from_the_cache(
    spec: StudySpec, synthetic_data: DataSplits, trained: Baseline, trained_dir: Path
) -> None:
    assert trained.source is BaselineSource.TRAINED
    assert trained.path == baseline_path(spec, synthetic_data, trained_dir)
    assert _files(trained_dir) == [trained.path.name]
    assert trained.validation_accuracy is not None and 0 <= trained.validation_accuracy <= 1
    cached = _load(spec, synthetic_data, trained_dir)
    assert cached.source is BaselineSource.CACHED
    assert cached.validation_accuracy == trained.validation_accuracy
    assert _same_weights(trained.model, cached.model)
    assert not cached.model.training


def test_training_is_seeded(
    spec: StudySpec, synthetic_data: DataSplits, trained: Baseline, cache_dir: Path
) -> None:
    again = _load(spec, synthetic_data, cache_dir)
    assert again.source is BaselineSource.TRAINED
    assert _same_weights(trained.model, again.model)


def test_the_cache_key_covers_model_data_and_recipe(
    spec: StudySpec, synthetic_data: DataSplits
) -> None:
    path = baseline_path(spec, synthetic_data, Path("c"))
    data = spec.data
    changes = [
        dataclasses.replace(spec, baseline=BaselineSpec(epochs=2, lr=0.05)),
        dataclasses.replace(spec, baseline=BaselineSpec(epochs=1, lr=0.1)),
        dataclasses.replace(spec, seed=1),
        dataclasses.replace(spec, model=ModelSpec("resnet18")),
        dataclasses.replace(spec, data=dataclasses.replace(data, validation_images=50)),
        dataclasses.replace(spec, data=dataclasses.replace(data, batch_size=8)),
        dataclasses.replace(spec, data=dataclasses.replace(data, root="/elsewhere")),
    ]
    paths = {baseline_path(changed, synthetic_data, Path("c")) for changed in changes}
    assert path not in paths and len(paths) == len(changes)
    # What does not change the trained weights does not change the key.
    same = dataclasses.replace(spec, data=dataclasses.replace(data, calibration_images=16))
    assert baseline_path(same, synthetic_data, Path("c")) == path


def test_a_crash_while_saving_leaves_nothing_in_the_cache(
    spec: StudySpec, synthetic_data: DataSplits, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted_save(obj: object, path: Path) -> None:
        Path(path).write_bytes(b"half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(baseline_module.torch, "save", interrupted_save)
    with pytest.raises(KeyboardInterrupt):
        _load(spec, synthetic_data, cache_dir)
    assert _files(cache_dir) == []


def test_a_crash_while_training_leaves_nothing_in_the_cache(
    spec: StudySpec, synthetic_data: DataSplits, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted_step(*args: object, **kwargs: object) -> float:
        raise KeyboardInterrupt

    monkeypatch.setattr(training_module, "train_step", interrupted_step)
    with pytest.raises(KeyboardInterrupt):
        _load(spec, synthetic_data, cache_dir)
    assert _files(cache_dir) == []


def test_an_unreadable_cache_entry_is_trained_again(
    spec: StudySpec, synthetic_data: DataSplits, cache_dir: Path
) -> None:
    path = baseline_path(spec, synthetic_data, cache_dir)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a checkpoint")
    loaded = _load(spec, synthetic_data, cache_dir)
    assert loaded.source is BaselineSource.TRAINED
    assert torch.load(path, weights_only=True)["key"]["arch"] == "shufflenet_v2_x0_5"


def test_a_local_checkpoint_is_loaded(
    spec: StudySpec, synthetic_data: DataSplits, trained: Baseline, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "mine.pt"
    torch.save(trained.model.state_dict(), checkpoint)
    from_file = dataclasses.replace(spec, model=ModelSpec(spec.model.arch, str(checkpoint)))
    loaded = _load(from_file, synthetic_data, tmp_path / "cache")
    assert loaded.source is BaselineSource.CHECKPOINT and loaded.path == checkpoint
    assert _same_weights(loaded.model, trained.model)
    assert not (tmp_path / "cache").exists()


def test_a_checkpoint_that_does_not_fit_is_one_clear_error(
    spec: StudySpec, synthetic_data: DataSplits, trained: Baseline, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "other.pt"
    torch.save(trained.model.state_dict(), checkpoint)
    other = dataclasses.replace(spec, model=ModelSpec("mobilenet_v3_small", str(checkpoint)))
    with pytest.raises(ValueError, match="does not match mobilenet_v3_small.*missing keys"):
        _load(other, synthetic_data, tmp_path)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"\x00\x01")
    unreadable = dataclasses.replace(spec, model=ModelSpec(spec.model.arch, str(garbage)))
    with pytest.raises(ValueError, match="cannot be read"):
        _load(unreadable, synthetic_data, tmp_path)


def test_unknown_weights_name_lists_the_torchvision_ones(
    spec: StudySpec, synthetic_data: DataSplits, cache_dir: Path
) -> None:
    unknown = dataclasses.replace(spec, model=ModelSpec("resnet18", "IMAGENET1K_V9"))
    with pytest.raises(FileNotFoundError, match="IMAGENET1K_V1"):
        _load(unknown, synthetic_data, cache_dir)
    unknown_arch = dataclasses.replace(spec, model=ModelSpec("resnet19"))
    with pytest.raises(ValueError, match="known torchvision models"):
        _load(unknown_arch, synthetic_data, cache_dir)
    assert _files(cache_dir) == []


def test_prepare_study_gives_data_baseline_and_layers(spec: StudySpec, cache_dir: Path) -> None:
    untrained = dataclasses.replace(spec, baseline=BaselineSpec(epochs=0))
    prepared = prepare_study(untrained, cache_dir=cache_dir, device=CPU, progress=False)
    assert prepared.data.info.input_shape == (3, 8, 8)
    assert prepared.layers[0].in_channels == 3 and prepared.layers[-1].out_channels == 10
    assert prepared.baseline.path is not None
    assert prepared.baseline.path.parent == cache_dir / "baselines"
