"""The bad-input catalogs of `compare`, `finetune` and `python -m hardware` (see conftest)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from amed_opt.compare.__main__ import main as compare_main
from amed_opt.finetune import main as finetune_main
from hardware.__main__ import main as hardware_main


PASSWORD = "s3cretPW"
STUDY = Path(__file__).resolve().parents[2] / "data" / "synthetic_study.toml"


def _fill(words: list[str], tmp_path: Path, study: Path | None = None) -> list[str]:
    return [
        word.replace("{tmp}", str(tmp_path)).replace("{db}", str(study or "")) for word in words
    ]


def _prepare_files(tmp_path: Path) -> None:
    (tmp_path / "empty.db").write_bytes(b"")
    (tmp_path / "plain.db").write_bytes(b"plain text")
    with sqlite3.connect(tmp_path / "other.db") as connection:
        connection.execute("CREATE TABLE notes (text TEXT)")
    connection.close()


COMPARE_CASES = [
    ("unknown-study", ["--study", "nope"], "unknown study 'nope'"),
    ("sampler-unknown", ["--samplers", "amed,bogus"], "bogus"),
    ("seeds-zero", ["--seeds", "0"], "must be a positive integer"),
    ("n-trials-zero", ["--n-trials", "0"], "must be a positive integer"),
    ("weight-nan", ["--latency-weight", "nan"], "must be a finite number >= 0"),
    ("weight-negative", ["--latency-weight", "-1"], "must be a finite number >= 0"),
    ("evaluator-choice", ["--evaluator", "bogus"], "invalid choice: 'bogus'"),
    ("device-unknown", ["--device", "foo"], "--device 'foo' is not a torch device"),
    ("storage-missing-folder", ["--storage", "sqlite:///{tmp}/no/x.db"], "does not exist"),
    ("report-only-missing", ["--report-only", "--storage", "sqlite:///{tmp}/x.db"], "no study"),
    (
        "report-only-empty-file",
        ["--report-only", "--storage", "sqlite:///{tmp}/empty.db"],
        "empty",
    ),
    (
        "report-only-not-sqlite",
        ["--report-only", "--storage", "sqlite:///{tmp}/plain.db"],
        "SQLite",
    ),
    (
        "report-only-not-optuna",
        ["--report-only", "--storage", "sqlite:///{tmp}/other.db"],
        "Optuna",
    ),
    (
        "storage-password",
        ["--storage", f"postgresql://bob:{PASSWORD}@127.0.0.1:1/db"],
        "bob:***@",
    ),
]


@pytest.mark.parametrize(
    ("extra", "message"),
    [case[1:] for case in COMPARE_CASES],
    ids=[case[0] for case in COMPARE_CASES],
)
def test_compare_bad_input(
    tmp_path: Path, check_case: Callable[..., object], extra: list[str], message: str
) -> None:
    _prepare_files(tmp_path)
    argv = ["--study", str(STUDY), "--no-progress", "--cache-dir", str(tmp_path / "cache")]
    argv += ["--out", str(tmp_path / "report"), *_fill(extra, tmp_path)]
    check_case(compare_main, argv, 2, message)


FINETUNE_CASES = [
    ("trial-negative", ["--trial", "-1"], "must be an integer >= 0"),
    ("trial-missing", ["--trial", "999"], "has no trial 999"),
    ("epochs-negative", ["--trial", "0", "--epochs", "-1"], "must be an integer >= 0"),
    ("unknown-study", ["--trial", "0", "--study", "nope"], "unknown study 'nope'"),
    ("device-unknown", ["--trial", "0", "--device", "foo"], "is not a torch device"),
    ("other-seed", ["--trial", "0", "--seed", "5"], "no study 'synthetic-r18-amed-seed5'"),
    ("other-sampler", ["--trial", "0", "--sampler", "tpe"], "no study 'synthetic-r18-tpe-seed0'"),
    ("storage-absent", ["--trial", "0", "--storage", "sqlite:///{tmp}/x.db"], "no study database"),
    ("storage-empty", ["--trial", "0", "--storage", "sqlite:///{tmp}/empty.db"], "empty"),
    ("storage-not-sqlite", ["--trial", "0", "--storage", "sqlite:///{tmp}/plain.db"], "SQLite"),
    ("storage-not-optuna", ["--trial", "0", "--storage", "sqlite:///{tmp}/other.db"], "Optuna"),
    (
        "storage-password",
        ["--trial", "0", "--storage", f"mysql://bob:{PASSWORD}@127.0.0.1:1/db"],
        "bob:***@",
    ),
    ("out-is-file", ["--trial", "0", "--out", "{tmp}/plain.db/x"], "is not a folder"),
]


@pytest.mark.parametrize(
    ("extra", "message"),
    [case[1:] for case in FINETUNE_CASES],
    ids=[case[0] for case in FINETUNE_CASES],
)
def test_finetune_bad_input(
    tmp_path: Path,
    check_case: Callable[..., object],
    study_copy: Path,
    extra: list[str],
    message: str,
) -> None:
    _prepare_files(tmp_path)
    argv = ["--study", str(STUDY), "--storage", f"sqlite:///{study_copy}"]
    argv += ["--cache-dir", str(tmp_path / "cache"), "--results-dir", str(tmp_path / "r")]
    check_case(finetune_main, argv + _fill(extra, tmp_path), 2, message)


CONFIG = """\
[architecture_presets]
ArrayHeight: 8
ArrayWidth: 8
IfmapSramSzkB: 64
FilterSramSzkB: 64
OfmapSramSzkB: 64
Dataflow: os
"""
HEADER = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
HEADER += "Num Filter, Strides,\n"

HARDWARE_CASES = [
    ("w-bits", "c1, 16, 16, 3, 3, 16, 48, 1,", ["--w-bits", "9"], "w_bits must be"),
    ("clock-nan", "c1, 16, 16, 3, 3, 16, 48, 1,", ["--clock-mhz", "nan"], "clock_hz must be"),
    ("clock-zero", "c1, 16, 16, 3, 3, 16, 48, 1,", ["--clock-mhz", "0"], "clock_hz must be"),
    ("out-folder", "c1, 16, 16, 3, 3, 16, 48, 1,", ["--out", "{tmp}/no/r.csv"], "does not exist"),
    ("depthwise-millions", "c_DP, 16, 16, 3, 3, 5000000, 1, 1,", [], "must be at most 65536"),
    (
        "depthwise-expansion",
        "\n".join(f"c{i}_DP, 16, 16, 3, 3, 60000, 1, 1," for i in range(2)),
        [],
        "expand to 120000",
    ),
    ("field-huge", "c1, 99999999, 16, 3, 3, 16, 48, 1,", [], "must be at most"),
    ("field-negative", "c1, -16, 16, 3, 3, 16, 48, 1,", [], "must be a positive integer"),
    ("row-short", "c1, 16, 16, 3,", [], "a convolution row needs 8 fields"),
    ("filter-larger", "c1, 2, 2, 3, 3, 16, 48, 1,", [], "larger than the IFMAP"),
    ("missing-topology", None, [], "No such file"),
    ("missing-config", "c1, 16, 16, 3, 3, 16, 48, 1,", ["--config", "{tmp}/no.cfg"], "No such"),
]


@pytest.mark.parametrize(
    ("row", "extra", "message"),
    [case[1:] for case in HARDWARE_CASES],
    ids=[case[0] for case in HARDWARE_CASES],
)
def test_hardware_bad_input(
    tmp_path: Path,
    check_case: Callable[..., object],
    row: str | None,
    extra: list[str],
    message: str,
) -> None:
    (tmp_path / "arch.cfg").write_text(CONFIG)
    if row is not None:
        (tmp_path / "net.csv").write_text(HEADER + row + "\n")
    argv = ["--config", str(tmp_path / "arch.cfg"), "--topology", str(tmp_path / "net.csv")]
    check_case(hardware_main, argv + _fill(extra, tmp_path), 2, message)


def test_an_oversized_topology_file_is_refused_unread(
    tmp_path: Path, check_case: Callable[..., object]
) -> None:
    (tmp_path / "arch.cfg").write_text(CONFIG)
    big = tmp_path / "net.csv"
    with big.open("wb") as stream:  # sparse: costs no disk
        stream.truncate(17 * 1024 * 1024)
    argv = ["--config", str(tmp_path / "arch.cfg"), "--topology", str(big)]
    check_case(hardware_main, argv, 2, "too large for a topology")
