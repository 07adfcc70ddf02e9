"""Files that never mix, and nothing left behind.

* :func:`write_atomic` / :func:`copy_atomic`: a file appears whole or not at all. The data goes to a
  temporary file with a unique name in the target's own directory (so the rename stays on one file
  system), which is then renamed over the target; on any failure the temporary file is removed.
  Any number of processes may write the same target at once: each reader sees one writer's
  complete file.
* :func:`output_lock`: one run at a time per output (``flock`` on ``.NAME.lock`` beside it); a second
  run is refused with a one-line error. The kernel drops the lock when its holder dies, so a
  killed run never leaves a stale lock.
* :func:`staged_directory`: a whole directory (a homework set) is built in a sibling temporary
  directory and swapped in at the end, atomically where the kernel can exchange two names
  (``renameat2(RENAME_EXCHANGE)``), otherwise by renaming the old one aside first.
* :func:`cleanup_on_signals`, :func:`scratch_directory`, :func:`run_process_group`: scratch
  directories are removed and child process groups (TeX) are ended on every exit: normal return,
  exception, ``atexit``, and SIGINT/SIGTERM/SIGHUP (the handler cleans up, then does what the
  previous handler would have done: KeyboardInterrupt for SIGINT, death by the signal otherwise).
"""
from __future__ import annotations

import atexit
import contextlib
import ctypes
import errno
import hashlib
import itertools
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Iterator, Sequence

from derive.errors import DeriveError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

_UMASK = os.umask(0o022)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK
DIR_MODE = 0o777 & ~_UMASK


def _temp_prefix(name: str) -> str:
    """``.NAME.`` for hidden files beside NAME; a long NAME is shortened (with a hash, so that two
    long names never share a prefix) to stay within any file system's name limit."""
    if len(name) > 80:
        name = f"{name[:60]}-{hashlib.sha256(name.encode('utf-8', 'surrogateescape')).hexdigest()[:16]}"
    return f".{name}."


