"""Per-image results and McNemar's exact test: hand-computed p-values, the discordant counts,
the stored attribute's round trip, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from amed_opt.study.paired import VAL_CORRECT_ATTR
from amed_opt.study.paired import ImageOutcomes
from amed_opt.study.paired import exact_p_value
from amed_opt.study.paired import mcnemar
from amed_opt.study.paired import outcomes_of


@pytest.mark.parametrize(
    ("b", "c", "p"),
    [
        (0, 0, 1.0),  # no discordant image: no evidence
        (0, 6, 0.03125),  # 2 * (1/2)^6
        (6, 0, 0.03125),
        (5, 5, 1.0),  # 2 * 638/1024 > 1: capped
        (1, 5, 0.21875),  # 2 * (1 + 6) / 64
        (0, 5, 0.0625),  # 2 / 32: five one-sided images are not enough at 0.05
        (2, 8, 0.109375),  # 2 * (1 + 10 + 45) / 1024
    ],
)
def test_exact_two_sided_p_value_matches_hand_computed_binomial_tails(
    b: int, c: int, p: float
) -> None:
    assert exact_p_value(b, c) == pytest.approx(p, rel=1e-12)


def test_the_p_value_stays_exact_for_thousands_of_discordant_images() -> None:
    assert exact_p_value(1000, 1000) == 1.0
    assert 0 <= exact_p_value(900, 1100) < 1e-5  # about 4.5 standard deviations apart
    assert exact_p_value(0, 2000) == 0.0  # 2^-1999 underflows
    with pytest.raises(ValueError, match=">= 0"):
        exact_p_value(-1, 3)


def test_mcnemar_counts_the_images_only_one_side_got_right() -> None:
    a = [True, True, False, False, True, False, True, True]
    b = [True, False, True, False, False, False, True, False]
    test = mcnemar(a, b)
    assert (test.b, test.c, test.n) == (3, 1, 8)
    assert test.p_value == pytest.approx(2 * (1 + 4) / 16)
    assert test.difference == pytest.approx(np.mean(a) - np.mean(b))
    assert test.se == pytest.approx(math.sqrt(4 - 2**2 / 8) / 8)
    assert not test.significant
    assert test.text() == "+25.00 points (b 3, c 1, McNemar p = 0.625)"
    # The same test from stored outcomes, and with the sides swapped.
    swapped = mcnemar(ImageOutcomes.of(b), ImageOutcomes.of(a))
    assert (swapped.b, swapped.c, swapped.p_value) == (1, 3, test.p_value)


def test_six_images_all_on_one_side_are_significant() -> None:
    better = [True] * 100
    worse = [False] * 6 + [True] * 94
    test = mcnemar(better, worse)
    assert (test.b, test.c, test.p_value) == (6, 0, 0.03125)
    assert test.significant


def test_vectors_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="same images, got 3 and 2"):
        mcnemar([True, False, True], [True, False])
    with pytest.raises(ValueError, match="same images"):
        mcnemar(ImageOutcomes.of([True] * 9), ImageOutcomes.of([True] * 8))


def test_outcomes_round_trip_through_the_user_attribute_compactly() -> None:
    rng = np.random.default_rng(0)
    vector = rng.random(2000) < 0.88
    outcomes = ImageOutcomes.of(vector)
    attr = outcomes.to_attr()
    assert attr["n"] == 2000 and len(attr["packed"]) <= 350
    decoded = outcomes_of({VAL_CORRECT_ATTR: attr, "bits": "8 8"})
    assert decoded == outcomes
    assert decoded is not None and decoded.array().tolist() == vector.tolist()
    assert decoded.accuracy == vector.mean() and decoded.correct == int(vector.sum())
    # A count that is not a multiple of 8 is padded with zeros and cut again.
    odd = ImageOutcomes.of([True, False, True])
    assert ImageOutcomes.from_attr(odd.to_attr()).array().tolist() == [True, False, True]


def test_a_trial_without_per_image_results_has_none() -> None:
    assert outcomes_of({"bits": "8 8 8"}) is None
    assert math.isnan(ImageOutcomes.of([]).accuracy)


@pytest.mark.parametrize(
    "value",
    [
        "AAA=",
        {"n": 8},
        {"n": "8", "packed": "AA=="},
        {"n": 8, "packed": "not base64!"},
        {"n": 20, "packed": "AA=="},  # one byte cannot hold 20 images
        {"n": True, "packed": "AA=="},
    ],
)
def test_malformed_attributes_are_refused(value: object) -> None:
    with pytest.raises(ValueError):
        outcomes_of({VAL_CORRECT_ATTR: value})


def test_outcomes_are_one_vector() -> None:
    with pytest.raises(ValueError, match="one entry per image"):
        ImageOutcomes.of(np.ones((2, 3), dtype=bool))
