"""Tuning and reporting seeds: the settings sweep refuses to tune on reporting seeds."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest


SWEEP = Path(__file__).resolve().parents[3] / "benchmarks" / "amed_settings.py"


def _sweep() -> ModuleType:
    spec = importlib.util.spec_from_file_location("amed_settings", SWEEP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_settings_sweep_refuses_reporting_seeds(
    study_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--study", str(study_path), "--seeds", "2", "--n-trials", "3"]
    args += ["--storage", f"sqlite:///{tmp_path / 'sweep.db'}", "--cache-dir", str(tmp_path)]
    assert _sweep().main([*args, "--first-seed", "99"]) == 2  # seeds 99 and 100
    assert "100 are reporting seeds" in capsys.readouterr().err
    assert not (tmp_path / "sweep.db").exists()  # refused before anything ran
