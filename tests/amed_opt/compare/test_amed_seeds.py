"""`benchmarks/amed_seeds.py`: AMED settings over many tuning seeds, in memory."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from amed_opt.compare.__main__ import main as compare_main


STUDY = Path(__file__).resolve().parents[2] / "data" / "synthetic_study.toml"
MEASURED = Path(__file__).resolve().parents[3] / "studies" / "r18.toml"


def _rows(text: str) -> dict[str, list[str]]:
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("| ") and not line.startswith("| variant"):
            rows[cells[0]] = cells[1:]
    return rows


def test_each_variant_and_the_greedy_get_a_row_of_seed_statistics(
    tmp_path: Path, load_benchmark: Callable[[str], ModuleType]
) -> None:
    script = load_benchmark("amed_seeds")
    out = tmp_path / "seeds.md"
    args = [
        "--study",
        str(STUDY),
        "--n-trials",
        "30",
        "--seeds",
        "3",
        "--cache-dir",
        str(tmp_path),
    ]
    variant = "small=n_flips:3;small_move_share:0.5"
    scan = "scan=n_flips:3;small_move_share:0.5;small_move_order:scan"
    assert script.main([*args, "--variant", variant, "--variant", scan, "--out", str(out)]) == 0
    text = out.read_text()
    assert "tuning seeds 0-2" in text and "`small`: {'n_flips': 3" in text
    assert "'small_move_order': <SmallMoveOrder.SCAN: 'scan'>" in text
    rows = _rows(text)
    assert list(rows) == ["study", "small", "scan", "greedy"]
    for hypervolume, best_q, _ in rows.values():
        for cell in (hypervolume, best_q):
            assert re.fullmatch(r"-?\d\.\d{4} ± \d\.\d{4}", cell)
    # The greedy is deterministic: the same walk from the same ladder in every seed.
    assert rows["greedy"][0].endswith("± 0.0000")
    # A second run gives the same table (the seeds fix every chain), timing line aside.
    again = tmp_path / "again.md"
    assert script.main([*args, "--variant", variant, "--variant", scan, "--out", str(again)]) == 0
    assert _rows(again.read_text()) == rows


def test_the_figures_are_those_of_a_comparison_of_the_same_study_and_seeds(
    tmp_path: Path, load_benchmark: Callable[[str], ModuleType]
) -> None:
    # The same sampler, objective and warm start as `amed_opt.compare`: the same hypervolumes.
    common = ["--study", str(STUDY), "--n-trials", "25", "--seeds", "2", "--first-seed", "0"]
    common += ["--cache-dir", str(tmp_path)]
    storage = f"sqlite:///{tmp_path / 'cmp.db'}"
    compare = [*common, "--samplers", "amed,greedy", "--storage", storage, "--no-progress"]
    assert compare_main([*compare, "--out", str(tmp_path / "cmp")]) == 0
    analysis = json.loads((tmp_path / "cmp" / "comparison.json").read_text())["analysis"]
    out = tmp_path / "seeds.md"
    assert load_benchmark("amed_seeds").main([*common, "--out", str(out)]) == 0
    rows = _rows(out.read_text())
    for summary in analysis["samplers"]:
        row = rows["study" if summary["sampler"] == "amed" else summary["sampler"]]
        hypervolume, best_q = (float(cell.split(" ± ")[0]) for cell in row[:2])
        assert hypervolume == pytest.approx(summary["hv"]["mean"], abs=1e-4)
        assert best_q == pytest.approx(summary["best_mixed_q"]["mean"], abs=1e-4)
        every_seed = [
            bits
            for bits, seeds in sorted(summary["uniform_dominated"].items())
            if 3 <= int(bits) and seeds == len(summary["seeds"])
        ]
        assert row[2] == (", ".join(every_seed) or "-")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--first-seed", "99"], "reporting seed"),
        (["--first-seed", "99", "--reporting"], "--reporting needs reporting seeds"),
        (["--study", str(MEASURED)], "a SYNTHETIC study is needed"),
        (["--n-trials", "0"], "must be positive integers"),
    ],
)
def test_bad_runs_are_refused_with_one_line(
    extra: list[str],
    message: str,
    tmp_path: Path,
    load_benchmark: Callable[[str], ModuleType],
    capsys: pytest.CaptureFixture[str],
) -> None:
    script = load_benchmark("amed_seeds")
    args = ["--study", str(STUDY), "--seeds", "2", "--cache-dir", str(tmp_path)]
    assert script.main([*args, *extra, "--out", str(tmp_path / "x.md")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x.md").exists()


def test_reporting_seeds_run_only_when_asked_and_the_table_says_so(
    tmp_path: Path, load_benchmark: Callable[[str], ModuleType]
) -> None:
    script = load_benchmark("amed_seeds")
    out = tmp_path / "report.md"
    args = ["--study", str(STUDY), "--n-trials", "20", "--seeds", "2", "--first-seed", "100"]
    args += ["--cache-dir", str(tmp_path), "--no-greedy", "--out", str(out)]
    assert script.main(args) == 2 and not out.exists()
    assert script.main([*args, "--reporting"]) == 0
    first = out.read_text().splitlines()[0]
    assert "--reporting" in first and "REPORTING seeds 100-101" in first
