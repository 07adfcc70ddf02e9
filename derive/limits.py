"""Running untrusted work under a time limit and a memory limit.

A student's LaTeX can ask for 2^{10^{10^{10}}}; SymPy would try. Parsing and judging such
input runs in a forked child that is killed when its time is up and that cannot allocate more
than its memory allowance, so the caller always gets an answer (or a one-line error) in
bounded time and space.

* ``run_limited(fn, *args, seconds=…)``: one call in one child; its result, or the DeriveError
  it raised, or TimeLimitExceeded / MemoryLimitExceeded, or InternalError for anything else.
* ``run_each(fn, items, workers=…)``: fn(item) for many items, up to ``workers`` children at
  once (no threads: the parent polls the children's pipes), results in completion order.

The children are plain ``os.fork`` children: they inherit the parent's memory (warm caches,
the questions' expected answers), send back one pickle through a pipe and leave with
``os._exit``. Every pipe end is closed and every child reaped on every path, including
timeouts, crashes, and a caller that stops iterating early.
"""

from __future__ import annotations

import ctypes
import faulthandler
import gc
import os
import pickle
import resource
import select
import signal
import time
from typing import Any, Callable, Iterable, Iterator

from derive.errors import DeriveError

MiB = 2**20
DEFAULT_MEMORY = 1536 * MiB  # what a child may allocate beyond what it inherited
_READ = 1 << 16
_OK, _REFUSED, _INTERNAL = "ok", "refused", "internal"


class TimeLimitExceeded(DeriveError):
    """The work did not finish in its time."""


class MemoryLimitExceeded(DeriveError):
    """The work needed more memory than it may use."""


class InternalError(Exception):
    """The work failed in a way that is a bug (not bad input): report it, exit status 3.

    Deliberately not a DeriveError, so that callers cannot mistake it for a verdict on the input.
    """


# The child ------------------------------------------------------------------------------------
_PR_SET_PDEATHSIG = 1
try:  # looked up once, in the parent: a forked child (or a Popen preexec_fn) only calls it
    _prctl: Callable[..., int] | None = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # pragma: no cover - not Linux
    _prctl = None


def die_with_parent(signum: int = signal.SIGKILL, parent: int | None = None) -> None:
    """In a child: the kernel sends it ``signum`` when the thread that forked it ends, so that a
    parent killed with SIGKILL (no clean-up of its own runs) leaves no child working on (Linux
    PR_SET_PDEATHSIG; a no-op elsewhere). ``parent``: the pid expected as the parent; if it is
    already gone (it died before the call), the signal is sent at once."""
    if _prctl is None or _prctl(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0) != 0:
        return
    if parent is not None and os.getppid() != parent:
        os.kill(os.getpid(), signum)


def _address_space() -> int:
    """The current size of this process's address space in bytes (0 when unknown)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def _set_limits(seconds: float, memory: int | None) -> None:
    """In the child: a memory cap above what it inherited, and a CPU-time backstop.

    The CPU limit only matters when the parent is gone (it kills overdue children itself):
    SIGXCPU then ends a child that would otherwise run on unsupervised.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's business; it kills us
    if faulthandler.is_enabled():  # a crash is reported by the parent in one line, not as a dump
        faulthandler.disable()
    signal.signal(signal.SIGXCPU, signal.SIG_DFL)
    if memory is not None:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = _address_space() + memory
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    if seconds is not None and seconds > 0:
        cpu = int(seconds) + 2
        soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        if hard == resource.RLIM_INFINITY or cpu < hard:
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, hard))


def _outcome(fn: Callable, args: tuple, what: str, memory: int | None) -> tuple[str, Any]:
    try:
        return _OK, fn(*args)
    except DeriveError as error:  # expected failures keep their type and message
        return _REFUSED, error
    except MemoryError:
        return _REFUSED, MemoryLimitExceeded(_memory_message(what, memory))
    except RecursionError:
        return _REFUSED, DeriveError(f"{what} is nested too deeply; simplify it")
    except BaseException as error:  # noqa: BLE001 - a bug: reported to the parent as one line
        return _INTERNAL, _one_line(error)


