"""SIGINT, SIGTERM and SIGHUP: unwind, remove temporaries, exit 128 + the signal, no traceback.

The handler raises ``Interrupted`` in the main thread, so every writer's cleanup runs as for
any exception. But a Python handler runs only when the main thread runs Python code, and a
main thread waiting inside pyarrow (a CSV reader blocked on a silent pipe) never does. So a
watcher thread also hears every signal (through the interpreter's wakeup fd) and, if the
process is still alive after a grace period, removes the temporaries itself and ends it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
import threading
import time
from collections.abc import Callable

SIGINT = signal.SIGINT
SIGNALS = (SIGINT, signal.SIGTERM, signal.SIGHUP)
GRACE_S = 2.0  # the main thread's time to start unwinding before the watcher ends the process
UNWIND_S = 20.0  # once it has started (a Dask cluster shutting down takes seconds): its time to finish
_heard = threading.Event()  # the main thread has run the handler and is unwinding
_said = threading.Event()


class Interrupted(BaseException):
    """A signal arrived; a BaseException, so Click (which turns KeyboardInterrupt into
    "Aborted!" and exit 1) and ``except Exception`` let it through."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise(signum: int, frame: object) -> None:
    _heard.set()
    raise Interrupted(signum)


def install() -> None:
    """Handlers for the three signals (unless ignored, as under nohup) and the watcher."""
    handled = [s for s in SIGNALS if signal.getsignal(s) is not signal.SIG_IGN]
    for signum in handled:
        signal.signal(signum, _raise)
    # A pipe on POSIX (the socket module costs a few ms of every start); Windows needs a socket.
    if os.name == "posix":
        read_end, write_end = os.pipe()
        os.set_blocking(write_end, False)
        recv = functools.partial(os.read, read_end, 1)
        signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    else:  # pragma: no cover - Windows
        import socket

        ours, theirs = socket.socketpair()
        ours.setblocking(False)
        signal.set_wakeup_fd(ours.fileno(), warn_on_full_buffer=False)
        _KEEP.append(ours)  # the write end stays open as long as the process
        recv = functools.partial(theirs.recv, 1)
    watcher = threading.Thread(target=_watch, args=(recv,), name="losscli-signals", daemon=True)
    watcher.start()


_KEEP: list[object] = []


def _watch(recv: Callable[[], bytes]) -> None:
    while True:
        data = recv()
        if data and data[0] in SIGNALS:
            break
    time.sleep(GRACE_S)
    if _heard.is_set():
        time.sleep(UNWIND_S)
    end(data[0])


def stop_listening() -> None:
    """After the first signal: a second one (an impatient ^C) must not start a second unwinding."""
    for signum in SIGNALS:
        with contextlib.suppress(ValueError, OSError):
            signal.signal(signum, signal.SIG_IGN)


def say_interrupted(signum: int) -> None:
    if _said.is_set():
        return
    _said.set()
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stderr.write(f"losscli: interrupted ({signal.Signals(signum).name})\n")
        sys.stderr.flush()


def remove_temporaries() -> None:
    """The output temporaries still registered, removed (if a writer was ever imported)."""
    writers = sys.modules.get("losscli.report.writers")
    if writers is not None:
        writers.remove_temporaries()


def end(signum: int) -> None:
    """The last resort: the temporaries removed, the message said, the process ended now."""
    remove_temporaries()
    say_interrupted(signum)
    os._exit(128 + signum)
