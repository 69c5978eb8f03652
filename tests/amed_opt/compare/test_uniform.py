"""The uniform allocations: measured once into their own study, with the layers' metadata."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from amed_opt.app import Components
from amed_opt.app import RunOptions
from amed_opt.compare._plan import ComparisonPlan
from amed_opt.compare._uniform import layer_info
from amed_opt.compare._uniform import run_uniform
from amed_opt.evaluation.synthetic import SyntheticEvaluator
from amed_opt.study.metrics import price_allocation
from amed_opt.study.naming import METRIC_NAMES
from amed_opt.study.search_space import BitSearchSpace
from amed_opt.study.spec import load_spec
from hardware import LayerShape
from hardware import SystolicArray
from hardware import load_preset


@pytest.fixture
def components(study_path: Path) -> Components:
    """Five small layers (a depthwise one among them) on SCALE-Sim, synthetic accuracy."""
    layers = [
        LayerShape.conv2d("stem", in_channels=3, out_channels=32, input_hw=(16, 16), kernel=3),
        LayerShape.conv2d("a", in_channels=32, out_channels=32, input_hw=(16, 16), kernel=3),
        LayerShape.conv2d(
            "dw", in_channels=32, out_channels=32, input_hw=(16, 16), kernel=3, groups=32
        ),
        LayerShape.conv2d("b", in_channels=32, out_channels=64, input_hw=(8, 8), kernel=1),
        LayerShape.linear("fc", in_features=64, out_features=10),
    ]
    hardware = SystolicArray(load_preset("scale-sim"))
    space = BitSearchSpace(layers, load_spec(str(study_path)).search)
    return Components(
        layers=tuple(layers),
        hardware=hardware,
        hardware_summary="scale-sim",
        evaluator=SyntheticEvaluator(layers, hardware, seed=0),
        space=space,
        reference=price_allocation(hardware, layers, space.uniform_bits(8)),
        max_size_bytes=None,
        baseline_note="none",
        accuracy_input=(3, 16, 16),
        priced_input=(3, 16, 16),
    )


def test_uniform_allocations_are_measured_once(
    plan: ComparisonPlan, components: Components, tmp_path: Path
) -> None:
    storage = optuna.storages.InMemoryStorage()
    options = RunOptions(cache_dir=tmp_path / "cache", results_dir=tmp_path, progress=False)
    assert run_uniform(plan, storage, components, options) == 7
    study = optuna.load_study(study_name=plan.uniform_study_name, storage=storage)
    assert sorted(t.user_attrs["bits"] for t in study.get_trials()) == [
        f"8 {b} {b} {b} 8" for b in range(2, 9)
    ]
    assert study.metric_names == list(METRIC_NAMES)
    attrs = study.user_attrs
    assert attrs["spec"] == plan.spec.to_dict()
    assert attrs["reference_latency_ms"] == components.reference_latency_ms
    assert attrs["layer_info"] == layer_info(components) and "git_commit" in attrs
    assert run_uniform(plan, storage, components, options) == 0
    assert len(study.get_trials()) == 7


def test_layer_info_describes_every_layer_at_every_bitwidth(components: Components) -> None:
    info = layer_info(components)
    assert [row["name"] for row in info] == ["stem", "a", "dw", "b", "fc"]
    assert [row["searched"] for row in info] == [False, True, True, True, False]
    assert [row["depthwise"] for row in info] == [False, False, True, False, False]
    dw = info[2]
    assert (dw["index"], dw["kind"], dw["groups"], dw["kernel"], dw["input_hw"]) == (
        2,
        components.layers[2].kind.value,
        32,
        [3, 3],
        [16, 16],
    )
    for row, layer in zip(info, components.layers, strict=True):
        assert list(row["cycles"]) == [str(b) for b in range(2, 9)]
        eight = components.hardware.layer_latency(layer, 8, 8)
        assert row["cycles"]["8"] == eight.total_cycles
        assert (row["weight_count"], row["macs"]) == (layer.weight_count, layer.macs)
        assert set(row["memory_bound"]) == set(row["cycles"])
