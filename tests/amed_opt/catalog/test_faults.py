"""Faults during a run: a failing evaluator, a NaN metric, a diverging baseline, a folder that
stops being writable. The run goes on past single failures, stops with exit code 1 after three
in a row or when the disk fails, keeps its database, and the same command resumes."""

from __future__ import annotations

import dataclasses
import errno
import logging
import math
from collections.abc import Callable
from pathlib import Path

import optuna
import pytest

from amed_opt.evaluation.synthetic import SyntheticEvaluator
from amed_opt.run import main
from amed_opt.study.bits import BitConfig
from amed_opt.study.metrics import TrialMetrics
from amed_opt.study.objective import FAIL_REASON_ATTR


STUDY = Path(__file__).resolve().parents[2] / "data" / "synthetic_study.toml"


def _argv(tmp_path: Path, *extra: str, study: Path = STUDY) -> list[str]:
    return [
        "--study",
        str(study),
        "--results-dir",
        str(tmp_path / "results"),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--no-progress",
        *extra,
    ]


def _trials(tmp_path: Path, name: str) -> list[optuna.trial.FrozenTrial]:
    url = f"sqlite:///{tmp_path / 'results' / 'synthetic-r18.db'}"
    return optuna.load_study(study_name=name, storage=url).get_trials()


def _patch_evaluate(
    monkeypatch: pytest.MonkeyPatch, fault: Callable[[int, TrialMetrics], TrialMetrics]
) -> None:
    original = SyntheticEvaluator.evaluate
    calls = {"n": 0}

    def evaluate(self: SyntheticEvaluator, bits: BitConfig) -> TrialMetrics:
        calls["n"] += 1
        return fault(calls["n"], original(self, bits))

    monkeypatch.setattr(SyntheticEvaluator, "evaluate", evaluate)


def _every_third_raises(call: int, metrics: TrialMetrics) -> TrialMetrics:
    if call % 3 == 2:
        raise ValueError("evaluator exploded")
    return metrics


def test_an_evaluator_exception_fails_that_trial_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _patch_evaluate(monkeypatch, _every_third_raises)
    assert main(_argv(tmp_path, "--n-trials", "6", "--sampler", "random")) == 0
    trials = _trials(tmp_path, "synthetic-r18-random-seed0")
    failed = [t for t in trials if t.state.name == "FAIL"]
    assert sum(t.state.name == "COMPLETE" for t in trials) == 6
    assert failed and all(
        t.user_attrs[FAIL_REASON_ATTR] == "ValueError: evaluator exploded" for t in failed
    )
    assert "Traceback" not in capsys.readouterr().err


def test_the_amed_chain_goes_on_past_a_failed_trial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The MH sampler takes a FAIL trial with a fail_reason as a rejected proposal: the chain
    # consumes the step and draws a new proposal rather than repeating the failing one.
    _patch_evaluate(monkeypatch, _every_third_raises)
    assert main(_argv(tmp_path, "--n-trials", "6")) == 0
    trials = _trials(tmp_path, "synthetic-r18-amed-seed0")
    assert sum(t.state.name == "COMPLETE" for t in trials) == 6
    failed = [t for t in trials if t.state.name == "FAIL"]
    assert failed and all(FAIL_REASON_ATTR in t.user_attrs for t in failed)
    assert all(t.user_attrs.get("mh_accepted") is False for t in failed)


def test_nan_metrics_fail_the_trial_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def nan_on_second(call: int, metrics: TrialMetrics) -> TrialMetrics:
        return dataclasses.replace(metrics, accuracy=math.nan) if call == 2 else metrics

    _patch_evaluate(monkeypatch, nan_on_second)
    assert main(_argv(tmp_path, "--n-trials", "4", "--sampler", "tpe")) == 0
    failed = [t for t in _trials(tmp_path, "synthetic-r18-tpe-seed0") if t.state.name == "FAIL"]
    assert [t.user_attrs[FAIL_REASON_ATTR] for t in failed] == [
        "the evaluator returned accuracy is nan"
    ]


