"""`StudySpec`: a whole study, its sections and its top-level keys."""

from __future__ import annotations

import dataclasses
import enum
import re
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from amed_opt.study.spec_checks import FieldChecks
from amed_opt.study.spec_enums import LayerChoice
from amed_opt.study.spec_sections import BaselineSpec
from amed_opt.study.spec_sections import DataSpec
from amed_opt.study.spec_sections import EvaluatorSpec
from amed_opt.study.spec_sections import HardwareSpec
from amed_opt.study.spec_sections import ModelSpec
from amed_opt.study.spec_sections import SamplerSpec
from amed_opt.study.spec_sections import SearchSpec
from amed_opt.study.spec_sections import StorageSpec


STUDY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
"""What a study name may be: it becomes part of file names and of the default storage URL, so
no spaces, slashes, `?` or other characters a path or URL would read differently."""


@dataclass(frozen=True, slots=True)
class StudySpec:
    """A whole study.

    Every section validates itself; the study checks its top-level keys and that each section
    is of its type.

    Attributes:
        name: Study name in the storage (and the default result file names): a letter or digit,
            then letters, digits, `.`, `_` or `-` (`STUDY_NAME`).
        description: One paragraph shown in the dashboard note.
        seed: Seed of the data split, the baseline training and the sampler.
        n_trials: Default trial budget (finished trials, all chains together), > 0.
    """

    name: str
    model: ModelSpec
    description: str = ""
    seed: int = 0
    n_trials: int = 100
    data: DataSpec = field(default_factory=DataSpec)
    baseline: BaselineSpec = field(default_factory=BaselineSpec)
    evaluator: EvaluatorSpec = field(default_factory=EvaluatorSpec)
    search: SearchSpec = field(default_factory=SearchSpec)
    hardware: HardwareSpec = field(default_factory=HardwareSpec)
    sampler: SamplerSpec = field(default_factory=SamplerSpec)
    storage: StorageSpec = field(default_factory=StorageSpec)

    def __post_init__(self) -> None:
        check = FieldChecks(self, "")
        check.require(
            STUDY_NAME.fullmatch(self.name) is not None,
            "name",
            f"must be a non-empty name without spaces or slashes, got {self.name!r} (a letter "
            "or digit, then letters, digits, '.', '_' or '-')",
        )
        check.require(
            0 <= self.seed < 2**32, "seed", f"must be in [0, 2**32 - 1], got {self.seed}"
        )
        check.positive("n_trials")
        if self.sampler.layer_choice is LayerChoice.COST and self.search.max_size_kib > 0:
            check.fail(
                "sampler.layer_choice",
                '= "cost" cannot be combined with search.max_size_kib (the size filter needs '
                'the uniform layer choice): set layer_choice = "uniform" or drop the limit',
            )
        if self.sampler.transfer_share > 0 and self.search.max_size_kib > 0:
            check.fail(
                "sampler.transfer_share",
                "> 0 cannot be combined with search.max_size_kib (transfers take no size "
                "filter): set transfer_share = 0 or drop the limit",
            )
        if self.sampler.energy_weight > 0 and "energy_uj" not in self.search.objectives:
            check.fail(
                "sampler.energy_weight",
                "> 0 needs energy among the objectives: set search.objectives = "
                '["accuracy", "latency_ms", "energy_uj"] or --objectives '
                "accuracy,latency_ms,energy_uj",
            )

    @property
    def objectives(self) -> tuple[str, ...]:
        """The study's objective names, in order (`search.objectives`)."""
        return self.search.objectives

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict of the whole spec (enums as their values)."""
        plain: dict[str, Any] = to_plain(self)
        return plain


def to_plain(value: Any) -> Any:
    """A spec value as plain data: dataclasses as dicts, enums as values, tuples as lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return [to_plain(item) for item in value]
    return value
