"""Tuning and reporting seeds: the settings sweep refuses to tune on reporting seeds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest


def test_the_settings_sweep_refuses_reporting_seeds(
    study_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    load_benchmark: Callable[[str], ModuleType],
) -> None:
    args = ["--study", str(study_path), "--seeds", "2", "--n-trials", "3"]
    args += ["--storage", f"sqlite:///{tmp_path / 'sweep.db'}", "--cache-dir", str(tmp_path)]
    sweep = load_benchmark("amed_settings")
    assert sweep.main([*args, "--first-seed", "99"]) == 2  # seeds 99 and 100
    assert "100 are reporting seeds" in capsys.readouterr().err
    assert not (tmp_path / "sweep.db").exists()  # refused before anything ran