def test_three_failures_in_a_row_stop_the_run_with_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def always(call: int, metrics: TrialMetrics) -> TrialMetrics:
        raise RuntimeError("CUDA error: device-side assert")

    _patch_evaluate(monkeypatch, always)
    capsys.readouterr()
    assert main(_argv(tmp_path, "--n-trials", "10", "--sampler", "random")) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "3 trials failed in a row" in err[0] and "CUDA error" in err[0]
    trials = _trials(tmp_path, "synthetic-r18-random-seed0")
    assert [t.state.name for t in trials] == ["FAIL"] * 3


def test_a_diverging_baseline_is_not_cached_and_exits_1(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    study_with: Callable[..., Path],
) -> None:
    import amed_opt.evaluation.training as training

    monkeypatch.setattr(training, "train_step", lambda *args, **kwargs: math.nan)
    study = study_with(
        {
            "evaluator": 'accuracy_model = "measured"',
            "baseline": "epochs = 1",
            "data": "resolution = 8",
        }
    )
    capsys.readouterr()
    assert main(_argv(tmp_path, "--n-trials", "2", study=study)) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "loss became nan" in err[0]
    assert not list((tmp_path / "cache").rglob("*.pt")), "a diverged baseline was cached"
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    "error",
    [OSError(errno.ENOSPC, "No space left on device"), PermissionError(errno.EROFS, "Read-only")],
    ids=["disk-full", "read-only-folder"],
)
def test_a_failing_results_folder_keeps_the_database_and_the_same_command_resumes(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    error: OSError,
) -> None:
    import amed_opt.app.study_run as study_run

    original = study_run.write_front

    def failing(*args: object, **kwargs: object) -> object:
        raise error

    monkeypatch.setattr(study_run, "write_front", failing)
    capsys.readouterr()
    assert main(_argv(tmp_path, "--n-trials", "4")) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "run the same command to resume" in err[0]
    assert len(_trials(tmp_path, "synthetic-r18-amed-seed0")) == 4
    monkeypatch.setattr(study_run, "write_front", original)
    assert main(_argv(tmp_path, "--n-trials", "4")) == 0
    assert len(_trials(tmp_path, "synthetic-r18-amed-seed0")) == 4
    assert (tmp_path / "results" / "synthetic-r18-amed-seed0_pareto.csv").is_file()


def test_two_spellings_of_one_file_resume_one_study(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    first = f"sqlite:///{tmp_path / 'db' / 'x.db'}"
    other = f"sqlite:///{tmp_path / 'db' / '.' / 'x.db'}"
    assert main(_argv(tmp_path, "--n-trials", "3", "--storage", first)) == 0
    assert main(_argv(tmp_path, "--n-trials", "5", "--storage", other)) == 0
    study = optuna.load_study(study_name="synthetic-r18-amed-seed0", storage=first)
    assert len(study.get_trials()) == 5


def test_the_storage_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.setenv("AMED_OPT_STORAGE", url)
    assert main(_argv(tmp_path, "--n-trials", "2")) == 0
    assert len(optuna.load_study(study_name="synthetic-r18-amed-seed0", storage=url).trials) == 2


def test_passwords_are_redacted_where_urls_are_printed_or_stored() -> None:
    from amed_opt.app.study_run import stored_spec
    from amed_opt.study.dashboard import dashboard_command
    from amed_opt.study.spec import load_spec
    from amed_opt.study.spec import with_overrides

    url = "postgresql://bob:pw123@db.example/amed"
    spec = with_overrides(load_spec(str(STUDY)), storage=url)
    assert stored_spec(spec)["storage"]["url"] == "postgresql://bob:***@db.example/amed"
    command = dashboard_command(url, Path("results/x_artifacts"))
    assert "pw123" not in command and '"$AMED_OPT_STORAGE"' in command
    assert logging.getLogger().level is not None  # logging untouched by the helpers
