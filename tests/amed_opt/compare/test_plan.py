"""`plan_comparison`: labels, overrides, seeds, defaults and the settings it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from amed_opt.compare import parse_samplers
from amed_opt.compare import plan_comparison
from amed_opt.compare._plan import display_name
from amed_opt.compare._seeds import REPORTING_SEEDS_FROM
from amed_opt.compare._seeds import check_tuning_seeds
from amed_opt.compare._seeds import describe_seeds
from amed_opt.compare._seeds import seed_kind
from amed_opt.study.spec import ChainStart
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


def test_warm_start_and_first_seed(study_path: Path, tmp_path: Path) -> None:
    samplers = (SamplerName.AMED, SamplerName.GREEDY)
    plan = plan_comparison(str(study_path), samplers=samplers, seeds=2, root=tmp_path)
    # The fair default: every sampler starts from the uniform ladder.
    assert plan.warm_start == "ladder"
    for sampler in samplers:
        assert plan.study_spec(sampler, 0).sampler.start is ChainStart.BEST_UNIFORM
    bare = plan_comparison(
        str(study_path), samplers=samplers, warm_start="none", first_seed=100, root=tmp_path
    )
    assert bare.seeds == (100, 101, 102) and bare.spec.seed == 0  # network of the study's seed
    assert bare.study_spec(SamplerName.AMED, 100).sampler.start is ChainStart.HIGHEST_UNIFORM
    assert bare.study_spec(SamplerName.GREEDY, 100).sampler.start is ChainStart.HIGHEST_UNIFORM
    with pytest.raises(SpecError, match="--warm-start"):
        plan_comparison(str(study_path), samplers=samplers, warm_start="half")
    with pytest.raises(SpecError, match="--first-seed"):
        plan_comparison(str(study_path), samplers=samplers, first_seed=-1)


@pytest.mark.parametrize("start", [ChainStart.BEST_BRIDGED, ChainStart.PROBED])
def test_the_ladder_warm_start_keeps_a_bridged_or_probed_start(
    study_path: Path, tmp_path: Path, start: ChainStart
) -> None:
    """`best-bridged` and `probed` start from the uniform ladder too (then their midpoints or
    probes): the ladder warm start leaves them, and gives the baselines the plain ladder."""
    bridged = tmp_path / "bridged.toml"
    bridged.write_text(
        study_path.read_text().replace("[sampler]", f'[sampler]\nstart = "{start.value}"', 1)
    )
    plan = plan_comparison(
        str(bridged), samplers=(SamplerName.AMED, SamplerName.TPE), root=tmp_path
    )
    assert plan.study_spec(SamplerName.AMED, 0).sampler.start is start
    assert plan.study_spec(SamplerName.TPE, 0).sampler.start is ChainStart.BEST_UNIFORM


def test_reporting_seeds_are_kept_from_tuning() -> None:
    assert (seed_kind(99), seed_kind(REPORTING_SEEDS_FROM)) == ("tuning", "reporting")
    check_tuning_seeds([0, 1, 99])
    with pytest.raises(SpecError, match="100, 101 are reporting seeds"):
        check_tuning_seeds([99, 100, 101])
    assert "mix tuning" in describe_seeds([99, 100])