# Atomic files ----------------------------------------------------------------------------------
def write_atomic(path: str | os.PathLike, data: str | bytes, *, fsync: bool = False) -> Path:
    """Write ``data`` to ``path`` via a uniquely named temporary file in the same directory and a rename.

    ``fsync=True`` also flushes the data and the directory entry to disk (slower; for files that must
    survive a power cut). Returns ``path``.
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with deferred_signals():  # created and registered for removal, or not created at all
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=_temp_prefix(path.name), suffix=".tmp")
            token = register_cleanup(lambda: _unlink(temp))
    except (FileExistsError, NotADirectoryError, PermissionError, IsADirectoryError) as error:
        raise DeriveError(f"cannot write {path}: {error.strerror or error}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(temp, FILE_MODE)  # mkstemp makes 0600; give the file the usual permissions
        os.replace(temp, path)
    except BaseException as error:
        _unlink(temp)
        if isinstance(error, (IsADirectoryError, NotADirectoryError, PermissionError)):
            raise DeriveError(f"cannot write {path}: {error.strerror or error}") from None
        raise
    finally:
        unregister_cleanup(token)
    if fsync:
        _fsync_directory(path.parent)
    return path


def _unlink(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def copy_atomic(source: str | os.PathLike, target: str | os.PathLike, *, fsync: bool = False) -> Path:
    """Copy the file ``source`` to ``target`` atomically (see :func:`write_atomic`)."""
    return write_atomic(target, Path(source).read_bytes(), fsync=fsync)


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# One run per output ---------------------------------------------------------------------------
def lock_path_for(target: str | os.PathLike) -> Path:
    target = Path(os.path.abspath(target))
    return target.parent / f"{_temp_prefix(target.name)}lock"


@contextlib.contextmanager
def output_lock(target: str | os.PathLike) -> Iterator[Path]:
    """Hold the lock for writing ``target``; raise a one-line DeriveError when another run holds it.

    The lock is ``flock`` on ``.NAME.lock`` in the target's parent directory; the file holds the
    holder's pid and is removed on release.
    """
    lock_path = lock_path_for(target)
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError, PermissionError) as error:
        raise DeriveError(f"cannot write {target}: {error.strerror or error}") from None
    while True:
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
        except OSError as error:
            raise DeriveError(f"cannot lock {target}: {error.strerror or error}") from None
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f" (pid {holder})" if holder else ""
            raise DeriveError(f"another derive run{who} is writing {target}; wait for it to finish "
                              "or choose another output") from None
        # The previous holder may have removed the file between our open and our lock: then retry.
        try:
            current = os.stat(lock_path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            current = False
        if current:
            break
        os.close(fd)
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    released = False

    def release() -> None:
        nonlocal released
        if released:
            return
        released = True
        with contextlib.suppress(OSError):
            os.unlink(lock_path)  # while still holding the lock: nobody else can be using this file
        os.close(fd)

    token = register_cleanup(release)
    try:
        yield lock_path
    finally:
        release()  # first: a signal meanwhile still finds it registered (release is idempotent)
        unregister_cleanup(token)


def _read_pid(fd: int) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(os.pread(fd, 32, 0).decode().strip() or "0") or None
    return None


# Whole directories -----------------------------------------------------------------------------
@contextlib.contextmanager
def staged_directory(target: str | os.PathLike,
                     replaceable: Callable[[Path], None] | None = None) -> Iterator[Path]:
    """Build a directory aside and swap it in at ``target`` when the block succeeds.

    Yields an empty sibling directory (``.NAME.new-XXXX``). When the block ends normally it takes
    ``target``'s place (the previous ``target`` is removed); when it raises, or the process is ended
    by a signal, it is removed and ``target`` is untouched. ``replaceable(target)`` is called first
    when ``target`` exists, to refuse (raise) replacing a directory that holds something else.
    Hold :func:`output_lock` around this: leftovers of killed runs (``.NAME.new-*``, ``.NAME.old-*``)
    are removed here.
    """
    given, target = target, Path(os.path.abspath(target))
    if target.parent == target:
        raise DeriveError(f"cannot replace {given}: choose a directory below it")
    if target.exists() and not target.is_dir():
        raise DeriveError(f"{given} exists and is not a directory")
    if target.is_dir() and replaceable is not None:
        replaceable(Path(given))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError, PermissionError) as error:
        raise DeriveError(f"cannot write {given}: {error.strerror or error}") from None
    _remove_leftovers(target)
    with deferred_signals():  # created and registered for removal, or not created at all
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f"{_temp_prefix(target.name)}new-"))
        token = register_cleanup(lambda: shutil.rmtree(staging, ignore_errors=True))
    os.chmod(staging, DIR_MODE)
    try:
        yield staging
        with deferred_signals():  # a signal now waits until the new set is in place
            _swap_in(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        unregister_cleanup(token)


def _remove_leftovers(target: Path) -> None:
    prefix = _temp_prefix(target.name)
    with contextlib.suppress(OSError):
        for entry in target.parent.iterdir():
            if entry.name.startswith((prefix + "new-", prefix + "old-")) and entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)


def _swap_in(staging: Path, target: Path) -> None:
    """Put ``staging`` at ``target``; afterwards ``staging`` is gone and the old ``target`` removed."""
    if not target.exists():
        try:
            os.rename(staging, target)  # also replaces an empty directory created meanwhile
            return
        except OSError as error:
            if error.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
    if _exchange(staging, target):  # target: the new set; staging: the old one
        shutil.rmtree(staging, ignore_errors=True)
        return
    old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f"{_temp_prefix(target.name)}old-"))
    os.rename(target, old)  # onto the empty directory just made: a name nobody else uses
    try:
        os.rename(staging, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux renameat2); False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


# Clean-up on every exit ------------------------------------------------------------------------
_cleanups: dict[int, tuple[int, Callable[[], None]]] = {}  # token -> (owning pid, action)
_tokens = itertools.count(1)


def register_cleanup(action: Callable[[], None]) -> int:
    """Run ``action`` if this process exits (atexit) or is ended by a handled signal before
    :func:`unregister_cleanup`; newest first. Forked children do not inherit the duty."""
    token = next(_tokens)
    _cleanups[token] = (os.getpid(), action)
    return token


def unregister_cleanup(token: int) -> None:
    _cleanups.pop(token, None)


def run_cleanups() -> None:
    """Run (and forget) every registered clean-up of this process, newest first."""
    pid = os.getpid()
    for token in sorted(_cleanups, reverse=True):
        owner, action = _cleanups.get(token, (None, None))
        if owner != pid:
            continue
        _cleanups.pop(token, None)
        with contextlib.suppress(Exception):
            action()


atexit.register(run_cleanups)

HANDLED_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
_previous: dict[int, object] = {}
_depth = 0
_deferring = 0
_pending: list[int] = []
_handling = False


def _on_signal(signum: int, frame) -> None:
    global _handling
    if _deferring:
        _pending.append(signum)
        return
    if _handling:  # a second signal while cleaning up (a pool sends SIGTERM twice): the first one finishes
        return
    _handling = True
    try:
        run_cleanups()
    finally:
        _handling = False
    previous = _previous.get(signum, signal.SIG_DFL)
    if callable(previous):
        previous(signum, frame)  # SIGINT: Python's default handler raises KeyboardInterrupt
        return
    signal.signal(signum, signal.SIG_DFL)  # die by the signal, as without us
    os.kill(os.getpid(), signum)
    time.sleep(1)
    os._exit(128 + signum)


def install_signal_handlers() -> None:
    """Make the handled signals clean up first (idempotent; main thread only). Also a pool initializer."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in HANDLED_SIGNALS:
        current = signal.getsignal(signum)
        if current is _on_signal or current is signal.SIG_IGN or current is None:
            continue  # ours already, or ignored on purpose (nohup)
        _previous[signum] = current
        signal.signal(signum, _on_signal)


