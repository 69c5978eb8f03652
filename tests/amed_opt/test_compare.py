"""The sampler comparison end to end on the synthetic test study: studies, resume, report, JSON,
figures, the memo, the verdict's rules and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest

from amed_opt.bits import BitConfig
from amed_opt.compare import MemoizedEvaluator
from amed_opt.compare import plan_comparison
from amed_opt.compare import verdict
from amed_opt.compare.__main__ import main
from amed_opt.compare._analysis import Analysis
from amed_opt.compare._analysis import SamplerSummary
from amed_opt.compare._analysis import Spread
from amed_opt.hypervolume import hypervolume
from amed_opt.runner import RunOptions
from amed_opt.runner import run_study
from amed_opt.spec import EvaluatorMode
from amed_opt.spec import SamplerName
from amed_opt.spec import SpecError
from amed_opt.synthetic import SyntheticEvaluator
from amed_opt.synthetic import SyntheticMetrics
from hardware import LayerShape
from hardware import SystolicArray
from hardware import load_preset


STUDY = Path(__file__).resolve().parents[1] / "data" / "synthetic_study.toml"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FIGURES = ("hypervolume.png", "fronts.png", "best_q.png", "allocation.png", "chains.png")


def _args(tmp_path: Path, *extra: str) -> list[str]:
    return [
        "--study",
        str(STUDY),
        "--samplers",
        "amed,tpe",
        "--seeds",
        "2",
        "--storage",
        f"sqlite:///{tmp_path / 'compare.db'}",
        "--out",
        str(tmp_path / "out"),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--no-progress",
        *extra,
    ]


def _studies(tmp_path: Path) -> dict[str, optuna.Study]:
    url = f"sqlite:///{tmp_path / 'compare.db'}"
    return {
        s.study_name: optuna.load_study(study_name=s.study_name, storage=url)
        for s in optuna.get_all_study_summaries(url)
    }


def test_comparison_writes_report_json_figures_and_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An interrupted comparison: one study already holds part of its budget.
    plan = plan_comparison(
        str(STUDY),
        samplers=(SamplerName.AMED, SamplerName.TPE),
        n_trials=3,
        seeds=2,
        storage=f"sqlite:///{tmp_path / 'compare.db'}",
        out=tmp_path / "out",
    )
    options = RunOptions(cache_dir=tmp_path / "cache", progress=False)
    run_study(plan.study_spec(SamplerName.TPE, 1), options)

    assert main(_args(tmp_path, "--n-trials", "6")) == 0
    studies = _studies(tmp_path)
    expected = {f"synthetic-r18-{s}-seed{k}" for s in ("amed", "tpe") for k in (0, 1)}
    assert set(studies) == expected | {"synthetic-r18-uniform"}
    for name in expected:
        trials = studies[name].get_trials()
        assert len(trials) == 6 and all(t.state.name == "COMPLETE" for t in trials)
        assert set(trials[0].params.values()) == {8}
    uniform = studies["synthetic-r18-uniform"].get_trials()
    assert sorted(set(t.params.values()) for t in uniform) == [{b} for b in range(2, 9)]

    out = tmp_path / "out"
    for name in FIGURES:
        assert (out / name).read_bytes().startswith(PNG_SIGNATURE), name
    report = (out / "report.md").read_text()
    document = json.loads((out / "comparison.json").read_text())
    assert "python -m amed_opt.compare --study" in report and "--n-trials 6" in report
    assert document["provenance"]["git_commit"] in report
    assert "CPUs" in report and "device `cpu`" in report
    assert document["hypervolume_reference"] == {"accuracy": 0.0, "latency": 1.0}
    assert any("highest best Q" in line for line in document["verdict"])
    assert "Report:" in capsys.readouterr().out
    # 28 trials: three studies of 6, the resumed one's last 3, and 7 uniform allocations; the
    # uniform 8-bit allocation is measured once (by the interrupted study) and recalled 4 times.
    assert document["provenance"]["trials_run"] == 28
    assert document["provenance"]["memo_hits"] >= 4

    # The JSON's hypervolume is the hypervolume of what the storage holds.
    analysis = document["analysis"]
    reference_ms = analysis["reference_latency_ms"]
    assert len(analysis["studies"]) == 4 and len(analysis["uniform"]) == 7
    for summary in analysis["studies"]:
        trials = studies[summary["study_name"]].get_trials()
        points = [(t.values[0], t.values[1] / reference_ms) for t in trials]
        assert summary["finished"] == 6
        assert summary["hv_history"][-1] == pytest.approx(hypervolume(points))
        assert summary["hv_history"] == sorted(summary["hv_history"])
        best_q = max(t.values[0] - t.values[1] / reference_ms for t in trials)
        assert summary["best_q_history"][-1] == pytest.approx(best_q)
    amed = [s for s in analysis["studies"] if s["sampler"] == "amed"]
    for summary in amed:
        trials = studies[summary["study_name"]].get_trials()
        accepted = sum(bool(t.user_attrs.get("mh_accepted")) for t in trials[1:])
        chains = summary["chains"]
        assert [c["latency_weight"] for c in chains] == [0.5, 2.0]
        assert sum(c["accepted"] for c in chains) == accepted
        assert sum(c["moves"] for c in chains) == 5  # 6 trials: one start, two chains

    # The same command with a larger budget tops every study up; the uniform allocations are not
    # measured again, and allocations seen before come from the memo.
    assert main(_args(tmp_path, "--n-trials", "9")) == 0
    studies = _studies(tmp_path)
    assert all(len(studies[name].get_trials()) == 9 for name in expected)
    assert len(studies["synthetic-r18-uniform"].get_trials()) == 7
    provenance = json.loads((out / "comparison.json").read_text())["provenance"]
    assert provenance["trials_run"] == 4 * 3

    # A finished comparison runs nothing; --report-only rebuilds the report.
    assert main(_args(tmp_path, "--n-trials", "9")) == 0
    assert json.loads((out / "comparison.json").read_text())["provenance"]["trials_run"] == 0
    (out / "report.md").unlink()
    assert main(_args(tmp_path, "--n-trials", "9", "--report-only")) == 0
    assert (out / "report.md").is_file()
    assert len(_studies(tmp_path)["synthetic-r18-amed-seed0"].get_trials()) == 9


def test_plan_labels_overrides_and_seeds(tmp_path: Path) -> None:
    plan = plan_comparison(
        str(STUDY),
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
    assert plan.seeds == (0, 1, 2)
    spec = plan.study_spec(SamplerName.NSGA2, 2)
    assert (spec.seed, spec.n_trials, spec.hardware.preset) == (2, 7, "eyeriss")
    assert spec.evaluator.mode is EvaluatorMode.SHARED
    # Baselines ignore AMED's settings: they keep the defaults, AMED keeps the study's.
    assert spec.sampler.latency_weights == (1.0,)
    assert plan.study_spec(SamplerName.AMED, 0).sampler.latency_weights == (0.5, 2.0)
    same = plan_comparison(str(STUDY), samplers=(SamplerName.AMED,), hardware="scale-sim")
    assert same.label == "synthetic-r18"


class _CountingEvaluator:
    """Wraps the synthetic evaluator and counts its calls."""

    def __init__(self, inner: SyntheticEvaluator) -> None:
        self.inner = inner
        self.calls = 0

    def evaluate(self, bits: BitConfig) -> SyntheticMetrics:
        self.calls += 1
        return self.inner.evaluate(bits)


def _fields(metrics: object) -> tuple[object, ...]:
    names = ("accuracy", "latency_ms", "latency_cycles", "size_bytes", "memory_bound_layers")
    return (*(getattr(metrics, n) for n in names), dict(metrics.cycles_by_layer))  # type: ignore[attr-defined]


def test_memo_measures_accuracy_once_and_prices_latency_on_its_hardware() -> None:
    layers = [
        LayerShape.conv2d("stem", in_channels=1, out_channels=64, input_hw=(28, 28), kernel=3),
        LayerShape.conv2d("body", in_channels=64, out_channels=256, input_hw=(14, 14), kernel=3),
        LayerShape.linear("fc", in_features=256, out_features=10),
    ]
    names = [layer.name for layer in layers]
    scale_sim = SystolicArray(load_preset("scale-sim"))
    eyeriss = SystolicArray(load_preset("eyeriss"))
    inner = _CountingEvaluator(SyntheticEvaluator(layers, scale_sim, seed=0))
    memo = MemoizedEvaluator(inner, scale_sim, layers)
    four = BitConfig.uniform(names, 4)
    first = memo.evaluate(four)
    assert _fields(memo.evaluate(four)) == _fields(first) == _fields(inner.inner.evaluate(four))
    memo.evaluate(BitConfig.uniform(names, 5))
    assert (inner.calls, memo.hits, memo.misses, len(memo)) == (2, 1, 2, 2)

    # Another preset recalls the accuracy and prices the latency on its own hardware.
    on_eyeriss = MemoizedEvaluator(_CountingEvaluator(inner.inner), eyeriss, layers)
    study = optuna.create_study(directions=["maximize", "minimize"])
    attrs = {"bits": four.compact()}
    study.add_trial(optuna.trial.create_trial(values=[first.accuracy, 1.0], user_attrs=attrs))
    study.add_trial(optuna.trial.create_trial(values=[0.5, 1.0], user_attrs={}))  # no record
    assert on_eyeriss.learn(study.get_trials()) == 1
    recalled = on_eyeriss.evaluate(four)
    expected = SyntheticEvaluator(layers, eyeriss, seed=0).evaluate(four)
    assert _fields(recalled) == _fields(expected) and on_eyeriss.misses == 0
    assert recalled.latency_ms != first.latency_ms


def _summary(
    name: str, hv: float, q: float, dominated: dict[int, int], mixed_q: float | None = None
) -> SamplerSummary:
    mixed = q if mixed_q is None else mixed_q
    return SamplerSummary(
        sampler=name,
        description=name,
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


def _analysis(*samplers: SamplerSummary) -> Analysis:
    return Analysis(
        label="x",
        n_trials=10,
        reference_latency_ms=1.0,
        latency_weight=1.0,
        weights=[1.0],
        q_threshold=None,
        q_slope=10.0,
        studies=[],
        samplers=list(samplers),
        uniform={},
        uniform_hv=0.5,
        layers=[],
    )


def test_verdict_rules_can_pass_and_fail() -> None:
    all_three = {b: 3 for b in range(2, 9)}
    winning = verdict(
        _analysis(_summary("amed", 0.60, 0.50, all_three), _summary("tpe", 0.60, 0.45, {}))
    )
    assert [line.startswith("**Met**") for line in winning[:3]] == [True, True, True]
    assert "AMED wins" in winning[3]
    # The fastest uniform allocation cannot be beaten on latency; it is not required.
    assert verdict(
        _analysis(_summary("amed", 0.6, 0.5, {**all_three, 2: 0}), _summary("tpe", 0.6, 0.4, {}))
    )[2].startswith("**Met**")
    losing = verdict(
        _analysis(
            _summary("amed", 0.55, 0.40, {**all_three, 3: 1}),
            _summary("tpe", 0.60, 0.45, {}),
            _summary("random", 0.58, 0.50, {}),
        )
    )
    assert [line.startswith("**Not met**") for line in losing[:3]] == [True, True, True]
    assert "Random" in losing[0] and "TPE" in losing[1] and "0 of 3" in losing[3]
    assert verdict(_analysis(_summary("tpe", 0.6, 0.4, {})))[0].startswith("AMED did not run")
    # A best Q that only a uniform start reached is reported beside the verdict.
    started = verdict(
        _analysis(
            _summary("amed", 0.6, 0.5, all_three, mixed_q=0.3), _summary("tpe", 0.6, 0.4, {})
        )
    )
    assert started[0].startswith("**Met**")
    assert "mixed allocations only" in started[4] and "behind" in started[4]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--samplers", "amed,cmaes"], "unknown sampler 'cmaes'"),
        (["--samplers", "amed,amed"], "twice"),
        (["--seeds", "0"], "--seeds"),
        (["--n-trials", "-3"], "--n-trials"),
        (["--hardware", "tpu-v9"], "tpu-v9"),
        (["--evaluator", "lazy"], "--evaluator"),
        (["--latency-weight", "-1"], "--latency-weight"),
        (["--report-only"], "run the comparison first"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_no_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    assert _exit_code(_args(tmp_path, *extra)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert not (tmp_path / "compare.db").exists()


def _exit_code(args: list[str]) -> int:
    # Argument-syntax errors exit through argparse (SystemExit), the rest return the code.
    try:
        return main(args)
    except SystemExit as exit:
        return int(exit.code or 0)


def test_unknown_study_and_missing_storage_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--study", "no-such-study", "--no-progress"]) == 2
    assert "unknown study 'no-such-study'" in capsys.readouterr().err
    missing = tmp_path / "nowhere" / "c.db"
    args = _args(tmp_path, "--n-trials", "2")
    args[args.index("--storage") + 1] = f"sqlite:///{missing}"
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and err.count("\n") == 1
    assert not missing.parent.exists()


def test_spec_errors_name_the_setting() -> None:
    with pytest.raises(SpecError, match="--seeds"):
        plan_comparison(str(STUDY), samplers=(SamplerName.AMED,), seeds=0)
    with pytest.raises(FileNotFoundError):
        plan_comparison(str(STUDY), samplers=(SamplerName.AMED,), hardware="nope")
