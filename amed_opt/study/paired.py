"""Per-image results and the paired test on them: which images an allocation got right, and
McNemar's exact test between two allocations measured on the same images.

Two accuracies measured on the same 2,000 validation images are not independent samples: both
models get most images right (or wrong) together, and only the images on which they disagree
carry evidence about which is better. McNemar's test uses exactly those: `b` images right only
under A, `c` right only under B. Under the hypothesis that A and B are equally accurate, each
discordant image is as likely to favour either, so `b ~ Binomial(b + c, 1/2)`; the exact
two-sided p-value is the probability of a split at least as uneven. The accuracy difference is
`(b - c) / n`, and its paired standard error `sqrt(b + c - (b - c)² / n) / n` is far smaller
than the `sqrt(SE_a² + SE_b²)` of two independent samples when the allocations agree on most
images (docs/compare.md).

The objective stores an allocation's per-image results as the trial user attribute
`val_correct` (`ImageOutcomes.to_attr`): the boolean vector in the fixed validation order,
bit-packed (`numpy.packbits`) and base64-encoded, with the number of images; 2,000 images take
about 350 characters. Trials measured without images (the synthetic accuracy model) or before
the attribute existed have none (`outcomes_of` returns None).
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


__all__ = [
    "SIGNIFICANCE",
    "VAL_CORRECT_ATTR",
    "ImageOutcomes",
    "McNemar",
    "exact_p_value",
    "mcnemar",
    "outcomes_of",
]

VAL_CORRECT_ATTR = "val_correct"
"""Trial user attribute: which validation images the trial's model classified correctly."""

SIGNIFICANCE = 0.05
"""The level below which a paired accuracy difference is called significant."""


@dataclass(frozen=True, slots=True)
class ImageOutcomes:
    """Which of `count` images a model classified correctly, in the fixed validation order.

    Attributes:
        packed: The boolean vector, `numpy.packbits` (big-endian bit order, zero padding).
        count: The number of images.
    """

    packed: bytes
    count: int

    def __post_init__(self) -> None:
        if self.count < 0 or len(self.packed) != (self.count + 7) // 8:
            raise ValueError(
                f"{len(self.packed)} packed bytes cannot hold exactly {self.count} images"
            )

    @classmethod
    def of(cls, correct: Sequence[bool] | np.ndarray) -> ImageOutcomes:
        """The outcomes of a boolean vector (one entry per image)."""
        vector = np.asarray(correct)
        if vector.ndim != 1:
            raise ValueError(f"expected one entry per image, got shape {vector.shape}")
        flags = vector.astype(bool)
        return cls(packed=np.packbits(flags).tobytes(), count=int(flags.size))

    def array(self) -> np.ndarray:
        """The boolean vector, one entry per image."""
        bits = np.unpackbits(np.frombuffer(self.packed, dtype=np.uint8), count=self.count)
        return bits.astype(bool)

    @property
    def correct(self) -> int:
        """The number of images classified correctly."""
        return int(np.count_nonzero(self.array()))

    @property
    def accuracy(self) -> float:
        """The fraction classified correctly (NaN without images)."""
        return self.correct / self.count if self.count else math.nan

    def to_attr(self) -> dict[str, Any]:
        """The JSON value stored as the trial user attribute `val_correct`."""
        return {"n": self.count, "packed": base64.b64encode(self.packed).decode("ascii")}

    @classmethod
    def from_attr(cls, value: object) -> ImageOutcomes:
        """Decode a `val_correct` user attribute (`to_attr`).

        Raises:
            ValueError: If `value` is not such an attribute.
        """
        if not isinstance(value, Mapping) or set(value) != {"n", "packed"}:
            raise ValueError(f"not a {VAL_CORRECT_ATTR} attribute: {value!r:.80}")
        count, text = value["n"], value["packed"]
        if not isinstance(count, int) or isinstance(count, bool) or not isinstance(text, str):
            raise ValueError(f"not a {VAL_CORRECT_ATTR} attribute: {value!r:.80}")
        try:
            packed = base64.b64decode(text.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError) as error:
            raise ValueError(f"{VAL_CORRECT_ATTR} is not base64: {error}") from None
        return cls(packed=packed, count=count)


def outcomes_of(user_attrs: Mapping[str, Any]) -> ImageOutcomes | None:
    """The per-image outcomes a trial stored, or None when it stored none (synthetic accuracy,
    or a trial older than the attribute).

    Raises:
        ValueError: If the attribute is present but malformed.
    """
    value = user_attrs.get(VAL_CORRECT_ATTR)
    return None if value is None else ImageOutcomes.from_attr(value)


@dataclass(frozen=True, slots=True)
class McNemar:
    """McNemar's exact test of two allocations A and B on the same images.

    Attributes:
        b: Images right under A only.
        c: Images right under B only.
        n: Images in all.
        p_value: Exact two-sided p-value of "A and B are equally accurate".
    """

    b: int
    c: int
    n: int
    p_value: float

    @property
    def difference(self) -> float:
        """Accuracy of A minus accuracy of B, `(b - c) / n` (a fraction)."""
        return (self.b - self.c) / self.n if self.n else math.nan

    @property
    def se(self) -> float:
        """Standard error of `difference` from the paired images,
        `sqrt(b + c - (b - c)² / n) / n`."""
        if not self.n:
            return math.nan
        discordant = self.b + self.c
        return math.sqrt(max(0.0, discordant - (self.b - self.c) ** 2 / self.n)) / self.n

    @property
    def significant(self) -> bool:
        """Whether the difference is significant at `SIGNIFICANCE`."""
        return self.p_value < SIGNIFICANCE

    def text(self) -> str:
        """`+0.45 points (b 14, c 5, McNemar p = 0.064)`: A minus B."""
        return (
            f"{100 * self.difference:+.2f} points (b {self.b}, c {self.c}, "
            f"McNemar p = {self.p_value:.3g})"
        )


def exact_p_value(b: int, c: int) -> float:
    """The exact two-sided McNemar p-value of `b` and `c` discordant images: twice the smaller
    tail of Binomial(b + c, 1/2), capped at 1 (1 when there is no discordant image).

    Raises:
        ValueError: If `b` or `c` is negative.
    """
    if b < 0 or c < 0:
        raise ValueError(f"discordant counts must be >= 0, got b={b}, c={c}")
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(b, c) + 1))
    # Integer true division is exact up to the final rounding, even for thousands of images.
    return min(1.0, 2 * tail / 2**n)


def mcnemar(
    a: ImageOutcomes | Sequence[bool] | np.ndarray, b: ImageOutcomes | Sequence[bool] | np.ndarray
) -> McNemar:
    """McNemar's exact test of allocation A against B from their per-image correctness on the
    same images (in the same order).

    Raises:
        ValueError: If the two vectors have different lengths.
    """
    right_a, right_b = _vector(a), _vector(b)
    if right_a.size != right_b.size:
        raise ValueError(
            f"paired outcomes must cover the same images, got {right_a.size} and {right_b.size}"
        )
    only_a = int(np.count_nonzero(right_a & ~right_b))
    only_b = int(np.count_nonzero(right_b & ~right_a))
    return McNemar(b=only_a, c=only_b, n=int(right_a.size), p_value=exact_p_value(only_a, only_b))


def _vector(outcomes: ImageOutcomes | Sequence[bool] | np.ndarray) -> np.ndarray:
    if isinstance(outcomes, ImageOutcomes):
        return outcomes.array()
    return ImageOutcomes.of(outcomes).array()
