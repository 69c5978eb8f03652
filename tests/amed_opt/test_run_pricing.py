"""The deployed network's pricing from the command line: energy as a third objective, and the
input the latency and energy refer to (`[hardware] input_resolution`)."""

from __future__ import annotations

import csv
from pathlib import Path

import optuna
import pytest

from amed_opt.run import main


STUDY = Path(__file__).resolve().parents[1] / "data" / "synthetic_study.toml"


def _args(tmp_path: Path, *extra: str) -> list[str]:
    return [
        "--study",
        str(STUDY),
        "--results-dir",
        str(tmp_path / "results"),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--no-progress",
        *extra,
    ]


def _study(tmp_path: Path) -> optuna.Study:
    url = f"sqlite:///{tmp_path / 'results' / 'synthetic-r18.db'}"
    return optuna.load_study(study_name="synthetic-r18-amed-seed0", storage=url)


def test_energy_is_a_third_objective_stored_reported_and_exported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    objectives = "accuracy,latency_ms,energy_uj"
    assert main(_args(tmp_path, "--n-trials", "5", "--objectives", objectives)) == 0

    study = _study(tmp_path)
    assert study.metric_names == ["accuracy", "latency_ms", "energy_uj"]
    assert [d.name for d in study.directions] == ["MAXIMIZE", "MINIMIZE", "MINIMIZE"]
    first = study.trials[0]
    assert first.values[2] == first.user_attrs["energy_uj"] > 0
    assert first.values[2] == pytest.approx(study.user_attrs["reference_energy_uj"])
    with (tmp_path / "results" / "synthetic-r18-amed-seed0_pareto.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert rows and all(float(row["energy_uj"]) > 0 for row in rows)
    out = capsys.readouterr().out
    assert "energy µJ" in out and "µJ per inference" in out


def test_a_study_with_other_objectives_is_refused_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_args(tmp_path, "--n-trials", "2")) == 0
    capsys.readouterr()
    code = main(
        _args(tmp_path, "--n-trials", "3", "--objectives", "accuracy,latency_ms,energy_uj")
    )
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "objectives accuracy, latency_ms, not accuracy, latency_ms, energy_uj" in err[0]
    assert len(_study(tmp_path).trials) == 2


@pytest.mark.parametrize(
    "objectives", ["latency_ms,accuracy", "accuracy", "accuracy,latency_ms,size", "accuracy,,x"]
)
def test_bad_objectives_are_refused_before_anything_is_written(
    tmp_path: Path, objectives: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = main(_args(tmp_path, "--objectives", objectives))
    except SystemExit as exit_info:  # argparse refuses what is not a list of names
        code = int(exit_info.code or 0)
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "objectives" in err[0]
    assert not (tmp_path / "results").exists()


def test_pricing_the_deployed_input_changes_latency_not_accuracy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study_file = tmp_path / "study.toml"
    text = STUDY.read_text().replace(
        "[evaluator]", "[hardware]\ninput_resolution = 64\n\n[evaluator]"
    )
    study_file.write_text(text)
    small, large = tmp_path / "small", tmp_path / "large"
    for folder, study in ((small, STUDY), (large, study_file)):
        args = ["--study", str(study), "--results-dir", str(folder), "--no-progress"]
        assert main([*args, "--cache-dir", str(tmp_path / "cache"), "--n-trials", "3"]) == 0
    out = capsys.readouterr().out
    assert "accuracy measured on 3x28x28 inputs; latency and energy priced for 3x28x28" in out
    assert "latency and energy priced for 3x64x64 inputs" in out

    def trials(folder: Path) -> list[optuna.trial.FrozenTrial]:
        url = f"sqlite:///{folder / 'synthetic-r18.db'}"
        return optuna.load_study(study_name="synthetic-r18-amed-seed0", storage=url).trials

    for at_28, at_64 in zip(trials(small), trials(large), strict=True):
        assert at_28.params == at_64.params  # same chain: the same accuracy drives it
        assert at_28.values[0] == at_64.values[0]
        assert at_64.values[1] > at_28.values[1]  # a larger input costs more time
