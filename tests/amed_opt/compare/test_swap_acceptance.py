"""`benchmarks/swap_acceptance.py`: the parallel-tempering swap probability between two chains."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest


def test_a_swap_equals_the_ratio_of_the_two_targets_and_accuracy_cancels(
    load_benchmark: Callable[[str], ModuleType],
) -> None:
    swap = load_benchmark("swap_acceptance").swap_acceptance
    weights, temperature = (0.5, 2.0), 0.01
    heads = {"fast": (0.81, 0.30), "slow": (0.88, 0.45)}  # (accuracy, relative latency)

    def log_target(weight: float, head: tuple[float, float]) -> float:
        return (head[0] - weight * head[1]) / temperature

    # Chain i (weight 0.5) holds the fast head, chain j (weight 2) the slow one: swapping
    # multiplies the joint target by this ratio, accuracies included.
    ratio = math.exp(
        log_target(weights[0], heads["slow"])
        + log_target(weights[1], heads["fast"])
        - log_target(weights[0], heads["fast"])
        - log_target(weights[1], heads["slow"])
    )
    assert ratio > 1
    assert swap(*weights, heads["fast"][1], heads["slow"][1], temperature) == 1.0
    # The other way round the swap is accepted with the inverse ratio.
    backwards = swap(*weights, heads["slow"][1], heads["fast"][1], temperature)
    assert backwards == pytest.approx(1 / ratio)
    assert backwards == pytest.approx(math.exp(-1.5 * 0.15 / temperature))


def test_an_unknown_study_is_one_line_and_exit_code_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    load_benchmark: Callable[[str], ModuleType],
) -> None:
    url = f"sqlite:///{tmp_path / 'none.db'}"
    assert load_benchmark("swap_acceptance").main(["--storage", url, "--study", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no study 'nope'" in err
