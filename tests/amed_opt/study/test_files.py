"""Atomic writes (no partial file, unique temporary names) and the JSON conversion."""

from __future__ import annotations

import enum
import json
import math
from dataclasses import dataclass
from pathlib import Path

import pytest

from amed_opt.study.files import atomic_write
from amed_opt.study.files import atomic_write_text
from amed_opt.study.files import json_ready
from amed_opt.study.files import write_json
from amed_opt.study.files import write_or_print


class Colour(enum.Enum):
    RED = "red"


@dataclass(frozen=True)
class Row:
    name: str
    value: float
    path: Path
    colour: Colour


def test_a_failed_write_leaves_neither_the_target_nor_a_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "out.json"

    def half_then_fail(partial: Path) -> None:
        partial.write_text("{half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, half_then_fail)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_keeps_the_previous_version(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    atomic_write_text(target, "first")
    with pytest.raises(RuntimeError):
        atomic_write(target, lambda partial: (_ for _ in ()).throw(RuntimeError("boom")))
    assert target.read_text() == "first"
    assert list(tmp_path.iterdir()) == [target]


def test_concurrent_writers_use_different_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    seen: list[Path] = []

    def inner(partial: Path) -> None:
        seen.append(partial)
        atomic_write(target, lambda other: seen.append(other) or other.write_text("inner"))
        partial.write_text("outer")

    atomic_write(target, inner)
    assert seen[0] != seen[1] and all(p.parent == tmp_path for p in seen)
    assert target.read_text() == "outer"


def test_json_ready_turns_our_values_into_plain_json() -> None:
    row = Row("a", math.nan, Path("x/y"), Colour.RED)
    assert json_ready({"rows": (row,), 3: math.inf}) == {
        "rows": [{"name": "a", "value": None, "path": "x/y", "colour": "red"}],
        "3": None,
    }


def test_write_json_is_strict_json_with_a_final_newline(tmp_path: Path) -> None:
    target = tmp_path / "doc.json"
    write_json(target, {"x": -math.inf, "y": [1, 2]})
    text = target.read_text()
    assert text.endswith("}\n")
    assert json.loads(text) == {"x": None, "y": [1, 2]}


def test_written_files_get_the_usual_mode_not_a_private_one(tmp_path: Path) -> None:
    import os

    target = tmp_path / "out.txt"
    previous = os.umask(0o022)
    try:
        atomic_write_text(target, "x")
    finally:
        os.umask(previous)
    assert target.stat().st_mode & 0o777 == 0o644


def test_write_or_print_writes_the_file_whole_or_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "new" / "table.md"  # its folder is created
    write_or_print("| a |\n", out)
    assert out.read_text() == "| a |\n" and capsys.readouterr().out == ""
    write_or_print("| b |\n", out)  # replaced
    assert out.read_text() == "| b |\n"
    assert sorted(p.name for p in out.parent.iterdir()) == ["table.md"]
    write_or_print("| c |\n", None)
    assert capsys.readouterr().out == "| c |\n"
