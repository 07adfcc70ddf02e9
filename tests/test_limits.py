"""Untrusted work in forked children: time and memory caps, crashes reported, nothing leaked."""

import os
import signal
import time

import pytest

from derive.errors import DeriveError
from derive.limits import (
    InternalError,
    MemoryLimitExceeded,
    MiB,
    TimeLimitExceeded,
    run_each,
    run_limited,
)

SMALL = 64 * MiB  # a memory cap the tests hit at once


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _children() -> set[int]:
    """This process's living children (other tests in the same worker may have their own)."""
    found = set()
    for task in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{task}/children") as listing:
            found |= {int(pid) for pid in listing.read().split()}
    return found


_BEFORE: set[int] = set()


def _no_children_left() -> bool:
    """No child that run_each started is still alive (or unreaped: a zombie is still listed)."""
    return not (_children() - _BEFORE)


@pytest.fixture(autouse=True)
def _children_before():
    _BEFORE.clear()
    _BEFORE.update(_children())


def work(item):
    """Test-only behaviours of a child, one per item."""
    if item == "loop":
        while True:
            pass
    if item == "sleep":
        time.sleep(60)
    if item == "memory":
        hoard = []
        while True:
            hoard.append(bytearray(8 * MiB))
    if item == "huge":
        return bytearray(10**12)
    if item == "bug":
        raise KeyError("no such thing")
    if item == "refused":
        raise DeriveError("bad input, one line")
    if item == "exit":
        os._exit(7)
    if item == "segfault":
        os.kill(os.getpid(), signal.SIGSEGV)
    if item == "recursion":

        def deeper(n):
            return deeper(n + 1) + 1

        return deeper(0)
    if item == "big":
        return b"x" * (3 * MiB)  # far more than a pipe holds: read while the child writes
    return item * 2


def test_run_limited_result_and_errors():
    assert run_limited(work, 21, seconds=5) == 42
    with pytest.raises(DeriveError, match="bad input, one line"):
        run_limited(work, "refused", seconds=5)
    with pytest.raises(TimeLimitExceeded, match="the answer took longer than 0.3 s; simplify it"):
        run_limited(work, "loop", seconds=0.3, what="the answer")
    with pytest.raises(
        MemoryLimitExceeded, match=r"^the answer used more than 64 MiB; simplify it$"
    ):
        run_limited(work, "memory", seconds=10, what="the answer", memory=SMALL)
    with pytest.raises(MemoryLimitExceeded):
        run_limited(work, "huge", seconds=10, memory=SMALL)
    with pytest.raises(DeriveError, match="nested too deeply"):
        run_limited(work, "recursion", seconds=10)


def test_an_unexpected_exception_is_an_internal_error_not_a_verdict():
    with pytest.raises(InternalError, match="KeyError: 'no such thing'") as caught:
        run_limited(work, "bug", seconds=5, what="checking")
    assert not isinstance(caught.value, DeriveError)
    assert "\n" not in str(caught.value)
    for item in ("exit", "segfault"):
        with pytest.raises(InternalError, match="the worker stopped"):
            run_limited(work, item, seconds=5)


def test_run_each_reports_every_item_and_a_bad_one_does_not_stop_the_batch():
    items = ["loop", 1, "memory", 2, "bug", 3, "segfault", "big", "refused", "exit", 4, "sleep", 5]
    started = time.monotonic()
    results = {
        index: (ok, value)
        for index, ok, value in run_each(work, items, 3, seconds=2.0, memory=SMALL)
    }
    assert time.monotonic() - started < 15  # two items of 2 s each, the others quick
    assert sorted(results) == list(range(len(items)))
    kinds = {items[i]: (type(v).__name__ if not ok else v) for i, (ok, v) in results.items()}
    assert kinds["loop"] == kinds["sleep"] == "TimeLimitExceeded"
    assert kinds["memory"] == "MemoryLimitExceeded"
    assert kinds["bug"] == kinds["segfault"] == kinds["exit"] == "InternalError"
    assert kinds["refused"] == "DeriveError"
    assert kinds["big"] == b"x" * (3 * MiB)
    assert [kinds[n] for n in (1, 2, 3, 4, 5)] == [2, 4, 6, 8, 10]


def test_workers_run_at_once():
    started = time.monotonic()
    slow = lambda seconds: time.sleep(seconds) or seconds  # noqa: E731 - children inherit it (fork)
    assert sorted(v for _, _, v in run_each(slow, [0.4] * 4, 4, seconds=5)) == [0.4] * 4
    assert time.monotonic() - started < 1.2  # one at a time would take 1.6 s


def test_no_descriptor_or_child_leaks_over_200_calls():
    before = _open_fds()
    items = [i if i % 50 else ("loop", "bug", "segfault", "memory")[i // 50] for i in range(200)]
    outcomes = [ok for _, ok, _ in run_each(work, items, 4, seconds=1.0, memory=SMALL)]
    assert len(outcomes) == 200 and outcomes.count(False) == 4
    for item in (1, "loop", "bug", "refused"):
        try:
            run_limited(work, item, seconds=0.2)
        except (DeriveError, InternalError):
            pass
    assert _open_fds() == before
    assert _no_children_left()


def test_stopping_early_kills_and_reaps_the_children():
    before = _open_fds()
    batch = run_each(work, [1, "sleep", "sleep", "sleep"], 4, seconds=60)
    first = next(batch)
    assert first[1] is True
    batch.close()
    assert _open_fds() == before
    assert _no_children_left()
