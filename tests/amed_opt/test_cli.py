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


def test_storage_timings_come_from_the_environment_at_the_edge() -> None:
    from amed_opt.cli import storage_timings_from
    from amed_opt.study.storage import DEFAULT_TIMINGS

    assert storage_timings_from({}) == DEFAULT_TIMINGS
    short = storage_timings_from(
        {"AMED_OPT_HEARTBEAT_INTERVAL_S": "1", "AMED_OPT_GRACE_PERIOD_S": "3"}
    )
    assert (short.heartbeat_interval_s, short.grace_period_s) == (1, 3)
    assert storage_timings_from({"AMED_OPT_SQLITE_TIMEOUT_S": "0.5"}).sqlite_timeout_s == 0.5


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"AMED_OPT_GRACE_PERIOD_S": "soon"}, "AMED_OPT_GRACE_PERIOD_S must be a number"),
        ({"AMED_OPT_GRACE_PERIOD_S": "2"}, "must exceed heartbeat_interval_s"),
        ({"AMED_OPT_SQLITE_TIMEOUT_S": "-1"}, "sqlite_timeout_s must be"),
    ],
)
def test_bad_storage_timings_are_refused(environ: dict[str, str], message: str) -> None:
    from amed_opt.cli import storage_timings_from

    with pytest.raises(ValueError, match=message):
        storage_timings_from(environ)


def test_worker_device_spreads_cuda_workers_over_the_visible_gpus() -> None:
    from amed_opt.cli import worker_device

    assert [worker_device("cuda", i, 3) for i in range(5)] == [
        "cuda:0",
        "cuda:1",
        "cuda:2",
        "cuda:0",
        "cuda:1",
    ]
    assert [worker_device("cuda", i, 1) for i in range(3)] == ["cuda:0"] * 3
    # Kept as given: the CPU, an explicit GPU, and cuda without a GPU (the usual error follows).
    assert worker_device("cpu", 3, 2) == "cpu"
    assert worker_device("cuda:1", 0, 4) == "cuda:1"
    assert worker_device("cuda", 2, 0) == "cuda"
