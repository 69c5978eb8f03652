"""Optuna storages as amed-opt opens them: every URL check, every opening, every read of a trial.

SQLite is the default storage. In its default rollback-journal mode, writers block readers and
several workers lose commits (see `OPTUNA_NOTES.md` §6); in WAL mode readers never block and one
writer at a time appends, which fixed that and made writes 2–3× faster. `sqlite_wal_storage`
opens an `RDBStorage` whose every connection uses WAL (with `synchronous=NORMAL`, safe in WAL
mode: a power loss can drop the last commits but never corrupts the file) and waits for locks
instead of failing at once.

Nothing here creates a file before the URL has been checked, so bad input never leaves a
database behind (`check_storage_url`, `require_existing`).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import optuna
import sqlalchemy
from optuna.trial import TrialState
from sqlalchemy import event

from amed_opt.study.storage_timings import DEFAULT_TIMINGS
from amed_opt.study.storage_timings import GRACE_PERIOD_S
from amed_opt.study.storage_timings import HEARTBEAT_INTERVAL_S
from amed_opt.study.storage_timings import StorageTimings
from amed_opt.study.urls import STORAGE_ENV
from amed_opt.study.urls import error_reason as _reason
from amed_opt.study.urls import has_password
from amed_opt.study.urls import redact_url
from amed_opt.study.urls import shell_storage


__all__ = [
    "DEFAULT_TIMINGS",
    "GRACE_PERIOD_S",
    "HEARTBEAT_INTERVAL_S",
    "STORAGE_ENV",
    "StorageError",
    "StorageTimings",
    "check_sqlite_folder",
    "check_storage",
    "check_storage_url",
    "close_storage",
    "default_storage_url",
    "has_password",
    "load_finished_trial",
    "open_existing_storage",
    "open_storage",
    "read_study_attr",
    "redact_url",
    "shell_storage",
    "sqlite_wal_storage",
]

CONNECT_TIMEOUT_S = 10
"""Seconds a database server has to accept a connection before the storage is refused."""
_OPTUNA_TABLES = frozenset({"studies", "trials", "version_info"})

# Workers that open an empty database at the same instant race to create Optuna's tables
# ("table already exists", a duplicate key in PostgreSQL's catalog): the loser tries again.
_CREATE_ATTEMPTS = 5


class StorageError(RuntimeError):
    """The storage URL cannot be opened."""


def default_storage_url(results_dir: Path, study: str) -> str:
    """The default storage of a study: `sqlite:///<results_dir>/<study>.db`."""
    return f"sqlite:///{results_dir / (study + '.db')}"


def _use_wal(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def sqlite_wal_storage(
    url: str,
    *,
    timeout_s: float = 30.0,
    heartbeat_interval: int | None = None,
    grace_period: int | None = None,
) -> optuna.storages.RDBStorage:
    """An Optuna RDB storage on an SQLite file in WAL mode.

    Args:
        url: SQLAlchemy URL of an SQLite file, e.g. `"sqlite:///results/r18.db"`. The file is
            created if missing; its folder must exist.
        timeout_s: Seconds a connection waits for a lock before failing.
        heartbeat_interval: Seconds between trial heartbeats (`None`: no heartbeat). With it,
            trials of a killed process are marked FAIL after `grace_period`.
        grace_period: Seconds without heartbeat after which a running trial is stale
            (`None`: Optuna's default, twice the interval).

    Returns:
        The storage; pass it to `optuna.create_study(storage=...)`.

    Raises:
        ValueError: If `url` is not a file-backed SQLite URL or `timeout_s` is not positive.
    """
    try:
        parsed = sqlalchemy.engine.make_url(url)
    except sqlalchemy.exc.ArgumentError as error:
        raise ValueError(f"url must be an SQLite URL, got {url!r}: {error}") from None
    if parsed.get_backend_name() != "sqlite":
        raise ValueError(f"url must be an SQLite URL (sqlite:///path.db), got {url!r}")
    if parsed.database in (None, "", ":memory:"):
        raise ValueError(f"url must name an SQLite file (WAL needs one), got {url!r}")
    if not timeout_s > 0:
        raise ValueError(f"timeout_s must be > 0, got {timeout_s!r}")

    # journal_mode=WAL is stored in the file, so set it before RDBStorage first connects (it
    # creates its tables inside the constructor); the listener then sets the per-connection
    # pragma on every later connection and keeps WAL if the file is replaced.
    with contextlib.closing(sqlite3.connect(parsed.database, timeout=timeout_s)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
    storage = optuna.storages.RDBStorage(
        url,
        engine_kwargs={"connect_args": {"timeout": timeout_s}},
        heartbeat_interval=heartbeat_interval,
        grace_period=grace_period,
    )
    event.listen(storage.engine, "connect", _use_wal)
    # Connections pooled while the storage was created did not run the listener; drop them.
    storage.engine.dispose()
    return storage


def _sqlite_file(url: str) -> Path | None:
    """The file of an SQLite URL, or None for other databases (the URL must parse)."""
    parsed = sqlalchemy.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    return Path(parsed.database or "")


def check_storage_url(url: str) -> None:
    """Check that `url` can be opened, without creating any file.

    SQLite: the URL parses and names a file (its folder is checked by `check_sqlite_folder` or
    created by `open_storage`). Other databases: a connection succeeds.

    Raises:
        StorageError: With the reason and what to do.
    """
    try:
        parsed = sqlalchemy.engine.make_url(url)
    except sqlalchemy.exc.ArgumentError:
        raise StorageError(
            f"storage URL {redact_url(url)!r} is not a database URL; use e.g. "
            "sqlite:///results/r18.db or postgresql://user@host/db"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise StorageError(
                f"storage URL {redact_url(url)!r} names no file; an in-memory SQLite study "
                "cannot be resumed"
            )
        return
    with _server_engine(url) as engine, engine.connect():
        pass


@contextlib.contextmanager
def _server_engine(url: str) -> Any:
    """An engine on a database server that connects within `CONNECT_TIMEOUT_S`; every error
    (driver missing, host unreachable, authentication) becomes one redacted `StorageError`."""
    engine = None
    try:
        engine = sqlalchemy.create_engine(url, connect_args=_connect_args(url))
        yield engine
    except StorageError:
        raise
    except ImportError as error:
        raise StorageError(
            f"cannot open storage {redact_url(url)!r}: its database driver is not installed "
            f"({error}); install it into the virtualenv, e.g. pip install {error.name or 'it'}"
        ) from None
    except Exception as error:  # host unreachable, authentication, unknown dialect, ...
        raise StorageError(
            f"cannot open storage {redact_url(url)!r}: {_reason(error, url)}"
        ) from None
    finally:
        if engine is not None:
            engine.dispose()


def _connect_args(url: str) -> dict[str, Any]:
    """Driver arguments that bound the wait for an unreachable server (PostgreSQL, MySQL)."""
    backend = sqlalchemy.engine.make_url(url).get_backend_name()
    if backend in ("postgresql", "mysql", "mariadb"):
        return {"connect_timeout": CONNECT_TIMEOUT_S}
    return {}


def _retry_creation(open_once: Any) -> Any:
    """`open_once()`, again after a short pause if another worker was creating the tables."""
    for attempt in range(_CREATE_ATTEMPTS):
        try:
            return open_once()
        except Exception:
            if attempt == _CREATE_ATTEMPTS - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


def check_sqlite_folder(url: str) -> None:
    """For an SQLite URL, check that the file's folder exists (creates nothing).

    Raises:
        StorageError: If the folder does not exist.
    """
    path = _sqlite_file(url)
    if path is not None and not path.parent.is_dir():
        raise StorageError(
            f"cannot open storage {redact_url(url)!r}: folder {str(path.parent)!r} does not "
            "exist; create it or pass another --storage"
        )


def open_storage(
    url: str, *, create_dirs_under: Path | None = None, timings: StorageTimings = DEFAULT_TIMINGS
) -> optuna.storages.BaseStorage:
    """An Optuna storage for `url` with heartbeats; SQLite files get WAL mode.

    Args:
        url: Storage URL.
        create_dirs_under: If the SQLite file's folder is inside this folder, create it.
        timings: Heartbeat interval, grace period and SQLite lock timeout.

    Raises:
        StorageError: If the storage cannot be opened.
    """
    check_storage_url(url)
    path = _sqlite_file(url)
    try:
        if path is not None:
            if create_dirs_under is not None and _is_within(path.parent, create_dirs_under):
                path.parent.mkdir(parents=True, exist_ok=True)
            check_sqlite_folder(url)
            return _retry_creation(
                lambda: sqlite_wal_storage(
                    url,
                    timeout_s=timings.sqlite_timeout_s,
                    heartbeat_interval=timings.heartbeat_interval_s,
                    grace_period=timings.grace_period_s,
                )
            )
        return _retry_creation(
            lambda: optuna.storages.RDBStorage(
                url,
                engine_kwargs={"connect_args": _connect_args(url)},
                heartbeat_interval=timings.heartbeat_interval_s,
                grace_period=timings.grace_period_s,
            )
        )
    except StorageError:
        raise
    except Exception as error:
        raise StorageError(
            f"cannot open storage {redact_url(url)!r}: {_reason(error, url)}"
        ) from None


def check_storage(url: str, *, create_dirs_under: Path | None = None) -> None:
    """Everything about `url` that can be checked at start-up, creating and changing nothing.

    The URL parses; a database server accepts a connection within `CONNECT_TIMEOUT_S` (its
    driver installed); an SQLite file's folder exists (or lies inside `create_dirs_under`,
    which `open_storage` creates) and is writable, and an existing file is an Optuna storage.

    Raises:
        StorageError: With the reason and what to do.
    """
    check_storage_url(url)
    path = _sqlite_file(url)
    if path is None:
        return
    folder = path.parent
    if not folder.is_dir():
        if create_dirs_under is None or not _is_within(folder, create_dirs_under):
            check_sqlite_folder(url)
        while not folder.is_dir():  # the first existing folder above is where one is created
            folder = folder.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StorageError(
            f"cannot open storage {redact_url(url)!r}: folder {str(folder)!r} is not writable; "
            "pass another --storage or --results-dir"
        )
    if path.exists():
        _check_optuna_file(path, url)


def _check_optuna_file(path: Path, url: str, *, required: bool = False) -> None:
    """An existing SQLite file is an Optuna storage (an empty file counts, unless `required`);
    read without writing anything.

    The file is read through SQLite only, never opened by Python: on POSIX, closing any
    descriptor of a file drops every lock this process holds on it, including those of its open
    SQLite connections to the same database, and another process could then checkpoint and
    reset the WAL under them ("disk I/O error", "file is not a database"; SQLite's "How To
    Corrupt An SQLite Database File", section 2.2). SQLite's own connections share their locks
    within a process and close lazily, so they are safe."""
    if not path.is_file():
        raise StorageError(f"storage {redact_url(url)!r}: {path} is not a file")
    if path.stat().st_size == 0:
        if required:
            raise StorageError(f"storage {path} is empty: it holds no studies")
        return
    try:
        # A plain connection, closed at once: SQLite removes the side files it opened.
        with contextlib.closing(sqlite3.connect(path, timeout=30)) as connection:
            rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            tables = {row[0] for row in rows}
    except sqlite3.DatabaseError as error:
        if "not a database" in str(error):
            raise StorageError(
                f"{path} is not an SQLite database; pass the study's database as --storage"
            ) from None
        raise StorageError(f"cannot read SQLite database {path}: {error}") from None
    if (tables or required) and not _OPTUNA_TABLES <= tables:
        raise StorageError(
            f"{path} is an SQLite database but not an Optuna storage (no studies table); "
            "pass another --storage"
        )


def open_existing_storage(url: str, *, hint: str) -> optuna.storages.BaseStorage:
    """Open, read-only, a storage that must already hold studies.

    Nothing is created or changed: an absent SQLite file is refused, so is a file or database
    without Optuna's tables (instead of creating them), and an SQLite file is opened in
    read-only mode (its journal mode stays as it is).

    Args:
        url: Storage URL.
        hint: What to do instead, appended to the error (e.g. "run the comparison first").

    Raises:
        StorageError: If `url` cannot be opened, names an SQLite file that does not exist, or
            holds no Optuna storage.
    """
    check_storage_url(url)
    path = _sqlite_file(url)
    if path is not None:
        if not path.is_file():
            raise StorageError(f"no study database at {path}; {hint}")
        _check_optuna_file(path, url, required=True)
        try:
            # No WAL pragma (that would rewrite the file's header) and no table creation: a
            # reader leaves the file as it found it (`close_storage` removes SQLite's side files).
            return optuna.storages.RDBStorage(
                url, skip_compatibility_check=True, skip_table_creation=True
            )
        except Exception as error:
            raise StorageError(f"cannot read storage {path}: {_reason(error, url)}") from None
    with _server_engine(url) as engine:
        tables = set(sqlalchemy.inspect(engine).get_table_names())
    if not _OPTUNA_TABLES <= tables:
        raise StorageError(f"storage {redact_url(url)!r} holds no Optuna studies; {hint}")
    return optuna.storages.RDBStorage(url, skip_table_creation=True)


def close_storage(storage: optuna.storages.BaseStorage) -> None:
    """Close the storage's connections (SQLite then removes the `-wal`/`-shm` files a reader
    opened)."""
    engine = getattr(storage, "engine", None)
    if engine is not None:
        engine.dispose()


def read_study_attr(url: str, study: str, key: str) -> Any | None:
    """User attribute `key` of study `study` at `url`, read without writing anything; `None`
    when there is no such storage, study or attribute (so a refusal can be decided before the
    storage is opened for writing)."""
    path = _sqlite_file(url)
    if path is not None and not (path.is_file() and path.stat().st_size):
        return None
    try:
        storage = open_existing_storage(url, hint="")
    except StorageError:
        return None
    try:
        study_id = storage.get_study_id_from_name(study)
        return storage.get_study_user_attrs(study_id).get(key)
    except KeyError:
        return None
    finally:
        close_storage(storage)


def _is_within(folder: Path, parent: Path) -> bool:
    try:
        folder.resolve().relative_to(parent.resolve())
    except ValueError:
        return False
    return True


def load_finished_trial(url: str, name: str, number: int) -> optuna.trial.FrozenTrial:
    """Trial `number` of study `name`, which must be COMPLETE; creates no storage file.

    Raises:
        StorageError: If there is no database at `url`.
        KeyError: If the study or the trial does not exist, or the trial is not complete.
    """
    storage = open_existing_storage(
        url, hint="run `python -m amed_opt.run` first or pass --storage"
    )
    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        known = ", ".join(s.study_name for s in optuna.get_all_study_summaries(storage))
        close_storage(storage)
        raise KeyError(
            f"no study {name!r} in {redact_url(url)}; studies there: {known or 'none'}"
        ) from None
    trials = study.get_trials(deepcopy=True)
    close_storage(storage)
    if not 0 <= number < len(trials):
        raise KeyError(f"study {name!r} has no trial {number} (it has {len(trials)})")
    trial = trials[number]
    if trial.state != TrialState.COMPLETE:
        raise KeyError(f"trial {number} of {name!r} is {trial.state.name}, not COMPLETE")
    return trial
