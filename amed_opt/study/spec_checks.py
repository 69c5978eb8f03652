"""`SpecError` and the checks every spec section runs on itself in `__post_init__`.

A section validates its own fields, so no way of building one (the TOML loader, direct
construction, `dataclasses.replace`) skips a check. An error carries the dotted key it is about
(`sampler.temperature`); whoever knows where the value came from (the TOML loader, the command
line) adds that as the source, giving `studies/r18.toml: sampler.temperature must be > 0, got 0`.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import math
import typing
from typing import Any
from typing import NoReturn


class SpecError(ValueError):
    """A study spec is malformed: unknown key, wrong type or value out of range.

    Attributes:
        reason: What is wrong (`must be > 0, got 0`), or the whole message when there is no key.
        key: The dotted key at fault (`sampler.temperature`); empty when not about one key.
        source: Where the value came from (a file path, `command line`); empty when unknown.
    """

    def __init__(self, reason: str, *, key: str = "", source: str = "") -> None:
        self.reason = reason
        self.key = key
        self.source = source
        message = f"{key} {reason}" if key else reason
        super().__init__(f"{source}: {message}" if source else message)

    def with_source(self, source: str) -> SpecError:
        """The same error naming `source`; an error that already names one is returned as is."""
        if self.source:
            return self
        return SpecError(self.reason, key=self.key, source=source)

    def __reduce__(self) -> tuple[Any, ...]:
        rebuild = functools.partial(SpecError, key=self.key, source=self.source)
        return (rebuild, (self.reason,))


def type_name(hint: Any) -> str:
    """How an error message names the type a spec field expects."""
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    if hint in names:
        return names[hint]
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return f"one of {', '.join(str(member.value) for member in hint)} (a {hint.__name__})"
    if typing.get_origin(hint) is tuple:
        return f"a tuple, each item {type_name(typing.get_args(hint)[0])}"
    return f"a {getattr(hint, '__name__', hint)}"


class FieldChecks:
    """Checks the fields of one spec value; every failure is a `SpecError` naming the key.

    Building it checks every field's type (a bool is not an integer; an integer is a number)
    and that every number is finite. The methods then check ranges by field name.

    Args:
        spec: A spec dataclass instance.
        section: Its section in the study file (`"sampler"`); empty for top-level keys.
    """

    def __init__(self, spec: Any, section: str) -> None:
        self._spec = spec
        self._prefix = f"{section}." if section else ""
        for name, hint in _field_types(type(spec)):
            _check_type(getattr(spec, name), hint, self.key(name))

    def key(self, name: str) -> str:
        """The dotted key of field `name`."""
        return f"{self._prefix}{name}"

    def fail(self, name: str, reason: str) -> NoReturn:
        """Raise the `SpecError` for field `name`."""
        raise SpecError(reason, key=self.key(name))

    def require(self, ok: bool, name: str, reason: str) -> None:
        """Fail with `reason` unless `ok`."""
        if not ok:
            self.fail(name, reason)

    def positive(self, *names: str) -> None:
        """Each field is > 0."""
        for name in names:
            value = getattr(self._spec, name)
            self.require(value > 0, name, f"must be > 0, got {value}")

    def at_least(self, minimum: int, *names: str, note: str = "") -> None:
        """Each field is >= `minimum`; `note` explains a special value (`" (0 = no limit)"`)."""
        for name in names:
            value = getattr(self._spec, name)
            self.require(value >= minimum, name, f"must be >= {minimum}{note}, got {value}")

    def below_one(self, *names: str) -> None:
        """Each field is in [0, 1) (an SGD momentum)."""
        for name in names:
            value = getattr(self._spec, name)
            self.require(0 <= value < 1, name, f"must be in [0, 1), got {value}")

    def non_empty(self, *names: str) -> None:
        """Each (string) field is not empty."""
        for name in names:
            self.require(bool(getattr(self._spec, name)), name, "must not be empty")


_FIELD_TYPES: dict[type, tuple[tuple[str, Any], ...]] = {}


def _field_types(cls: type) -> tuple[tuple[str, Any], ...]:
    if cls not in _FIELD_TYPES:
        hints = typing.get_type_hints(cls)
        _FIELD_TYPES[cls] = tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))
    return _FIELD_TYPES[cls]


def _check_type(value: Any, hint: Any, key: str) -> None:
    if typing.get_origin(hint) is tuple:
        if not isinstance(value, tuple):
            _wrong_type(value, hint, key)
        (item_type, _ellipsis) = typing.get_args(hint)
        for index, item in enumerate(value):
            _check_type(item, item_type, f"{key}[{index}]")
        return
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            _wrong_type(value, hint, key)
        if not math.isfinite(value):
            raise SpecError(f"must be a finite number, got {value}", key=key)
        return
    if hint is int and isinstance(value, bool):
        _wrong_type(value, hint, key)
    if not isinstance(hint, type):
        raise TypeError(f"spec field {key} has an unsupported type {hint}")
    if not isinstance(value, hint):
        _wrong_type(value, hint, key)


def _wrong_type(value: Any, hint: Any, key: str) -> NoReturn:
    reason = f"must be {type_name(hint)}, got {type(value).__name__} {value!r}"
    raise SpecError(reason, key=key)
