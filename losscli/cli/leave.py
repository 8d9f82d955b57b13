"""End a finished command-line run without the interpreter's teardown.

A run has written its results when ``app()`` returns; what Python does after that (a
garbage collection over every object of NumPy, pyarrow and Typer, module teardown, thread
pools joined) costs about 80 ms of a 0.5 s run and produces nothing. When nothing can still
be pending, the process ends at once with its exit code: the standard streams flushed, no
thread but daemons alive, no Dask cluster whose processes want a clean shutdown. Otherwise
(or when flushing fails, whose reporting is the interpreter's) it exits the usual way.
"""

from __future__ import annotations

import os
import sys
import threading


def leave_now(code: object) -> None:
    """``os._exit(code)`` when that loses nothing; returns when it would (the caller re-raises)."""
    if code is None:
        code = 0
    if not isinstance(code, int) or isinstance(code, bool) or "distributed" in sys.modules:
        return
    workers = sys.modules.get("losscli.core.workers")
    if workers is not None:
        workers.shutdown()  # idle pool threads end here, so the check below sees only the rest
    main = threading.main_thread()
    if any(t is not main and not t.daemon and t.is_alive() for t in threading.enumerate()):
        return
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        return
    os._exit(code)
