"""`python -m amed_opt.finetune`: reads a trial of a finished study, exports its allocation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from amed_opt.finetune import main as finetune_main
from amed_opt.run import main as run_main


STUDY = Path(__file__).resolve().parents[1] / "data" / "synthetic_study.toml"


@pytest.fixture
def quick_study(tmp_path: Path) -> Path:
    # No baseline training (epochs = 0): this test is about the plumbing, not the accuracy.
    path = tmp_path / "quick.toml"
    path.write_text(
        STUDY.read_text().replace("[evaluator]", "[baseline]\nepochs = 0\n\n[evaluator]")
    )
    return path


def _common(tmp_path: Path) -> list[str]:
    return ["--results-dir", str(tmp_path / "results"), "--cache-dir", str(tmp_path / "cache")]


def test_finetune_exports_the_trials_allocation(
    tmp_path: Path, quick_study: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        run_main(
            ["--study", str(quick_study), "--n-trials", "3", "--no-progress", *_common(tmp_path)]
        )
        == 0
    )
    capsys.readouterr()
    out_dir = tmp_path / "export"
    code = finetune_main(
        [
            "--study",
            str(quick_study),
            "--trial",
            "2",
            "--epochs",
            "0",
            "--out",
            str(out_dir),
            *_common(tmp_path),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "trial 2 of synthetic-r18-amed-seed0" in printed and "test accuracy" in printed
    allocation = json.loads((out_dir / "allocation.json").read_text())
    import optuna

    study = optuna.load_study(
        study_name="synthetic-r18-amed-seed0",
        storage=f"sqlite:///{tmp_path / 'results' / 'synthetic-r18.db'}",
    )
    assert allocation["compact"] == study.trials[2].user_attrs["bits"]
    assert (out_dir / "quantized_state_dict.pt").is_file()
    assert (out_dir / "integer_weights.pt").is_file()


def test_finetune_errors_are_one_line(
    tmp_path: Path, quick_study: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert finetune_main(["--study", str(quick_study), "--trial", "0", *_common(tmp_path)]) == 2
    assert "no study database" in capsys.readouterr().err
    assert not list(tmp_path.rglob("*.db"))
    assert (
        run_main(
            ["--study", str(quick_study), "--n-trials", "2", "--no-progress", *_common(tmp_path)]
        )
        == 0
    )
    capsys.readouterr()
    assert finetune_main(["--study", str(quick_study), "--trial", "7", *_common(tmp_path)]) == 2
    assert "has no trial 7" in capsys.readouterr().err
    assert (
        finetune_main(
            ["--study", str(quick_study), "--trial", "0", "--sampler", "tpe", *_common(tmp_path)]
        )
        == 2
    )
    assert "no study 'synthetic-r18-tpe-seed0'" in capsys.readouterr().err
