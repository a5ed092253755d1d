"""The worker loop of ``fetch_open_documents``: items on a few threads, results in order."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar, cast

from bipro_ruv.errors import Interrupted

__all__ = ["run_parallel"]

_In = TypeVar("_In")
_Out = TypeVar("_Out")


def run_parallel(
    work: Callable[[_In], _Out], items: Sequence[_In], workers: int, *, name: str = "worker"
) -> list[_Out]:
    """``[work(item) for item in items]`` on ``workers`` threads, results in input order.

    Each thread takes the next item as soon as it is free, and the calling thread only
    waits for the end. (``ThreadPoolExecutor.map`` wakes the caller once per item to hand
    it each result, a thread switch per shipment that costs measurable CPU when the work
    items are small.) The first exception stops the other threads from taking new items
    and is raised here once the items in progress are finished. So does an interruption
    of the calling thread (Ctrl-C), as :class:`Interrupted` with the results so far: no item
    is left half done behind its back. (With one worker the item in progress runs in the
    calling thread, so Ctrl-C stops it where it is, as a crash would.)
    """
    results: list[_Out | None] = [None] * len(items)
    if workers <= 1 or len(items) <= 1:
        try:
            for index, item in enumerate(items):
                results[index] = work(item)
        except KeyboardInterrupt as exc:
            raise Interrupted(list(results)) from exc
        return cast("list[_Out]", results)
    pending = iter(enumerate(items))
    lock = threading.Lock()
    stop = threading.Event()
    all_done = threading.Event()
    errors: list[BaseException] = []
    count = running = min(workers, len(items))

    def loop() -> None:
        nonlocal running
        try:
            while not stop.is_set():
                with lock:
                    taken = next(pending, None)
                if taken is None:
                    return
                index, item = taken
                try:
                    results[index] = work(item)
                except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread
                    errors.append(exc)
                    stop.set()
                    return
        finally:
            with lock:
                running -= 1
                if running == 0:
                    all_done.set()

    threads = [threading.Thread(target=loop, name=f"{name}-{number}") for number in range(count)]
    for thread in threads:
        thread.start()
    # An Event, not Thread.join(): on CPython 3.11 a Ctrl-C that interrupts join() can mark a
    # thread that is still running as stopped, and a second join() would then not wait for it.
    try:
        all_done.wait()
    except KeyboardInterrupt as exc:
        stop.set()  # let the items in progress finish, start no more
        all_done.wait()
        raise Interrupted(list(results)) from exc
    except BaseException:
        stop.set()
        all_done.wait()
        raise
    finally:
        for thread in threads:
            thread.join()
    if errors:
        raise errors[0]
    return cast("list[_Out]", results)
