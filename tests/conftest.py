"""Settings shared by every test."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings


sys.path.insert(0, str(Path(__file__).resolve().parent))  # postgres_cluster


# Property tests check behaviour, not speed: on a loaded 2-core machine hypothesis' default
# 200 ms per-example deadline fails tests that are correct. Speed is measured by benchmarks/.
settings.register_profile("amed-opt", deadline=None)
settings.load_profile("amed-opt")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throw-away PostgreSQL cluster for this test session (skipped where none can start)."""
    from postgres_cluster import postgres_cluster
    from postgres_cluster import postgres_missing

    missing = postgres_missing()
    if missing is not None:
        if os.environ.get("AMED_OPT_REQUIRE_POSTGRES"):  # `make test` (CI): never skip them.
            pytest.fail(missing)
        pytest.skip(missing)
    with postgres_cluster() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty storage: an SQLite file (WAL) or a fresh database on the PostgreSQL cluster."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'study.db'}"
    from postgres_cluster import new_database

    return new_database(request.getfixturevalue("postgres_server"))
