"""The bad-input catalog's harness: run a command line in-process and check what it left.

Every case asserts the same contract (docs/errors.md): the exit code, exactly one line on
stderr naming the problem, no traceback, no password in the output, and no file created or
modified anywhere under the test's folder.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import sqlite3
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest


STUDY = Path(__file__).resolve().parents[2] / "data" / "synthetic_study.toml"
PASSWORD = "s3cretPW"
"""Put in storage URLs of some cases: it must never appear in any output."""


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under `root` with its size and modification time."""
    return {
        str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in root.rglob("*")
        if path.is_file()
    }


def invoke(
    main: Callable[[Sequence[str]], int], argv: Sequence[str], capsys: pytest.CaptureFixture[str]
) -> Outcome:
    """`main(argv)` with argparse's `SystemExit` turned into its code."""
    capsys.readouterr()
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


def assert_refused(outcome: Outcome, code: int, message: str) -> None:
    """The catalog's contract for one case (the files are checked by `check_case`)."""
    lines = outcome.err.strip().splitlines()
    assert outcome.code == code, outcome.err
    assert len(lines) == 1, outcome.err
    assert message in lines[0], lines[0]
    assert "Traceback" not in outcome.err + outcome.out
    assert PASSWORD not in outcome.err + outcome.out


@pytest.fixture
def check_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., Outcome]:
    """`check_case(main, argv, code, message)`: runs the case and checks the whole contract."""

    def check(
        main: Callable[[Sequence[str]], int], argv: Sequence[str], code: int, message: str
    ) -> Outcome:
        before = snapshot(tmp_path)
        outcome = invoke(main, argv, capsys)
        assert_refused(outcome, code, message)
        assert snapshot(tmp_path) == before, "a file was created or modified"
        return outcome

    return check


@pytest.fixture(autouse=True)
def _quiet_logs() -> None:
    # The command lines configure logging to stderr once per process; a handler set up by an
    # earlier test would write to a stale stream. Only the one error line matters here.
    logging.getLogger().handlers.clear()


@pytest.fixture(scope="session")
def finished_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results folder holding `synthetic-r18.db` with 3 COMPLETE trials (seed 0, amed)."""
    from amed_opt.run import main

    root = tmp_path_factory.mktemp("finished")
    argv = ["--study", str(STUDY), "--n-trials", "3", "--no-progress"]
    argv += ["--results-dir", str(root / "results"), "--cache-dir", str(root / "cache")]
    assert main(argv) == 0
    database = root / "results" / "synthetic-r18.db"
    # Merge the write-ahead log into the file, so that copying the file copies the trials.
    with contextlib.closing(sqlite3.connect(database)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return database


@pytest.fixture
def study_copy(finished_study: Path, tmp_path: Path) -> Path:
    """A private copy of `finished_study` in this test's folder."""
    target = tmp_path / "study.db"
    shutil.copy(finished_study, target)
    return target


def write_study(folder: Path, edits: dict[str, str], name: str = "study.toml") -> Path:
    """The synthetic test study with `edits` ({"section": "key = value\\n..."}; "" is the top
    level) set in its sections (replacing a key already there), written to `folder / name`."""
    text = STUDY.read_text()
    for section, lines in edits.items():
        for line in lines.splitlines():
            text = _set_line(text, section, line)
    path = folder / name
    path.write_text(text)
    os.utime(path, (0, 0))
    return path


def _set_line(text: str, section: str, line: str) -> str:
    header = f"[{section}]\n" if section else ""
    if header and header not in text:
        text += f"\n{header}"
    start = text.index(header) + len(header) if header else 0
    end = text.find("\n[", start)
    end = len(text) if end < 0 else end + 1
    block = text[start:end]
    key = line.split("=")[0].strip()
    pattern = re.compile(rf"^{re.escape(key)} = .*$", re.MULTILINE)
    if pattern.search(block):
        block = pattern.sub(lambda _match: line, block, count=1)
    else:
        block = f"{line}\n{block}"
    return text[:start] + block + text[end:]


@pytest.fixture
def study_with(tmp_path: Path) -> Callable[..., Path]:
    """`study_with({"sampler": "temperature = 0"})`: the test study with those lines, as a file
    in the test's folder."""

    def write(edits: dict[str, str], name: str = "study.toml") -> Path:
        return write_study(tmp_path, edits, name)

    return write
