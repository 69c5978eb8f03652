"""The command line: a run writes the report, JSON and figures; `--report-only` rebuilds them
from the storage; bad input is one line on stderr, exit code 2, and no database."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest

from amed_opt.compare.__main__ import main
from amed_opt.study.hypervolume import hypervolume


def _args(study_path: Path, tmp_path: Path, *extra: str) -> list[str]:
    return [
        "--study",
        str(study_path),
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


def test_a_run_writes_the_outputs_and_report_only_rebuilds_them(
    study_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Without the warm start, so that 5 trials leave AMED's chains some moves to draw.
    extra = ("--n-trials", "5", "--latency-weight", "0.5", "--warm-start", "none")
    assert main(_args(study_path, tmp_path, *extra)) == 0
    out = tmp_path / "out"
    report = (out / "report.md").read_text()
    assert "Warm start: `none`" in report and "seeds 0, 1 are tuning seeds" in report
    document = json.loads((out / "comparison.json").read_text())
    printed = capsys.readouterr().out
    assert printed.startswith(f"Report: {out / 'report.md'}\n")
    assert all(f"  {line}" in printed for line in document["verdict"])
    assert "python -m amed_opt.compare --study" in report and "--n-trials 5" in report
    assert document["provenance"]["git_commit"] in report
    assert "CPUs" in report and "device `cpu`" in report
    assert document["provenance"]["trials_run"] == 4 * 5 + 7
    assert document["plan"]["latency_weight"] == 0.5
    assert set(document["figures"]) == {"hypervolume", "fronts", "best_q", "allocation", "chains"}

    # The JSON's hypervolume is the hypervolume of what the storage holds.
    url = f"sqlite:///{tmp_path / 'compare.db'}"
    analysis = document["analysis"]
    reference_ms = analysis["reference_latency_ms"]
    assert len(analysis["studies"]) == 4 and len(analysis["uniform"]) == 7
    for summary in analysis["studies"]:
        trials = optuna.load_study(study_name=summary["study_name"], storage=url).get_trials()
        points = [(t.values[0], t.values[1] / reference_ms) for t in trials]
        assert summary["finished"] == 5
        assert summary["hv_history"][-1] == pytest.approx(hypervolume(points))
        best_q = max(t.values[0] - 0.5 * t.values[1] / reference_ms for t in trials)
        assert summary["best_q_history"][-1] == pytest.approx(best_q)

    (out / "report.md").unlink()
    extra = ("--n-trials", "5", "--report-only", "--warm-start", "none")
    assert main(_args(study_path, tmp_path, *extra)) == 0
    rebuilt = json.loads((out / "comparison.json").read_text())
    assert (out / "report.md").is_file() and rebuilt["provenance"]["trials_run"] == 0
    assert rebuilt["provenance"]["memo_hits"] == rebuilt["provenance"]["memo_misses"] == 0
    assert rebuilt["analysis"]["studies"][0]["hv_history"] == analysis["studies"][0]["hv_history"]


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
        (["--latency-weight", "inf"], "--latency-weight"),
        (["--report-only"], "run the comparison first"),
        (["--warm-start", "some"], "--warm-start"),
        (["--first-seed", "-1"], "--first-seed"),
        (["--workers", "0"], "--workers"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_no_database(
    study_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    assert _exit_code(_args(study_path, tmp_path, *extra)) == 2
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
    study_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--study", "no-such-study", "--no-progress"]) == 2
    assert "unknown study 'no-such-study'" in capsys.readouterr().err
    missing = tmp_path / "nowhere" / "c.db"
    args = _args(study_path, tmp_path, "--n-trials", "2")
    args[args.index("--storage") + 1] = f"sqlite:///{missing}"
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and err.count("\n") == 1
    assert not missing.parent.exists()


def test_energy_makes_a_three_objective_comparison_that_reuses_the_accuracies(
    study_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_args(study_path, tmp_path, "--n-trials", "4")) == 0
    energy = ["--n-trials", "4", "--objectives", "accuracy,latency_ms,energy_uj"]
    assert main(_args(study_path, tmp_path, *energy)) == 0

    document = json.loads((tmp_path / "out" / "comparison.json").read_text())
    analysis = document["analysis"]
    assert analysis["label"].endswith("-energy")
    reference_ms, reference_uj = analysis["reference_latency_ms"], analysis["reference_energy_uj"]
    assert reference_uj > 0
    assert document["provenance"]["memo_misses"] == 0  # every allocation measured before
    url = f"sqlite:///{tmp_path / 'compare.db'}"
    for summary in analysis["studies"]:
        study = optuna.load_study(study_name=summary["study_name"], storage=url)
        assert study.metric_names == ["accuracy", "latency_ms", "energy_uj"]
        points = [
            (t.values[0], t.values[1] / reference_ms, t.values[2] / reference_uj)
            for t in study.get_trials()
        ]
        assert summary["hv_history"][-1] == pytest.approx(hypervolume(points))
