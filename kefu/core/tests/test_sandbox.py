"""kefu.core.sandbox: a child that dies (abort, out of memory) takes only itself down."""

from __future__ import annotations

import os
import signal

from kefu.core.sandbox import run_in_child


def test_child_streams_its_output_and_exits_zero():
    child = run_in_child(lambda out: out.write(b"hello\n" * 10000), memory_mb=256, cpu_seconds=30)
    assert child.stream.read() == b"hello\n" * 10000
    assert child.wait() == 0


def test_the_sparse_workbook_that_aborted_the_worker_aborts_only_the_child(tmp_path):
    """calamine on A1 + XFD1048576 asks for 512 GiB and aborts (signal 6): here, in the child only."""
    from kefu.customers.tests.hostile_files import sparse_xlsx

    path = sparse_xlsx(tmp_path / "sparse.xlsx")

    def read(out):
        import faulthandler

        from python_calamine import CalamineWorkbook

        faulthandler.disable()
        os.dup2(os.open(os.devnull, os.O_WRONLY), 2)  # calamine's backtrace
        CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Sheet1")
        out.write(b"survived")

    child = run_in_child(read, memory_mb=256, cpu_seconds=30)
    assert child.stream.read() == b""
    assert child.wait() == -signal.SIGABRT


def test_memory_limit_stops_a_greedy_child():
    def greedy(out):
        try:
            blocks = [bytearray(64 << 20) for _ in range(64)]  # 4 GiB
        except MemoryError:
            out.write(b"refused")
            return
        out.write(str(len(blocks)).encode())

    child = run_in_child(greedy, memory_mb=128, cpu_seconds=30)
    assert child.stream.read() == b"refused"
    assert child.wait() == 0


def test_close_kills_a_child_that_still_runs():
    child = run_in_child(lambda out: signal.pause(), memory_mb=64, cpu_seconds=30)
    assert child.close() == -signal.SIGKILL
