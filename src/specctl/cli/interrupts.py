"""Ctrl-C and SIGTERM during a batch (SPEC "Interrupts"): the slug in hand is finished, then
the batch stops, prints what it did and exits 130 (143 for SIGTERM). A second Ctrl-C stops at
once: every point of approve is one a re-run recovers from, the store records each POST first."""

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Interrupt:
    """Called between slugs: True once a SIGINT or SIGTERM arrived."""

    def __init__(self) -> None:
        self.signal: int | None = None

    def __call__(self) -> bool:
        return self.signal is not None

    @property
    def exit_code(self) -> int:
        return 128 + (self.signal or 0)  # as a shell reports a process killed by that signal

    def handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signal is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt  # pressed twice: the person does not want to wait
        self.signal = signum


@contextmanager
def finish_the_slug_in_hand() -> Iterator[Interrupt]:
    """Defer SIGINT and SIGTERM to the next safe point while the block runs."""
    interrupt = Interrupt()
    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield interrupt
        return
    previous = {s: signal.signal(s, interrupt.handle) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield interrupt
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
