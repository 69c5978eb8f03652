"""Study files: finding them (`studies/r18.toml`) and reading them into a `StudySpec`.

Every key must be known and every value of the right type; the sections then check their own
ranges. An error names the file, the key and the reason
(`studies/r18.toml: sampler.temperature must be > 0, got 0`).
"""

from __future__ import annotations

import dataclasses
import enum
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from amed_opt.study.spec_checks import SpecError
from amed_opt.study.spec_checks import type_name
from amed_opt.study.spec_study import StudySpec


STUDIES_DIR = Path(__file__).resolve().parents[2] / "studies"


def available_studies() -> list[str]:
    """Names of the study files shipped in `studies/`."""
    return sorted(path.stem for path in STUDIES_DIR.glob("*.toml"))


def resolve_study_path(name_or_path: str) -> Path:
    """`"r18"` → `studies/r18.toml`; an existing path is returned as it is.

    Raises:
        FileNotFoundError: If neither a study name nor an existing file matches.
    """
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise FileNotFoundError(f"study file {str(path)!r} does not exist")
        return path
    candidate = STUDIES_DIR / f"{name_or_path}.toml"
    if candidate.is_file():
        return candidate
    known = ", ".join(available_studies()) or "none"
    raise FileNotFoundError(
        f"unknown study {name_or_path!r}: pass a path to a .toml file or one of: {known}"
    )


def load_spec(name_or_path: str) -> StudySpec:
    """Read and validate a study file.

    Args:
        name_or_path: A study name from `studies/` (`"r18"`) or a path to a TOML file.

    Returns:
        The validated, frozen spec.

    Raises:
        FileNotFoundError: If the study does not exist.
        SpecError: If the file is not valid TOML or does not match the schema; the message names
            the file, the key and the reason.
    """
    path = resolve_study_path(name_or_path)
    try:
        with path.open("rb") as stream:
            table = tomllib.load(stream)
    except tomllib.TOMLDecodeError as error:
        raise SpecError(f"not valid TOML: {error}", source=str(path)) from None
    return parse_spec(table, source=str(path))


def parse_spec(table: Mapping[str, Any], *, source: str = "<spec>") -> StudySpec:
    """Validate a TOML-like mapping into a `StudySpec` (see `load_spec`)."""
    spec: StudySpec = _build(StudySpec, table, source=source, prefix="")
    return spec


def _build(cls: type[Any], table: Any, *, source: str, prefix: str) -> Any:
    section = prefix.rstrip(".") or "top level"
    if not isinstance(table, Mapping):
        raise SpecError(f"[{section}] must be a table, got {type(table).__name__}", source=source)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(table) - set(fields))
    if unknown:
        raise SpecError(
            f"unknown key '{prefix}{unknown[0]}' in [{section}]; known keys: {', '.join(fields)}",
            source=source,
        )
    values: dict[str, Any] = {}
    for name, spec_field in fields.items():
        key = f"{prefix}{name}"
        if name not in table:
            no_default = spec_field.default is dataclasses.MISSING
            if no_default and spec_field.default_factory is dataclasses.MISSING:
                raise SpecError(f"missing required key {key!r}", source=source)
            continue
        values[name] = _convert(hints[name], table[name], source=source, key=key)
    try:
        return cls(**values)
    except SpecError as error:  # a range check of the section's own `__post_init__`
        raise error.with_source(source) from None


def _convert(hint: Any, value: Any, *, source: str, key: str) -> Any:
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build(hint, value, source=source, prefix=f"{key}.")
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        choices = [member.value for member in hint]
        if value not in choices:
            reason = f"must be one of {', '.join(map(str, choices))}, got {value!r}"
            raise SpecError(reason, key=key, source=source)
        return hint(value)
    origin = typing.get_origin(hint)
    if origin is tuple:
        (item_type, _ellipsis) = typing.get_args(hint)
        if not isinstance(value, list):
            reason = f"must be a list, got {type(value).__name__}"
            raise SpecError(reason, key=key, source=source)
        return tuple(
            _convert(item_type, item, source=source, key=f"{key}[{index}]")
            for index, item in enumerate(value)
        )
    if origin in (typing.Union, types.UnionType):
        raise TypeError(f"spec field {key} has an unsupported union type {hint}")
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (bool, int, float, str):
        if isinstance(value, hint) and not (hint is int and isinstance(value, bool)):
            return value
        reason = f"must be {type_name(hint)}, got {type(value).__name__} {value!r}"
        raise SpecError(reason, key=key, source=source)
    raise TypeError(f"spec field {key} has an unsupported type {hint}")
