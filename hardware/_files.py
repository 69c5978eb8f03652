"""Writing the hardware command line's output atomically (the package imports no amed_opt).

The text goes to a unique temporary file in the target's folder, which is then renamed into
place: a reader never sees half a report, a failed write (disk full) leaves the old file as it
was, and two processes writing the same target do not share a temporary name.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


__all__ = ["atomic_write_text"]


def atomic_write_text(path: str | Path, text: str) -> None:
    """Create or replace `path` with `text` (UTF-8); the folder must exist.

    Raises:
        OSError: If the folder is missing or not writable, or the disk is full; the target is
            then unchanged and no temporary file is left.
    """
    target = Path(path)
    # O_EXCL on a random name rather than tempfile.mkstemp: the file gets the mode any new file
    # gets (0666 less the umask), not mkstemp's private 0600.
    name = target.with_name(f".{target.name}.{secrets.token_hex(8)}.partial")
    descriptor = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.replace(name, target)
    finally:
        Path(name).unlink(missing_ok=True)
