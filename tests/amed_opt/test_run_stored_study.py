"""A study stored by an older commit keeps resuming, and continues exactly as that commit would.

`tests/data/study_8eb6edf.sql` is the database commit 8eb6edf wrote for a 6-trial run of the
synthetic test study; `continued_by_8eb6edf.json` holds the trials the same commit added when
topping it up to 10 (see tests/data/README.md).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import optuna

from amed_opt.run import main


DATA = Path(__file__).resolve().parents[1] / "data"
STUDY = DATA / "synthetic_study.toml"


def test_a_study_stored_by_an_older_commit_resumes_the_same_chain(tmp_path: Path) -> None:
    database = tmp_path / "synthetic-r18.db"
    with sqlite3.connect(database) as connection:
        connection.executescript((DATA / "study_8eb6edf.sql").read_text())
    expected = json.loads((DATA / "continued_by_8eb6edf.json").read_text())

    code = main(
        [
            "--study",
            str(STUDY),
            "--n-trials",
            "10",
            "--results-dir",
            str(tmp_path),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--no-progress",
        ]
    )

    assert code == 0
    study = optuna.load_study(
        study_name="synthetic-r18-amed-seed0", storage=f"sqlite:///{database}"
    )
    added = [trial for trial in study.trials if trial.number >= 6]
    assert [trial.number for trial in added] == [row["number"] for row in expected]
    for trial, row in zip(added, expected, strict=True):
        assert trial.params == row["params"]
        assert trial.values == row["values"]
        attrs = {key: trial.user_attrs.get(key) for key in row["user_attrs"]}
        assert attrs == row["user_attrs"]
