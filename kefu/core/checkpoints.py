"""Named checkpoints for the fault tests: a real worker tells the test where it is, and can be held
there until the test kills it (no sleeps to guess timing).

Off unless the environment names a FIFO in KEFU_TEST_CHECKPOINTS (only the tests in
`kefu/tests/test_worker_faults.py` do). Then `checkpoint(name)` writes "name n pid" (n: how many
times this process reached it) to the FIFO, and if KEFU_TEST_BLOCK_AT lists `name` or `name@n`,
the calling thread waits for ever at that point — holding whatever it holds, as a worker
that is killed there would.
"""

from __future__ import annotations

import os
import threading
from collections import Counter

ENV_FIFO = "KEFU_TEST_CHECKPOINTS"
ENV_BLOCK = "KEFU_TEST_BLOCK_AT"

_counts: Counter[str] = Counter()
_lock = threading.Lock()


def checkpoint(name: str) -> None:
    """Report reaching `name` (see the module docstring); does nothing in normal operation."""
    path = os.environ.get(ENV_FIFO)
    if not path:
        return
    with _lock:
        _counts[name] += 1
        n = _counts[name]
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:  # nobody listening
        return
    try:
        os.write(fd, f"{name} {n} {os.getpid()}\n".encode())
    finally:
        os.close(fd)
    blocked = {b.strip() for b in os.environ.get(ENV_BLOCK, "").split(",") if b.strip()}
    if name in blocked or f"{name}@{n}" in blocked:
        threading.Event().wait()
