"""Compare-and-set of one study system attribute: the only atomic write the chains rely on.

Optuna's `set_study_system_attr` overwrites (last writer wins), so two workers that read a
chain's record, change it and write it back can lose each other's change. `compare_and_set`
writes a new value only if the stored one is still the value the caller read:

* RDB storages (SQLite, PostgreSQL, MySQL): one SQL statement, `UPDATE study_system_attributes
  SET value_json = new WHERE study_id = s AND key = k AND value_json = old`, atomic in every
  database (PostgreSQL re-checks the `WHERE` on the newest row version after waiting for the row
  lock), or an `INSERT` that the table's unique `(study_id, key)` constraint lets only one worker
  make. Optuna stores `json.dumps(value)`, and `json.dumps(json.loads(text)) == text` for that
  text, so the caller's parsed value identifies the stored text exactly.
* In-memory storages live in one process, so a lock of this process is a correct
  compare-and-set for them.
* Other storages (journal files, the gRPC proxy): the same lock; it is atomic only within one
  process, and `compare_and_set` warns once. Several workers on them are untested.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any


if TYPE_CHECKING:
    from optuna.storages import BaseStorage


__all__ = ["compare_and_set"]

_logger = logging.getLogger(__name__)
_local_lock = threading.Lock()
_warned: set[str] = set()


def _backend(storage: BaseStorage) -> BaseStorage:
    """The storage under Optuna's `_CachedStorage` wrapper (study attrs are never cached)."""
    return getattr(storage, "_backend", storage)


def compare_and_set(
    storage: BaseStorage,
    study_id: int,
    key: str,
    expected: Mapping[str, Any] | None,
    value: Mapping[str, Any],
) -> bool:
    """Store `value` under study system attr `key` if it still holds `expected`.

    Args:
        storage: The study's storage.
        study_id: The study.
        key: The attribute.
        expected: The value read before (as returned by `get_study_system_attrs`), or `None`
            when the attribute was absent.
        value: The new value (JSON-serializable).

    Returns:
        Whether this call wrote `value`; `False` when another writer changed the attribute
        first (re-read and redo). A lock held past the database's timeout raises.
    """
    backend = _backend(storage)
    from optuna.storages import InMemoryStorage
    from optuna.storages import RDBStorage

    if isinstance(backend, RDBStorage):
        return _rdb_compare_and_set(backend, study_id, key, expected, value)
    if not isinstance(backend, InMemoryStorage):
        name = type(backend).__name__
        if name not in _warned:
            _warned.add(name)
            _logger.warning(
                "%s has no compare-and-set; the chains are safe in one process only "
                "(use SQLite or PostgreSQL for several workers)",
                name,
            )
    with _local_lock:
        current = storage.get_study_system_attrs(study_id).get(key)
        if current != (None if expected is None else dict(expected)):
            return False
        storage.set_study_system_attr(study_id, key, dict(value))
        return True


def _rdb_compare_and_set(
    storage: Any,
    study_id: int,
    key: str,
    expected: Mapping[str, Any] | None,
    value: Mapping[str, Any],
) -> bool:
    import sqlalchemy
    from optuna.storages._rdb import models

    table = models.StudySystemAttributeModel.__table__
    new_text = json.dumps(dict(value))
    try:
        with storage.engine.begin() as connection:
            if expected is None:
                connection.execute(
                    sqlalchemy.insert(table).values(
                        study_id=study_id, key=key, value_json=new_text
                    )
                )
                return True
            result = connection.execute(
                sqlalchemy.update(table)
                .where(table.c.study_id == study_id)
                .where(table.c.key == key)
                .where(table.c.value_json == json.dumps(dict(expected)))
                .values(value_json=new_text)
            )
            return bool(result.rowcount == 1)
    except sqlalchemy.exc.IntegrityError:
        return False  # Another worker inserted the attribute first.
