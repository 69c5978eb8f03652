"""Pareto front extraction, table and files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import optuna
from optuna.trial import TrialState
from optuna.trial import create_trial

from amed_opt.study.front import format_front
from amed_opt.study.front import pareto_front
from amed_opt.study.front import write_front


def _trial(
    number: int, accuracy: float, latency: float, violation: float = 0.0
) -> optuna.trial.FrozenTrial:
    trial = create_trial(
        values=[accuracy, latency],
        user_attrs={
            "bits": f"8 {number} 8",
            "latency_cycles": int(latency * 1000),
            "size_bytes": 2048,
        },
        system_attrs={"constraints:size": violation},
    )
    trial.number = number
    return trial


def test_front_keeps_only_non_dominated_feasible_trials_sorted_by_latency() -> None:
    trials = [
        _trial(0, 0.90, 1.0),
        _trial(1, 0.85, 0.5),
        _trial(2, 0.80, 0.6),  # dominated by 1
        _trial(3, 0.95, 2.0),
        _trial(4, 0.99, 0.1, violation=3.0),  # infeasible
        _trial(5, 0.90, 1.0),  # same values as 0: kept
        _trial(6, 0.70, 0.2),
    ]
    failed = create_trial(state=TrialState.FAIL)
    front = pareto_front([*trials, failed])
    assert [p.trial_number for p in front] == [6, 1, 0, 5, 3]
    assert front[0].latency_cycles == 200 and front[0].bits == "8 6 8"


def test_table_and_files(tmp_path: Path) -> None:
    front = pareto_front([_trial(0, 0.9, 1.0), _trial(1, 0.8, 0.5)])
    table = format_front(front)
    assert "90.00%" in table and "0.5000" in table and "2.0" in table
    csv_path, json_path = write_front(front, tmp_path / "out", "r18")
    rows = list(csv.DictReader(csv_path.open()))
    assert [int(r["trial_number"]) for r in rows] == [1, 0]
    assert json.loads(json_path.read_text())[1]["accuracy"] == 0.9
    assert not list((tmp_path / "out").glob("*.tmp"))
