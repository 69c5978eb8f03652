"""A comparison worker's SIGINT handling, in this process (no signal is installed or sent)."""

from __future__ import annotations

import gc
import logging
import sys
import weakref
from collections.abc import Iterator

import pytest

from amed_opt.compare._interrupts import WorkerInterrupts


@pytest.fixture
def interrupts(monkeypatch: pytest.MonkeyPatch) -> Iterator[WorkerInterrupts]:
    """A fresh handler as this process's unraisable hook; logging restored afterwards."""
    handler = WorkerInterrupts()
    monkeypatch.setattr(sys, "unraisablehook", handler.unraisable)
    yield handler
    logging.disable(logging.NOTSET)


class _Thing:
    pass


def test_the_first_interrupt_raises_and_later_ones_are_ignored(
    interrupts: WorkerInterrupts,
) -> None:
    with pytest.raises(KeyboardInterrupt):
        interrupts.handle(2, None)
    interrupts.handle(2, None)  # the terminal's and the parent's SIGINT: one interrupt
    assert logging.root.manager.disable == logging.CRITICAL  # the worker logs nothing more


def test_an_interrupt_dropped_in_a_gc_callback_is_quiet_and_the_next_one_raises(
    interrupts: WorkerInterrupts, capsys: pytest.CaptureFixture[str]
) -> None:
    """The flaky killed-worker test: SIGINT landed in a weak-reference callback, Python printed
    'Exception ignored in ...' with a traceback and dropped the interrupt."""
    thing = _Thing()
    ref = weakref.ref(thing, lambda _: interrupts.handle(2, None))
    del thing
    gc.collect()
    assert ref() is None
    assert capsys.readouterr().err == ""
    with pytest.raises(KeyboardInterrupt):  # re-armed: the parent's next SIGINT interrupts
        interrupts.handle(2, None)


def test_other_unraisable_exceptions_go_to_python_s_hook(
    interrupts: WorkerInterrupts, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[BaseException | None] = []
    monkeypatch.setattr(sys, "__unraisablehook__", lambda args: seen.append(args.exc_value))
    thing = _Thing()
    ref = weakref.ref(thing, lambda _: 1 / 0)
    del thing
    gc.collect()
    assert ref() is None
    assert len(seen) == 1 and isinstance(seen[0], ZeroDivisionError)
    assert not interrupts.interrupted


def test_an_interrupt_while_sending_is_raised_once_the_message_is_out(
    interrupts: WorkerInterrupts,
) -> None:
    sent: list[object] = []

    class _Pipe:
        def send(self, message: object) -> None:
            interrupts.handle(2, None)  # arrives mid-send
            sent.append(message)

    with pytest.raises(KeyboardInterrupt):
        interrupts.send(_Pipe(), "progress")  # type: ignore[arg-type]
    assert sent == ["progress"]
