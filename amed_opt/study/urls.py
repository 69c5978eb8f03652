"""Storage URLs as amed-opt shows them: passwords redacted, commands that read the environment.

A storage URL may hold a database password. It is never printed, logged or stored: messages and
the study's stored spec use `redact_url`, and commands printed for the user to paste read the URL
from `AMED_OPT_STORAGE` (`shell_storage`). No imports beyond SQLAlchemy's URL parser.
"""

from __future__ import annotations

import re

import sqlalchemy


__all__ = ["STORAGE_ENV", "error_reason", "has_password", "redact_url", "shell_storage"]

STORAGE_ENV = "AMED_OPT_STORAGE"
"""Environment variable the command lines read a storage URL from (keeps passwords out of argv
and shell history)."""


def redact_url(url: str) -> str:
    """`url` with its password replaced by `***`, for every message, log line and stored spec.

    A URL SQLAlchemy cannot parse is redacted by pattern (`scheme://user:***@`), so a typo in
    the URL does not leak the password either.
    """
    try:
        parsed = sqlalchemy.engine.make_url(url)
    except Exception:  # an unparsable URL: redact by pattern
        return re.sub(r"(://[^/:@]*:)[^@/]*@", r"\1***@", url)
    if parsed.password is None:
        return url
    return parsed.render_as_string(hide_password=True)


def has_password(url: str) -> bool:
    """Whether `url` holds a password (then commands printed for the user read it from the
    environment instead, see `shell_storage`)."""
    return redact_url(url) != url


def shell_storage(url: str) -> str:
    """`url` as a shell word for a command printed for the user to paste: `"$AMED_OPT_STORAGE"`
    when the URL holds a password (which must not be printed), else the URL, quoted."""
    import shlex

    return f'"${STORAGE_ENV}"' if has_password(url) else shlex.quote(url)


def _password(url: str) -> str | None:
    try:
        return sqlalchemy.engine.make_url(url).password
    except Exception:  # unparsable: no password to scrub
        return None


def error_reason(error: BaseException, url: str) -> str:
    """The first line of `error`, without the URL's password should a driver quote it."""
    reason = (str(error).splitlines() or [type(error).__name__])[0]
    password = _password(url)
    return reason.replace(password, "***") if password else reason
