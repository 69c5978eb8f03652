"""Property: every numeric field of a study file set to NaN, +-inf or a negative number is
refused with exit code 2 before any file exists."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from amed_opt.run import main
from amed_opt.study.spec import StudySpec


def _numeric_fields() -> list[tuple[str, str, bool]]:
    """(section, key, is a list) of every int, float or tuple-of-numbers field."""
    found = []
    for section in dataclasses.fields(StudySpec):
        hint = typing.get_type_hints(StudySpec)[section.name]
        if dataclasses.is_dataclass(hint):
            hints = typing.get_type_hints(hint)
            for field in dataclasses.fields(hint):
                kind = hints[field.name]
                is_list = typing.get_origin(kind) is tuple
                item = typing.get_args(kind)[0] if is_list else kind
                if item in (int, float):
                    found.append((section.name, field.name, is_list))
        elif hint in (int, float):
            found.append(("", section.name, False))
    return found


FIELDS = _numeric_fields()


def test_the_property_covers_every_section() -> None:
    assert {section for section, _, _ in FIELDS} >= {"", "data", "baseline", "sampler", "search"}
    assert len(FIELDS) >= 20


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(FIELDS), value=st.sampled_from(["nan", "inf", "-inf", "-1", "-0.5"]))
def test_non_finite_or_negative_numbers_exit_2_before_any_file(
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    study_with: Callable[..., Path],
    field: tuple[str, str, bool],
    value: str,
) -> None:
    section, key, is_list = field
    folder = tmp_path_factory.mktemp("case")
    study = study_with({section: f"{key} = {f'[{value}]' if is_list else value}"})
    argv = ["--study", str(study), "--results-dir", str(folder / "results")]
    argv += ["--cache-dir", str(folder / "cache"), "--no-progress"]
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not any(folder.iterdir()), "a file was written"
