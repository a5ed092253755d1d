"""run_parallel: the worker loop of fetch_open_documents (order, threads, errors)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import pytest

from bipro_ruv.transfer._parallel import run_parallel


def test_results_come_back_in_input_order_whatever_finishes_first() -> None:
    def work(item: int) -> int:
        time.sleep(0.001 * (item % 4))  # later items often finish before earlier ones
        return item * item

    items = list(range(40))
    assert run_parallel(work, items, 3) == [item * item for item in items]


def test_work_runs_on_at_most_the_given_number_of_threads_and_not_the_callers() -> None:
    seen: set[int] = set()
    lock = threading.Lock()

    def work(item: int) -> int:
        with lock:
            seen.add(threading.get_ident())
        time.sleep(0.002)
        return item

    run_parallel(work, list(range(30)), 3)
    assert 1 < len(seen) <= 3
    assert threading.get_ident() not in seen


def test_one_worker_or_one_item_runs_in_the_calling_thread() -> None:
    caller = threading.get_ident()
    assert run_parallel(lambda item: threading.get_ident(), [1, 2, 3], 1) == [caller] * 3
    assert run_parallel(lambda item: threading.get_ident(), [1], 3) == [caller]
    assert run_parallel(lambda item: item, [], 3) == []


class _Recorder:
    """Work that takes ``seconds`` per item and notes which items started and finished."""

    def __init__(self, seconds: float, fail_on: int | None = None) -> None:
        self.seconds = seconds
        self.fail_on = fail_on
        self.started: list[int] = []
        self.finished: list[int] = []
        self._lock = threading.Lock()

    def __call__(self, item: int) -> int:
        with self._lock:
            self.started.append(item)
        if item == self.fail_on:
            raise PermissionError("login rejected")
        time.sleep(self.seconds)
        with self._lock:
            self.finished.append(item)
        return item


def test_an_exception_stops_new_items_and_is_raised_after_the_running_ones_finish() -> None:
    work = _Recorder(0.01, fail_on=5)
    with pytest.raises(PermissionError, match="login rejected"):
        run_parallel(work, list(range(100)), 3)
    # Items already running when item 5 failed were allowed to finish; few others started.
    assert set(work.started) - {5} == set(work.finished)
    assert len(work.started) < 20


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signal delivery")
def test_ctrl_c_in_the_calling_thread_finishes_the_running_items_and_starts_no_more() -> None:
    work = _Recorder(0.02)
    # A real SIGINT while the calling thread waits for the workers. Python's own handler is
    # installed for the test: a shell starts background jobs with SIGINT ignored.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_parallel(work, list(range(500)), 3, name="interrupt-test")
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("interrupt-test")]
    assert sorted(work.started) == sorted(work.finished)  # nothing left half done
    assert 3 <= len(work.started) < 100
