"""`python -m amed_opt.export` and `finetune --export`: the two files, and bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import optuna
import pytest
from torch import nn

from amed_opt.export import main as export_main
from amed_opt.finetune import main as finetune_main
from amed_opt.run import main as run_main


STUDY = Path(__file__).resolve().parents[1] / "data" / "synthetic_study.toml"
NAME = "synthetic-r18-amed-seed0"
KEYS = {
    "allocation",
    "accuracy_torch",
    "accuracy_onnxruntime",
    "agreement",
    "images",
    "onnx_bytes",
    "float_onnx_bytes",
    "opset",
    "ir_version",
}


@pytest.fixture
def finished_study(tmp_path: Path) -> Path:
    """A synthetic study (no baseline training) with three finished trials."""
    path = tmp_path / "quick.toml"
    path.write_text(
        STUDY.read_text().replace("[evaluator]", "[baseline]\nepochs = 0\n\n[evaluator]")
    )
    code = run_main(["--study", str(path), "--n-trials", "3", "--no-progress", *_common(tmp_path)])
    assert code == 0
    return path


def _common(tmp_path: Path) -> list[str]:
    return ["--results-dir", str(tmp_path / "results"), "--cache-dir", str(tmp_path / "cache")]


def _stored_study(tmp_path: Path) -> optuna.Study:
    url = f"sqlite:///{tmp_path / 'results' / 'synthetic-r18.db'}"
    return optuna.load_study(study_name=NAME, storage=url)


def _check_export(out: Path, trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
    assert sorted(p.name for p in out.iterdir()) == [
        "export.json",
        f"{NAME}-trial{trial.number}.onnx",
    ]
    document = json.loads((out / "export.json").read_text())
    assert KEYS <= set(document)
    compact = " ".join(
        str(e["w_bits"]) if e["w_bits"] == e["a_bits"] else f"{e['w_bits']}/{e['a_bits']}"
        for e in document["allocation"]
    )
    assert compact == trial.user_attrs["bits"]
    assert document["images"] == 64  # the synthetic study's validation split
    for key in ("accuracy_torch", "accuracy_onnxruntime", "agreement"):
        assert 0 <= document[key] <= 1
    assert document["agreement"] >= 0.9
    assert document["onnx_bytes"] == (out / f"{NAME}-trial{trial.number}.onnx").stat().st_size
    assert 0 < document["onnx_bytes"] < document["float_onnx_bytes"]
    assert (document["opset"], document["ir_version"]) == (25, 13)
    return document


def test_export_writes_the_model_and_export_json(
    tmp_path: Path, finished_study: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    out = tmp_path / "export"
    database = tmp_path / "results" / "synthetic-r18.db"
    stored = database.read_bytes()
    code = export_main(
        ["--study", str(finished_study), "--trial", "2", "--out", str(out), *_common(tmp_path)]
    )
    assert code == 0, capsys.readouterr().err
    assert "onnxruntime" in capsys.readouterr().out
    assert database.read_bytes() == stored  # reading the study does not write to it
    document = _check_export(out, _stored_study(tmp_path).trials[2])
    assert document["study"] == NAME and document["finetune_epochs"] == 0


def test_finetune_chains_into_the_export(
    tmp_path: Path, finished_study: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "export"
    code = finetune_main(
        [
            "--study",
            str(finished_study),
            "--trial",
            "1",
            "--epochs",
            "0",
            "--out",
            str(tmp_path / "finetuned"),
            "--export",
            str(out),
            *_common(tmp_path),
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert "exported" in capsys.readouterr().out
    _check_export(out, _stored_study(tmp_path).trials[1])
    assert (tmp_path / "finetuned" / "allocation.json").is_file()


def _fails(argv: list[str], capsys: pytest.CaptureFixture[str], expected: str) -> None:
    capsys.readouterr()
    assert export_main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("amed-opt export: error:"), err
    assert expected in err


def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    tmp_path: Path,
    finished_study: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "export"
    argv = ["--study", str(finished_study), "--out", str(out), *_common(tmp_path)]
    _fails([*argv, "--trial", "9"], capsys, "has no trial 9")
    study = _stored_study(tmp_path)
    running = study.ask()  # left RUNNING
    _fails([*argv, "--trial", str(running.number)], capsys, "is RUNNING, not COMPLETE")
    study.tell(running, state=optuna.trial.TrialState.FAIL)
    _fails([*argv, "--trial", str(running.number)], capsys, "is FAIL, not COMPLETE")

    import amed_opt.evaluation.baseline as baseline

    prepare = baseline.prepare_study

    def with_gelu(*args: Any, **kwargs: Any) -> baseline.PreparedStudy:
        prepared = prepare(*args, **kwargs)
        prepared.baseline.model.relu = nn.GELU()  # torchvision's ResNet calls self.relu
        return prepared

    monkeypatch.setattr(baseline, "prepare_study", with_gelu)
    _fails([*argv, "--trial", "0"], capsys, "GELU")
    assert not out.exists()
