"""`run_comparison` end to end on the synthetic test study: every study and the uniform
allocations, resuming an interrupted comparison, topping up a larger budget, and the memo."""

from __future__ import annotations

from pathlib import Path

import optuna

from amed_opt.app import RunOptions
from amed_opt.app import run_study
from amed_opt.compare import plan_comparison
from amed_opt.compare import run_comparison
from amed_opt.compare._plan import ComparisonPlan
from amed_opt.study.spec import SamplerName


def _studies(url: str) -> dict[str, optuna.Study]:
    return {
        s.study_name: optuna.load_study(study_name=s.study_name, storage=url)
        for s in optuna.get_all_study_summaries(url)
    }


def test_runs_resumes_and_tops_up_every_study(study_path: Path, tmp_path: Path) -> None:
    def plan(n_trials: int) -> ComparisonPlan:
        return plan_comparison(
            str(study_path),
            samplers=(SamplerName.AMED, SamplerName.TPE),
            n_trials=n_trials,
            seeds=2,
            storage=f"sqlite:///{tmp_path / 'compare.db'}",
            out=tmp_path / "out",
        )

    # An interrupted comparison: one study already holds part of its budget.
    options = RunOptions(cache_dir=tmp_path / "cache", results_dir=tmp_path, progress=False)
    run_study(plan(3).study_spec(SamplerName.TPE, 1), options)

    run = run_comparison(plan(6), options)
    studies = _studies(plan(6).storage_url)
    expected = {f"synthetic-r18-{s}-seed{k}" for s in ("amed", "tpe") for k in (0, 1)}
    assert set(studies) == expected | {"synthetic-r18-uniform"}
    for name in expected:
        trials = studies[name].get_trials()
        assert len(trials) == 6 and all(t.state.name == "COMPLETE" for t in trials)
        # The warm start: every sampler begins with the uniform ladder, within its budget.
        ladder = [set(t.params.values()) for t in trials[:3]]
        assert ladder == [{8}, {7}, {6}]
    uniform = studies["synthetic-r18-uniform"].get_trials()
    assert sorted(set(t.params.values()) for t in uniform) == [{b} for b in range(2, 9)]
    # Seeds outer, samplers inner; the resumed study ran its last 3 trials only.
    assert [(s.study_name, s.trials_run) for s in run.studies] == [
        ("synthetic-r18-amed-seed0", 6),
        ("synthetic-r18-tpe-seed0", 6),
        ("synthetic-r18-amed-seed1", 6),
        ("synthetic-r18-tpe-seed1", 3),
    ]
    assert run.uniform_trials_run == 7
    # The uniform 8-bit allocation was measured by the interrupted study and is recalled by
    # every other study's first trial and by the uniform study.
    assert run.memo_hits >= 4 and run.memo_hits + run.memo_misses == 3 * 6 + 3 + 7
    assert (tmp_path / "out" / "studies").is_dir()

    # A larger budget tops every study up; the uniform allocations are not measured again.
    topped = run_comparison(plan(9), options)
    assert [s.trials_run for s in topped.studies] == [3] * 4 and topped.uniform_trials_run == 0
    studies = _studies(plan(9).storage_url)
    assert all(len(studies[name].get_trials()) == 9 for name in expected)
    assert len(studies["synthetic-r18-uniform"].get_trials()) == 7
