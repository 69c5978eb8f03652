"""Writing result files: atomically, and as plain JSON.

Every file amed-opt writes (caches, CSV/JSON exports, reports, figures) goes to a unique
temporary file in the target's folder and is renamed into place, so a reader never sees half a
file, a killed run leaves none behind, and two workers writing the same target do not share a
temporary name. `json_ready` is the one conversion of our values (dataclasses, enums, paths,
non-finite floats) into JSON data.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import os
import secrets
import sys
from collections.abc import Callable
from collections.abc import Mapping
from pathlib import Path
from typing import Any


__all__ = [
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_text",
    "json_ready",
    "write_json",
    "write_or_print",
]


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Create or replace `path` by calling `write(temporary_path)`, then renaming.

    The temporary file is unique (several processes may write the same target at once) and lies
    in the target's folder (a rename within one file system is atomic); it is removed when
    `write` fails. The folder must exist.
    """
    partial = _unique_partial(path)
    try:
        write(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _unique_partial(path: Path) -> Path:
    """A new, empty file beside `path` with a name no other writer uses.

    Unlike `tempfile.mkstemp` (always 0600), the file gets the mode any new file gets (0666 less
    the umask), so results are as readable as if written in place.
    """
    while True:
        partial = path.with_name(f".{path.name}.{secrets.token_hex(8)}.partial")
        try:
            os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:  # pragma: no cover - 64 random bits
            continue
        return partial


def atomic_write_text(path: Path, text: str) -> None:
    """`atomic_write` of UTF-8 text."""
    atomic_write(path, lambda partial: partial.write_text(text, encoding="utf-8"))


def write_or_print(text: str, out: Path | None) -> None:
    """Write `text` to `out` (its folder created, the file replaced whole) or, without `out`,
    to standard output."""
    if out is None:
        sys.stdout.write(text)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, text)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """`atomic_write` of bytes."""
    atomic_write(path, lambda partial: partial.write_bytes(data))


def json_ready(value: Any) -> Any:
    """`value` as plain JSON data: dataclasses and mappings to dicts, paths to strings, enums to
    their values, NaN and infinities to `None` (strict JSON has no non-finite numbers)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_ready(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


def write_json(path: Path, value: Any) -> None:
    """Write `json_ready(value)` to `path` atomically, indented, with a final newline."""
    atomic_write_text(path, json.dumps(json_ready(value), indent=2) + "\n")
