"""Running untrusted work under a time limit.

A student's LaTeX can ask for 2^{10^{10^{10}}}; SymPy would try. Parsing and judging such
input runs in a forked child that is killed when its time is up, so the caller always gets
an answer (or a one-line error) in bounded time.
"""
from __future__ import annotations

import multiprocessing
import traceback
from typing import Any, Callable

from .errors import DeriveError


class TimeLimitExceeded(DeriveError):
    """The work did not finish in its time."""


def _child(connection, fn: Callable, args: tuple) -> None:
    try:
        connection.send((True, fn(*args)))
    except DeriveError as error:  # expected failures keep their type and message
        connection.send((False, error))
    except Exception as error:  # noqa: BLE001 - reported to the parent as one line
        connection.send((False, DeriveError(f"{type(error).__name__}: {error}".splitlines()[0])))
        traceback.clear_frames(error.__traceback__)
    finally:
        connection.close()


def run_limited(fn: Callable[..., Any], *args: Any, seconds: float, what: str = "the input") -> Any:
    """fn(*args) in a forked child; its result, its DeriveError, or TimeLimitExceeded."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(send, fn, args), daemon=True)
    child.start()
    send.close()
    try:
        if not receive.poll(seconds):
            raise TimeLimitExceeded(f"{what} took longer than {seconds:g} s; simplify it")
        ok, value = receive.recv()
    except EOFError:
        raise DeriveError(f"{what} could not be processed (the worker stopped)") from None
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receive.close()
    if not ok:
        raise value
    return value
