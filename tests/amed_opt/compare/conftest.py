"""Fixtures of the comparison tests: the synthetic test study, hand-made trials, summaries and a
small complete analysis with its plan and provenance."""

from __future__ import annotations

import dataclasses
import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import optuna
import pytest
from optuna.trial import TrialState

from amed_opt.compare import Provenance
from amed_opt.compare import plan_comparison
from amed_opt.compare._plan import ComparisonPlan
from amed_opt.compare._types import Analysis
from amed_opt.compare._types import ChainSummary
from amed_opt.compare._types import Point
from amed_opt.compare._types import SamplerSummary
from amed_opt.compare._types import Spread
from amed_opt.compare._types import StudySummary
from amed_opt.study.spec import SamplerName


STUDY = Path(__file__).resolve().parents[2] / "data" / "synthetic_study.toml"
"""ResNet-18 layer shapes with the synthetic accuracy model; AMED with two chains (0.5, 2)."""


@pytest.fixture
def study_path() -> Path:
    return STUDY


def add_trial(
    study: optuna.Study,
    accuracy: float,
    latency_ms: float,
    bits: str,
    *,
    state: TrialState = TrialState.COMPLETE,
    violation: float | None = None,
    **user_attrs: Any,
) -> None:
    """Add a finished trial as the objective stores it (values, `bits`, a size constraint)."""
    complete = state == TrialState.COMPLETE
    study.add_trial(
        optuna.trial.create_trial(
            state=state,
            values=[accuracy, latency_ms] if complete else None,
            user_attrs={"bits": bits, **user_attrs},
            system_attrs={} if violation is None else {"constraints": [violation]},
        )
    )


@pytest.fixture
def new_trial() -> Callable[..., None]:
    """`add_trial`, as a fixture (test modules cannot import each other)."""
    return add_trial


def sampler_summary(
    name: str, hv: float, q: float, dominated: dict[int, int], mixed_q: float | None = None
) -> SamplerSummary:
    """Three seeds with spread 0.01 around `hv` and `q`."""
    mixed = q if mixed_q is None else mixed_q
    return SamplerSummary(
        sampler=name,
        description=f"{name} settings",
        seeds=[0, 1, 2],
        hv=Spread(hv, 0.01, hv - 0.01, hv + 0.01),
        best_q=Spread(q, 0.01, q - 0.01, q + 0.01),
        best_mixed_q=Spread(mixed, 0.01, mixed - 0.01, mixed + 0.01),
        best_q_by_weight={},
        hv_curve=[],
        q_curve=[],
        uniform_dominated=dominated,
        best=None,
    )


@pytest.fixture
def summary() -> Callable[..., SamplerSummary]:
    """`sampler_summary`, as a fixture."""
    return sampler_summary


def make_analysis(*samplers: SamplerSummary, **fields: Any) -> Analysis:
    """An `Analysis` of the given sampler summaries and nothing else (override any field)."""
    values: dict[str, Any] = {
        "label": "x",
        "n_trials": 10,
        "reference_latency_ms": 1.0,
        "latency_weight": 1.0,
        "weights": [1.0],
        "q_threshold": None,
        "q_slope": 10.0,
        "studies": [],
        "samplers": list(samplers),
        "uniform": {},
        "uniform_hv": 0.5,
        "layers": [],
    }
    values.update(fields)
    return Analysis(**values)


@pytest.fixture
def analysis_of() -> Callable[..., Analysis]:
    """`make_analysis`, as a fixture."""
    return make_analysis


@pytest.fixture
def plan(tmp_path: Path) -> ComparisonPlan:
    """AMED against TPE, one seed, ten trials, storage and output under `tmp_path`."""
    return plan_comparison(
        str(STUDY),
        samplers=(SamplerName.AMED, SamplerName.TPE),
        n_trials=10,
        seeds=1,
        storage=f"sqlite:///{tmp_path / 'c.db'}",
        out=tmp_path / "out",
    )


@pytest.fixture
def analysis() -> Analysis:
    """AMED's one seed (six trials, one chain) and a TPE that has not run yet."""
    best = Point(7, 0.88, 1.2, 0.6, "8 4 6 8")
    chain = ChainSummary(1, 2.0, 4, 1, 0.25, (0.02, 0.01), [[4, 7, 0.88, 0.6, 5.0, 0.1]], [])
    study = StudySummary(
        "amed", 0, "synthetic-r18-amed-seed0", 6, [0.1] * 6, [0.2] * 6, {}, best, best, 0.2,
        [best], {8: True}, 30.0, 12.0, [chain],
    )  # fmt: skip
    amed = dataclasses.replace(
        sampler_summary("amed", 0.6, 0.5, {8: 3}),
        seeds=[0],
        hv_curve=[[0.1 * k, 0.0, 1.0] for k in range(1, 7)],
        q_curve=[[0.2, 0.1, 0.3]] * 6,
        best_q_by_weight={"0.5": Spread(0.7, 0.0, 0.7, 0.7)},
        best=(0, best),
    )
    nothing = Spread.of([])
    tpe = dataclasses.replace(
        sampler_summary("tpe", 0, 0, {}), seeds=[], hv=nothing, best_q=nothing
    )
    return make_analysis(
        amed,
        tpe,
        label="synthetic-r18",
        reference_latency_ms=2.0,
        weights=[0.5, 1.0],
        studies=[study],
        uniform={8: Point(0, 0.9, 2.0, 1.0, "8 8 8 8")},
        uniform_hv=0.0,
        layers=[
            {"name": f"conv{i}", "depthwise": i == 2, "memory_bound": {"8": i == 1}}
            for i in range(4)
        ],  # fmt: skip
    )


@pytest.fixture
def provenance() -> Provenance:
    return Provenance(
        command="python -m amed_opt.compare --study x",
        git_commit="abc123-dirty",
        machine={
            "cpu_count": 2,
            "cpu_model": "EPYC",
            "torch_threads": 2,
            "device": "cuda",
            "gpu": "H200",
            "platform": "Linux",
            "versions": {"optuna": "5.0.0", "torch": "2.5"},
        },
        wall_seconds=12.4,
        trials_run=28,
        memo_hits=4,
        memo_misses=24,
        generated="2025-01-01T00:00:00+00:00",
    )


BENCHMARKS = Path(__file__).resolve().parents[3] / "benchmarks"


@pytest.fixture
def load_benchmark() -> Callable[[str], ModuleType]:
    """Import a script of `benchmarks/` (a folder of scripts, not a package) by its stem."""

    def load(stem: str) -> ModuleType:
        spec = importlib.util.spec_from_file_location(stem, BENCHMARKS / f"{stem}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