def _memory_message(what: str, memory: int | None) -> str:
    return f"{what} used more than {(memory or 0) // MiB} MiB; simplify it"


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def _encode(outcome: tuple[str, Any], what: str, memory: int | None) -> bytes:
    try:
        return pickle.dumps(outcome, pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        return pickle.dumps((_REFUSED, MemoryLimitExceeded(_memory_message(what, memory))))
    except Exception as error:  # noqa: BLE001 - an unpicklable result or error
        kind, value = outcome
        if kind == _REFUSED:  # a DeriveError subclass that does not pickle: keep its message
            return pickle.dumps((_REFUSED, DeriveError(str(value))))
        return pickle.dumps((_INTERNAL, f"the result could not be sent back ({_one_line(error)})"))


def _child(
    write_fd: int,
    close: Iterable[int],
    fn: Callable,
    args: tuple,
    seconds: float,
    memory: int | None,
    what: str,
) -> None:
    """Runs in the forked child; never returns."""
    status = 0
    try:
        for fd in close:  # other children's pipes, inherited from the parent
            try:
                os.close(fd)
            except OSError:
                pass
        _set_limits(seconds, memory)
        data = _encode(_outcome(fn, args, what, memory), what, memory)
        view = memoryview(data)
        while view:
            view = view[os.write(write_fd, view) :]
    except BaseException:  # noqa: BLE001 - nothing may escape a forked child
        status = 1
    finally:
        os._exit(status)


# The parent -----------------------------------------------------------------------------------
def wait(fds: list[int], timeout: float) -> list[int]:
    """The descriptors among ``fds`` that are readable (or at end of file) within ``timeout`` seconds.

    Like multiprocessing.connection.wait for plain descriptors, without importing multiprocessing.
    """
    poller = select.poll()
    for fd in fds:
        poller.register(fd, select.POLLIN)
    while True:
        try:
            return [fd for fd, _ in poller.poll(max(0, int(timeout * 1000 + 0.999)))]
        except InterruptedError:
            continue


class _Job:
    """One running child: its pid, the read end of its pipe, what it has sent so far."""

    __slots__ = ("index", "pid", "fd", "deadline", "chunks")

    def __init__(self, index: int, pid: int, fd: int, deadline: float) -> None:
        self.index, self.pid, self.fd, self.deadline = index, pid, fd, deadline
        self.chunks: list[bytes] = []


def _start(
    index: int,
    fn: Callable,
    args: tuple,
    seconds: float,
    memory: int | None,
    what: str,
    running: dict[int, _Job],
) -> _Job:
    read_fd, write_fd = os.pipe()
    parent = os.getpid()
    try:
        pid = os.fork()
    except BaseException:
        os.close(read_fd)
        os.close(write_fd)
        raise
    if pid == 0:  # the child
        die_with_parent(
            signal.SIGKILL, parent
        )  # a judge has nothing to clean up: it dies with the parent
        os.close(read_fd)
        _child(write_fd, list(running), fn, args, seconds, memory, what)
    os.close(write_fd)
    job = _Job(index, pid, read_fd, time.monotonic() + seconds)
    running[read_fd] = job
    return job


def _reap(pid: int) -> int:
    """Wait for the child to end; its wait status (0 when it was already reaped)."""
    while True:
        try:
            return os.waitpid(pid, 0)[1]
        except InterruptedError:
            continue
        except ChildProcessError:
            return 0


def _kill(job: _Job) -> None:
    try:
        os.kill(job.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    _reap(job.pid)
    os.close(job.fd)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _finish(job: _Job, what: str, seconds: float, memory: int | None) -> tuple[bool, Any]:
    """The child closed its pipe: reap it and decode (ok, result or error)."""
    os.close(job.fd)
    status = _reap(job.pid)
    data = b"".join(job.chunks)
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        if number == signal.SIGXCPU:
            return False, TimeLimitExceeded(f"{what} took longer than {seconds:g} s; simplify it")
        return False, InternalError(f"{what}: the worker stopped ({_signal_name(number)})")
    try:
        kind, value = pickle.loads(data)
    except Exception as error:  # noqa: BLE001 - nothing or garbage came back
        if not data:
            return False, InternalError(
                f"{what}: the worker stopped without an answer "
                f"(exit status {os.waitstatus_to_exitcode(status)})"
            )
        return False, InternalError(
            f"{what}: unreadable result from the worker ({_one_line(error)})"
        )
    if kind == _OK:
        return True, value
    if kind == _REFUSED:
        return False, value
    return False, InternalError(f"{what}: {value}")


def run_each(
    fn: Callable[[Any], Any],
    items: Iterable[Any],
    workers: int | None = None,
    *,
    seconds: float = 20.0,
    memory: int | None = DEFAULT_MEMORY,
    what: str = "the input",
) -> Iterator[tuple[int, bool, Any]]:
    """fn(item) for every item in its own forked child, up to ``workers`` at once.

    Yields (index, ok, value) in the order the children finish: ``value`` is fn's result when
    ok, else the exception describing the failure — a DeriveError fn raised,
    TimeLimitExceeded (the child was killed after ``seconds``), MemoryLimitExceeded (it hit
    the ``memory`` cap), or InternalError (any other exception, or the child died). One
    failing item never stops the others. Stopping the iteration early kills and reaps the
    children still running.
    """
    workers = max(1, workers or os.cpu_count() or 1)
    pending = iter(enumerate(items))
    running: dict[int, _Job] = {}
    exhausted = False
    thaw = gc.get_freeze_count() == 0  # unless the caller froze objects on purpose
    try:
        while True:
            while not exhausted and len(running) < workers:
                try:
                    index, item = next(pending)
                except StopIteration:
                    exhausted = True
                    break
                gc.freeze()  # children's collections leave the parent's objects (and their pages) alone
                _start(index, fn, (item,), seconds, memory, what, running)
            if not running:
                return
            now = time.monotonic()
            timeout = max(0.0, min(job.deadline for job in running.values()) - now)
            for fd in wait(list(running), timeout):
                job = running[fd]
                chunk = os.read(fd, _READ)
                if chunk:
                    job.chunks.append(chunk)
                    continue
                del running[fd]
                ok, value = _finish(job, what, seconds, memory)
                yield job.index, ok, value
            now = time.monotonic()
            for job in [job for job in running.values() if job.deadline <= now]:
                if wait([job.fd], 0):  # it finished meanwhile (while the caller held a result)
                    continue
                del running[job.fd]
                _kill(job)
                yield (
                    job.index,
                    False,
                    TimeLimitExceeded(f"{what} took longer than {seconds:g} s; simplify it"),
                )
    finally:
        for job in running.values():
            _kill(job)
        running.clear()
        if thaw:
            gc.unfreeze()


def run_limited(
    fn: Callable[..., Any],
    *args: Any,
    seconds: float,
    what: str = "the input",
    memory: int | None = DEFAULT_MEMORY,
) -> Any:
    """fn(*args) in a forked child with a time and a memory cap.

    Returns its result, or raises: the DeriveError it raised, TimeLimitExceeded,
    MemoryLimitExceeded, or InternalError (an unexpected exception in the child, or the child died).
    """
    for _, ok, value in run_each(
        lambda packed: fn(*packed), [args], 1, seconds=seconds, memory=memory, what=what
    ):
        if ok:
            return value
        raise value
    raise InternalError(f"{what}: no result")  # unreachable: run_each yields once per item
