"""How a comparison worker process takes Ctrl-C (`amed_opt.compare._workers`).

The first SIGINT raises `KeyboardInterrupt`; later ones are ignored (a Ctrl-C reaches a worker
both from the terminal and from the parent). One that arrives while a message is being sent is
raised once the message is out, so an interrupt never leaves half a message in the pipe. Once
interrupted, the worker logs nothing, not even the tracebacks of Optuna's and SQLAlchemy's
cut-short work: the parent says what happened.

An interrupt can also land where Python cannot raise it, in a garbage-collection callback (seen
in SQLAlchemy's weak-reference callbacks): Python then prints "Exception ignored in ..." with a
traceback and drops it, and the worker would go on, deaf to further SIGINTs. The worker's
unraisable hook keeps that quiet and re-arms the handler, so the parent's next SIGINT (it sends
one every second) interrupts the worker.
"""

from __future__ import annotations

import logging
import signal
import sys
from typing import TYPE_CHECKING


if TYPE_CHECKING:
    from multiprocessing.connection import Connection

__all__ = ["WorkerInterrupts"]


class WorkerInterrupts:
    """One worker's SIGINT state; `install` it in the worker process."""

    def __init__(self) -> None:
        self.interrupted = False
        self.sending = False
        self.deferred = False

    def install(self) -> None:
        """Take over SIGINT and the unraisable-exception hook of this process."""
        signal.signal(signal.SIGINT, self.handle)
        sys.unraisablehook = self.unraisable

    def handle(self, signum: int, frame: object) -> None:
        if self.interrupted:
            return
        self.interrupted = True
        logging.disable(logging.CRITICAL)
        if self.sending:
            self.deferred = True
            return
        raise KeyboardInterrupt

    def unraisable(self, unraisable: sys.UnraisableHookArgs) -> None:
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            self.interrupted = False  # it was dropped: the next SIGINT raises again
            return
        sys.__unraisablehook__(unraisable)

    def send(self, connection: Connection, message: object) -> None:
        """`connection.send(message)`, with an interrupt during it raised afterwards."""
        self.sending = True
        try:
            connection.send(message)
        finally:
            self.sending = False
        if self.deferred:
            self.deferred = False
            raise KeyboardInterrupt
