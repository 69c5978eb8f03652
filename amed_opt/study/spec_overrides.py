"""Command-line overrides of a loaded spec, and the stored settings a study must match."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from amed_opt.study.spec_checks import SpecError
from amed_opt.study.spec_enums import SamplerName
from amed_opt.study.spec_sections import StorageSpec
from amed_opt.study.spec_study import StudySpec
from amed_opt.study.spec_study import to_plain


COMMAND_LINE = "command line"
"""The source named by errors in command-line overrides."""


def with_overrides(
    spec: StudySpec,
    *,
    sampler: str | None = None,
    n_trials: int | None = None,
    storage: str | None = None,
    seed: int | None = None,
    hardware: str | None = None,
    data_root: str | None = None,
    objectives: Sequence[str] | None = None,
    name_suffix: str = "",
) -> StudySpec:
    """The spec with command-line overrides applied and validated.

    Args:
        spec: The loaded spec.
        sampler: A `SamplerName` value.
        n_trials: Trial budget (> 0).
        storage: Optuna storage URL.
        seed: Seed.
        hardware: Hardware preset name or path.
        data_root: Dataset folder.
        objectives: The study's objectives (`search.objectives`).
        name_suffix: Appended to the study name (used to keep one study per sampler/seed).

    Raises:
        SpecError: If an override is invalid; the message starts with `command line: `.
    """
    try:
        if sampler is not None:
            choices = [member.value for member in SamplerName]
            if sampler not in choices:
                reason = f"must be one of {', '.join(choices)}, got {sampler!r}"
                raise SpecError(reason, key="--sampler")
            named = dataclasses.replace(spec.sampler, name=SamplerName(sampler))
            spec = dataclasses.replace(spec, sampler=named)
        if n_trials is not None:
            spec = dataclasses.replace(spec, n_trials=n_trials)
        if storage is not None:
            spec = dataclasses.replace(spec, storage=StorageSpec(url=storage))
        if seed is not None:
            spec = dataclasses.replace(spec, seed=seed)
        if hardware is not None:
            spec = dataclasses.replace(
                spec, hardware=dataclasses.replace(spec.hardware, preset=hardware)
            )
        if data_root is not None:
            spec = dataclasses.replace(spec, data=dataclasses.replace(spec.data, root=data_root))
        if objectives is not None:
            search = dataclasses.replace(spec.search, objectives=tuple(objectives))
            spec = dataclasses.replace(spec, search=search)
        if name_suffix:
            spec = dataclasses.replace(spec, name=spec.name + name_suffix)
    except SpecError as error:  # each value checks itself as it is built
        raise error.with_source(COMMAND_LINE) from None
    return spec


def effective_settings(spec_dict: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a stored spec (`StudySpec.to_dict()`) that can change a trial's result.

    Used to decide whether an existing study may be resumed and whether its measurements can
    be reused. The trial budget is left out (it may grow between runs), and so is the storage
    URL (two spellings of one file, or a URL whose password changed, hold the same study); so are
    the QAT
    optimiser settings when no QAT step is taken (`steps_per_trial == 0`): changing the
    learning-rate default must not orphan studies whose trials never used it. A section key
    the stored spec lacks (a setting added since) counts at its default, which is what that
    study ran with.
    """
    settings = {
        key: value for key, value in spec_dict.items() if key not in ("n_trials", "storage")
    }
    for section in dataclasses.fields(StudySpec):
        stored = settings.get(section.name)
        if isinstance(stored, Mapping) and section.default_factory is not dataclasses.MISSING:
            defaults = to_plain(section.default_factory())
            settings[section.name] = {**defaults, **stored}
    evaluator = settings.get("evaluator")
    if isinstance(evaluator, Mapping) and evaluator.get("steps_per_trial") == 0:
        settings["evaluator"] = {
            key: value for key, value in evaluator.items() if key not in ("lr", "momentum")
        }
    return settings