def _restore_signal_handlers() -> None:
    for signum, previous in list(_previous.items()):
        if signal.getsignal(signum) is _on_signal:
            signal.signal(signum, previous)
        del _previous[signum]


@contextlib.contextmanager
def cleanup_on_signals() -> Iterator[None]:
    """Within the block, SIGINT/SIGTERM/SIGHUP run the registered clean-ups before their usual effect.

    Reentrant; outside the main thread it only relies on atexit and the callers' own ``finally``.
    """
    global _depth
    installing = _depth == 0 and threading.current_thread() is threading.main_thread() and not _previous
    if installing:
        install_signal_handlers()
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if installing:
            _restore_signal_handlers()


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold a handled signal back until the block ends (for steps that must not be cut in half).

    Only the main thread runs signal handlers, so only there is anything held back.
    """
    global _deferring
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1
        if not _deferring and _pending:
            signum = _pending[0]
            _pending.clear()
            _on_signal(signum, None)


@contextlib.contextmanager
def scratch_directory(prefix: str) -> Iterator[Path]:
    """A private temporary directory, removed on leaving the block and on every exit."""
    with deferred_signals():  # created and registered for removal, or not created at all
        path = Path(tempfile.mkdtemp(prefix=prefix))
        token = register_cleanup(lambda: _remove_tree(path))
    try:
        yield path
    finally:
        _remove_tree(path)  # before unregistering: a signal during the removal finishes it
        unregister_cleanup(token)


def _remove_tree(path: Path) -> None:
    for _ in range(50):  # a killed child may still be closing files for a moment
        shutil.rmtree(path, ignore_errors=True)
        if not os.path.lexists(path):
            return
        time.sleep(0.02)


def kill_process_group(process: subprocess.Popen) -> None:
    """SIGKILL the process group led by ``process`` (started with start_new_session=True)."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)


def run_process_group(command: Sequence[str], *, timeout: float | None = None,
                      **popen: object) -> subprocess.CompletedProcess:
    """Run ``command`` in its own process group (its own session), capturing text output.

    The whole group (the command and everything it starts) is killed on timeout
    (subprocess.TimeoutExpired is raised), on an exception, and on any exit of this process.
    """
    with deferred_signals():  # started and registered, or not started at all
        process = subprocess.Popen(command, start_new_session=True, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   errors="replace", **popen)
        token = register_cleanup(lambda: _end_group(process, wait=False))
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except BaseException:
        _end_group(process, wait=True)
        raise
    finally:
        unregister_cleanup(token)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _end_group(process: subprocess.Popen, wait: bool) -> None:
    kill_process_group(process)
    if wait:
        with contextlib.suppress(Exception):
            process.communicate(timeout=10)
    else:  # in a signal handler: reap the leader directly (Popen's own lock may be held)
        with contextlib.suppress(OSError):
            os.waitpid(process.pid, 0)


def terminate_processes(processes: Sequence, grace: float = 10.0) -> None:
    """SIGTERM each multiprocessing.Process (they clean up their own children), SIGKILL stragglers."""
    from multiprocessing.connection import wait

    alive = [p for p in processes if p.pid is not None and p.exitcode is None]
    for process in alive:
        with contextlib.suppress(Exception):
            process.terminate()
    sentinels = {p.sentinel: p for p in alive}
    deadline = time.monotonic() + grace
    while sentinels and time.monotonic() < deadline:
        for ready in wait(list(sentinels), timeout=max(0.0, deadline - time.monotonic())):
            sentinels.pop(ready, None)
    for process in sentinels.values():
        with contextlib.suppress(Exception):
            process.kill()
