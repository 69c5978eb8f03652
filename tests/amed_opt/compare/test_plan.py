"""`plan_comparison`: labels, overrides, seeds, defaults and the settings it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from amed_opt.compare import parse_samplers
from amed_opt.compare import plan_comparison
from amed_opt.compare._plan import display_name
from amed_opt.study.spec import EvaluatorMode
from amed_opt.study.spec import SamplerName
from amed_opt.study.spec import SpecError


def test_plan_labels_overrides_and_seeds(study_path: Path, tmp_path: Path) -> None:
    plan = plan_comparison(
        str(study_path),
        samplers=(SamplerName.AMED, SamplerName.NSGA2),
        n_trials=7,
        seeds=3,
        hardware="eyeriss",
        evaluator="shared",
        root=tmp_path,
    )
    assert plan.label == "synthetic-r18-eyeriss-shared"
    assert plan.out_dir == tmp_path / "synthetic-r18-eyeriss-shared"
    assert plan.storage_url == f"sqlite:///{tmp_path / 'synthetic-r18.db'}"
    assert plan.storage_folder == tmp_path
    assert plan.uniform_study_name == "synthetic-r18-eyeriss-shared-uniform"
    assert plan.seeds == (0, 1, 2)
    spec = plan.study_spec(SamplerName.NSGA2, 2)
    assert (spec.seed, spec.n_trials, spec.hardware.preset) == (2, 7, "eyeriss")
    assert spec.evaluator.mode is EvaluatorMode.SHARED
    # Baselines ignore AMED's settings: they keep the defaults, AMED keeps the study's.
    assert spec.sampler.latency_weights == (1.0,)
    assert plan.study_spec(SamplerName.AMED, 0).sampler.latency_weights == (0.5, 2.0)
    assert not any(tmp_path.iterdir())  # planning creates nothing


def test_unchanged_settings_keep_the_study_name_and_a_named_storage_has_no_folder(
    study_path: Path, tmp_path: Path
) -> None:
    same = plan_comparison(
        str(study_path),
        samplers=(SamplerName.AMED,),
        hardware="scale-sim",
        evaluator="fresh",
        storage="sqlite:///elsewhere.db",
        out=tmp_path,
    )
    assert same.label == "synthetic-r18" and same.n_trials == 20
    assert (same.storage_url, same.storage_folder, same.out_dir) == (
        "sqlite:///elsewhere.db",
        None,
        tmp_path,
    )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"seeds": 0}, "--seeds"),
        ({"n_trials": 0}, "--n-trials"),
        ({"latency_weight": -1.0}, "--latency-weight"),
        ({"latency_weight": float("nan")}, "--latency-weight"),
        ({"evaluator": "lazy"}, "--evaluator must be one of .*, got .lazy."),
        ({"samplers": ()}, "--samplers"),
    ],
)
def test_spec_errors_name_the_setting(
    study_path: Path, settings: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {"samplers": (SamplerName.AMED,), **settings}
    with pytest.raises(SpecError, match=message):
        plan_comparison(str(study_path), **arguments)  # type: ignore[arg-type]


def test_unknown_preset_or_study_is_not_found(study_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        plan_comparison(str(study_path), samplers=(SamplerName.AMED,), hardware="nope")
    with pytest.raises(FileNotFoundError):
        plan_comparison("no-such-study", samplers=(SamplerName.AMED,))


def test_parse_samplers_keeps_order_and_refuses_bad_names() -> None:
    assert parse_samplers(" tpe, amed ,") == (SamplerName.TPE, SamplerName.AMED)
    for text, message in [(",", "at least one"), ("amed,cmaes", "'cmaes'"), ("tpe,tpe", "twice")]:
        with pytest.raises(SpecError, match=message):
            parse_samplers(text)


def test_display_names() -> None:
    names = [display_name(s.value) for s in SamplerName]
    assert names == ["AMED (MH)", "TPE", "NSGA-II", "Random", "Greedy"]
    assert display_name("cmaes") == "cmaes"
