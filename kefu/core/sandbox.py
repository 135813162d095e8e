"""Running untrusted parsing in a child process with a memory and CPU limit.

A hostile file can make a native reader allocate without bound (an XLSX whose only cells are A1 and
XFD1048576 made calamine ask for 512 GiB and abort the whole worker). `run_in_child(target)` forks;
the child lowers its own limits — address space (RLIMIT_AS: what the process already maps plus
`memory_mb`), CPU seconds, no core file — and runs `target(out)`, writing its results to a pipe.
The parent reads the pipe as it is written and, at the end, learns how the child ended: a child that
ran out of memory or time dies alone, and the caller turns that into a message. The child shares no
database connection (it never touches one) and leaves with `os._exit`, running no cleanup of the
parent's objects.
"""

from __future__ import annotations

import logging
import os
import resource
import signal
import sys
import traceback
from collections.abc import Callable
from typing import BinaryIO

logger = logging.getLogger("kefu.core")

EXIT_ERROR = 70


def _mapped_bytes() -> int | None:
    """Address space this process maps now (Linux), or None where unknown."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _lower_limits(memory_mb: int, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    used = int(
        resource.getrusage(resource.RUSAGE_SELF).ru_utime + resource.getrusage(resource.RUSAGE_SELF).ru_stime
    )
    limit = used + cpu_seconds
    if hard == resource.RLIM_INFINITY or limit + 5 <= hard:
        resource.setrlimit(
            resource.RLIMIT_CPU, (limit, limit + 5 if hard == resource.RLIM_INFINITY else hard)
        )
    mapped = _mapped_bytes()
    if mapped is not None:
        cap = mapped + memory_mb * 1024 * 1024
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or cap <= hard:
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


class ChildProcess:
    """The parent's side: `stream` to read, `close()` to end the child and learn how it ended."""

    def __init__(self, pid: int, stream: BinaryIO):
        self.pid = pid
        self.stream = stream
        self.status: int | None = None  # os.waitstatus_to_exitcode: < 0 is the killing signal

    def close(self, *, kill: bool = True) -> int:
        """Kill the child if it still runs (kill=True), reap it and return its exit code."""
        if self.status is None:
            if kill:
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            _, raw = os.waitpid(self.pid, 0)
            self.status = os.waitstatus_to_exitcode(raw)
            try:
                self.stream.close()
            except OSError:
                pass
        return self.status

    def wait(self) -> int:
        """Wait for the child to end by itself; its exit code (negative: killed by that signal)."""
        return self.close(kill=False)


def run_in_child(target: Callable[[BinaryIO], None], *, memory_mb: int, cpu_seconds: int) -> ChildProcess:
    """Fork; the child runs `target(out)` under the limits and exits (0 when `target` returned)."""
    read_fd, write_fd = os.pipe()
    try:  # a larger pipe (Linux): fewer hand-overs between the two processes
        import fcntl

        fcntl.fcntl(write_fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (OSError, ImportError):
        pass
    pid = os.fork()
    if pid == 0:  # the child
        code = EXIT_ERROR
        try:
            os.close(read_fd)
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM):
                signal.signal(sig, signal.SIG_DFL)
            _lower_limits(memory_mb, cpu_seconds)
            with os.fdopen(write_fd, "wb", buffering=1 << 18) as out:
                target(out)
            code = 0
        except BaseException:  # noqa: BLE001 - anything: report and leave; never return into the parent's code
            try:
                traceback.print_exc(file=sys.stderr)
            except BaseException:  # noqa: BLE001
                pass
        finally:
            os._exit(code)
    os.close(write_fd)
    return ChildProcess(pid, os.fdopen(read_fd, "rb", buffering=1 << 18))
