"""sqlite_wal_storage: every connection in WAL mode, bad URLs refused, several writers at once."""

from __future__ import annotations

import pickle
import sqlite3
import threading
from pathlib import Path

import optuna
import pytest

from amed_opt.study.storage import sqlite_wal_storage


optuna.logging.set_verbosity(optuna.logging.WARNING)


def _pragma(storage: optuna.storages.RDBStorage, name: str) -> object:
    with storage.engine.connect() as connection:
        return connection.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_file_and_connections_use_wal(tmp_path: Path) -> None:
    path = tmp_path / "study.db"
    storage = sqlite_wal_storage(f"sqlite:///{path}")
    assert _pragma(storage, "journal_mode") == "wal"
    assert _pragma(storage, "synchronous") == 1  # NORMAL
    study = optuna.create_study(storage=storage, study_name="s")
    study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=3)
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    reopened = optuna.load_study(study_name="s", storage=sqlite_wal_storage(f"sqlite:///{path}"))
    assert len(reopened.trials) == 3


def test_relative_paths_resolve_like_sqlalchemy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").mkdir()
    storage = sqlite_wal_storage("sqlite:///results/relative.db")
    optuna.create_study(storage=storage)
    assert (tmp_path / "results" / "relative.db").exists()
    assert _pragma(storage, "journal_mode") == "wal"


def test_options_reach_the_storage(tmp_path: Path) -> None:
    storage = sqlite_wal_storage(
        f"sqlite:///{tmp_path / 'h.db'}", timeout_s=5, heartbeat_interval=10, grace_period=30
    )
    assert storage.get_heartbeat_interval() == 10
    assert storage.grace_period == 30
    assert storage.engine_kwargs["connect_args"]["timeout"] == 5


def test_storage_pickles_and_keeps_wal(tmp_path: Path) -> None:
    storage = sqlite_wal_storage(f"sqlite:///{tmp_path / 'p.db'}")
    optuna.create_study(storage=storage, study_name="p")
    clone = pickle.loads(pickle.dumps(storage))
    assert _pragma(clone, "journal_mode") == "wal"
    assert optuna.load_study(study_name="p", storage=clone).study_name == "p"


@pytest.mark.parametrize(
    ("url", "timeout_s", "argument"),
    [
        ("postgresql://user@localhost/db", 30.0, "url"),
        ("sqlite://", 30.0, "url"),
        ("sqlite:///:memory:", 30.0, "url"),
        ("not a url", 30.0, "url"),
        ("sqlite:///x.db", 0.0, "timeout_s"),
    ],
)
def test_bad_arguments_are_named(url: str, timeout_s: float, argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        sqlite_wal_storage(url, timeout_s=timeout_s)


def test_several_writers_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'many.db'}"
    optuna.create_study(storage=sqlite_wal_storage(url), study_name="many")
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        try:
            study = optuna.load_study(
                study_name="many",
                storage=sqlite_wal_storage(url),
                sampler=optuna.samplers.RandomSampler(seed=seed),
            )
            study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=15)
        except BaseException as error:  # Re-raised below.
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    study = optuna.load_study(study_name="many", storage=sqlite_wal_storage(url))
    assert len(study.trials) == 45
    assert all(trial.state == optuna.trial.TrialState.COMPLETE for trial in study.trials)


def test_checking_a_database_keeps_the_locks_of_this_process_s_connections(
    tmp_path: Path,
) -> None:
    """Closing a descriptor of the file drops every POSIX lock the process holds on it: another
    process closing its connection then takes itself for the last one and folds away the WAL
    that this process's open connection still uses (how two comparisons on one database ended
    with "disk I/O error"). The check reads the file through SQLite only."""
    import subprocess
    import sys

    from amed_opt.study.storage import _check_optuna_file

    path = tmp_path / "live.db"
    url = f"sqlite:///{path}"
    sqlite_wal_storage(url).engine.dispose()  # Optuna's tables, in WAL mode
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA wal_autocheckpoint=0")
    connection.execute("CREATE TABLE side (x)")
    connection.executemany("INSERT INTO side VALUES (?)", [(i,) for i in range(50)])
    wal = path.with_name(path.name + "-wal")
    assert wal.stat().st_size > 0
    _check_optuna_file(path, url, required=True)
    other = (
        f"import sqlite3; c = sqlite3.connect({str(path)!r}); "
        "c.execute('SELECT count(*) FROM side').fetchall(); c.close()"
    )
    subprocess.run([sys.executable, "-c", other], check=True)
    assert wal.exists()  # the other process saw this one's connection
    assert connection.execute("SELECT count(*) FROM side").fetchone() == (50,)
    connection.close()
