"""The conventions shared by the command lines."""

from __future__ import annotations

import argparse

import pytest

from amed_opt.cli import EXIT_USAGE
from amed_opt.cli import OneLineParser
from amed_opt.cli import one_line
from amed_opt.cli import positive_int


def test_positive_int_accepts_positive_and_names_the_bad_value() -> None:
    assert positive_int("3") == 3
    for text in ("0", "-2", "x"):
        with pytest.raises(argparse.ArgumentTypeError, match="positive integer"):
            positive_int(text)


def test_one_line_joins_lines_and_falls_back_to_the_type() -> None:
    assert one_line(ValueError("a\n  b")) == "a b"
    assert one_line(KeyError()) == "KeyError"


def test_usage_errors_are_one_line_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    parser = OneLineParser(prog="tool")
    parser.add_argument("--n", type=positive_int, required=True)
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["--n", "0"])
    assert exit_info.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("tool: error: argument --n")
