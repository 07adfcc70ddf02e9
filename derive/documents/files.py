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
* SIGKILL runs none of this, so children die with their parent: :func:`worker_initializer` (pool
  workers) and ``limits.die_with_parent`` (the judges) ask the kernel for a signal when the parent
  dies (PR_SET_PDEATHSIG), and :func:`run_process_group` with ``scratch`` puts a guard at the head of
  TeX's group that then ends the group and removes the scratch directory.
* :func:`check_replaceable`: outputs replace a *name*: a symbolic link is replaced, never followed
  (its target is not modified), a hard link's other names keep the old file; a device, FIFO or socket
  at the name is refused (never opened, never replaced: ``--out /dev/null`` as root must not replace it).
* :func:`spreadsheet_safe`: a CSV cell that a spreadsheet reads as text, never as a formula (every CSV
  derive writes goes through it: grades.csv).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import errno
import hashlib
import itertools
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence, TypeVar

from derive.errors import DeriveError
from derive.limits import die_with_parent

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
    check_replaceable(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with deferred_signals():  # created and registered for removal, or not created at all
            fd, temp = tempfile.mkstemp(
                dir=path.parent, prefix=_temp_prefix(path.name), suffix=".tmp"
            )
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


_KINDS = {
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
}


def check_replaceable(path: str | os.PathLike) -> None:
    """Refuse (one line) an output name that holds a device, a FIFO or a socket: derive writes by
    renaming a new file over the name, which would replace /dev/null itself, and it never opens such
    a thing for writing (a FIFO nobody reads blocks forever). A symbolic link is fine: the rename
    replaces the link, never the file it points to; a directory is refused where the rename fails."""
    try:
        mode = os.lstat(path).st_mode
    except (OSError, ValueError):
        return  # nothing there (or unreachable: the write itself says why)
    kind = _KINDS.get(stat.S_IFMT(mode))
    if kind is not None:
        raise DeriveError(
            f"cannot write {path}: it is {kind}, not a regular file; derive replaces its outputs "
            "by renaming a new file over the name, so give the name of a file"
        )


def _unlink(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def copy_atomic(
    source: str | os.PathLike, target: str | os.PathLike, *, fsync: bool = False
) -> Path:
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
            raise DeriveError(
                f"another derive run{who} is writing {target}; wait for it to finish "
                "or choose another output"
            ) from None
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
def staged_directory(
    target: str | os.PathLike, replaceable: Callable[[Path], None] | None = None
) -> Iterator[Path]:
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
        staging = Path(
            tempfile.mkdtemp(dir=target.parent, prefix=f"{_temp_prefix(target.name)}new-")
        )
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
            if entry.name.startswith((prefix + "new-", prefix + "old-")):
                _remove_entry(entry)


def _remove_entry(path: Path) -> None:
    """Remove a directory tree, or a symbolic link (never what it points to)."""
    if path.is_symlink():
        _unlink(str(path))
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)


def _swap_in(staging: Path, target: Path) -> None:
    """Put ``staging`` at ``target``; afterwards ``staging`` is gone and the old ``target`` removed.

    A symbolic link at ``target`` is replaced as a name: the directory it points to is left as it was."""
    if target.is_symlink():
        if not _exchange(
            staging, target
        ):  # where names cannot be exchanged: a moment without the name
            os.unlink(target)
            os.rename(staging, target)
            return
        _unlink(str(staging))  # now the old link
        return
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
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
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
        entry = _cleanups.get(token)
        if entry is None or entry[0] != pid:
            continue
        action = entry[1]
        _cleanups.pop(token, None)
        with contextlib.suppress(Exception):
            action()


atexit.register(run_cleanups)

HANDLED_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
_previous: dict[int, Any] = {}  # signal -> the handler it had (signal.getsignal's answer)
_depth = 0
_deferring = 0
_pending: list[int] = []
_handling = False
_announcing: int | None = (
    None  # the pid that prints 'derive: stopped by SIGTERM' (see announce_signals)
)


def announce_signals() -> None:
    """This process (the command line's) says in one line on stderr that SIGTERM/SIGHUP stopped it."""
    global _announcing
    _announcing = os.getpid()


def _on_signal(signum: int, frame) -> None:
    global _handling
    if _deferring:
        _pending.append(signum)
        return
    if (
        _handling
    ):  # a second signal while cleaning up (a pool sends SIGTERM twice): the first one finishes
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
    if (
        _announcing == os.getpid()
    ):  # the command itself (not a worker): say why it stops, in one line
        with contextlib.suppress(OSError, ValueError):
            os.write(2, f"derive: stopped by {signal.Signals(signum).name}\n".encode())
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


def worker_initializer(parent: int | None = None) -> None:
    """For pool workers (``parent``: the pool's pid): SIGTERM when the parent dies, even by SIGKILL,
    and clean-up on signals."""
    die_with_parent(signal.SIGTERM, parent)
    install_signal_handlers()


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
    installing = (
        _depth == 0 and threading.current_thread() is threading.main_thread() and not _previous
    )
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
    """A private temporary directory, removed on leaving the block and on every exit, SIGKILL included.

    A keeper process (``_KEEPER``) creates it and removes it when its standard input closes: when the
    block ends, or when this process dies in any way (the kernel closes the pipe)."""
    with deferred_signals():  # created and registered for removal, or not created at all
        keeper = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _KEEPER, prefix, tempfile.gettempdir()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert keeper.stdout is not None and keeper.stdin is not None  # both are pipes
        path = Path(keeper.stdout.readline().rstrip("\n"))
        token = register_cleanup(lambda: _remove_tree(path))
    try:
        if not path.is_dir():
            raise OSError(f"cannot create a scratch directory in {tempfile.gettempdir()}")
        yield path
    finally:
        _remove_tree(path)  # before unregistering: a signal during the removal finishes it
        unregister_cleanup(token)
        with contextlib.suppress(Exception):
            keeper.stdin.close()
            keeper.wait(timeout=10)


# The scratch directory's keeper: it makes the directory, says its name, and removes it once its standard
# input reaches its end, which happens when the block is left or when derive dies, even by SIGKILL.
_KEEPER = r"""
import os, shutil, signal, sys, tempfile, time
signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C at the terminal is derive's to handle
path = tempfile.mkdtemp(prefix=sys.argv[1], dir=sys.argv[2])
print(path, flush=True)
sys.stdin.read()
for _ in range(100):
    shutil.rmtree(path, ignore_errors=True)
    if not os.path.lexists(path):
        break
    time.sleep(0.02)
"""


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


# A small guard leads the group when the caller may be killed outright (SIGKILL runs no clean-up of
# ours): the kernel sends it SIGTERM when its parent dies (PR_SET_PDEATHSIG, which a grandchild such
# as latexmk's pdflatex would not inherit); it then ends the whole group, removes ``scratch`` and
# leaves. Run normally, it only waits for the command and passes on its status.
_GUARD = r"""
import os, shutil, signal, subprocess, sys, time
parent, scratch, command = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
orphaned = False
def stop(signum=None, frame=None):
    global orphaned
    orphaned = True
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.killpg(0, signal.SIGTERM)
signal.signal(signal.SIGTERM, stop)
child = subprocess.Popen(command)
if orphaned or os.getppid() != parent:
    stop()
code = child.wait()
if orphaned:
    for _ in range(100):
        shutil.rmtree(scratch, ignore_errors=True)
        if not os.path.lexists(scratch):
            break
        time.sleep(0.02)
    os.killpg(0, signal.SIGKILL)
sys.exit(code if code >= 0 else 128 - code)
"""


def run_process_group(
    command: Sequence[str],
    *,
    timeout: float | None = None,
    scratch: Path | None = None,
    **popen: Any,
) -> subprocess.CompletedProcess:
    """Run ``command`` in its own process group (its own session), capturing text output.

    The whole group (the command and everything it starts) is killed on timeout
    (subprocess.TimeoutExpired is raised), on an exception, and on any exit of this process. With
    ``scratch`` (the command's working directory), also when this process is killed with SIGKILL:
    a guard (``_GUARD``) then ends the group and removes ``scratch``.
    """
    parent = os.getpid()
    if scratch is not None:
        command = [
            sys.executable,
            "-I",
            "-S",
            "-c",
            _GUARD,
            str(parent),
            os.fspath(scratch),
            *command,
        ]
    with deferred_signals():  # started and registered, or not started at all
        process = subprocess.Popen(
            command,
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            preexec_fn=(lambda: die_with_parent(signal.SIGTERM, parent))
            if scratch is not None
            else None,
            **popen,
        )
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


# Cells safe to open in a spreadsheet --------------------------------------------------------------
# What makes Excel, LibreOffice or Google Sheets evaluate a cell (OWASP, "CSV Injection"): a first
# character = + - @, a tab or a line break, also after leading spaces or quotes; their full-width and
# small forms (＝ ＋ － ＠, ﹦ ﹢ ﹣ ﹫) and the minus sign − are read as the same by some of them. A leading '
# is the spreadsheets' own mark for text, so a cell that starts with one is safe, and so is a safe cell
# made safe again (spreadsheet_safe(spreadsheet_safe(x)) == spreadsheet_safe(x)).
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b\u2212")
# quotes a spreadsheet may skip before the sign (whitespace too); not ', which marks the rest as text
_SKIPPED = frozenset('"\u2018\u2019\u201a\u201c\u201d\u201e\uff02\uff07')
_PLAIN_NUMBER = re.compile(
    r" *[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)? *"
)  # -0.0286, -3, +1.5e-3
TEXT_PREFIX = "'"


Cell = TypeVar("Cell")


def spreadsheet_safe(cell: Cell) -> Cell | str:
    """``cell`` as a spreadsheet should show it: text that would be read as a formula gets a leading
    single quote (the spreadsheet's own "this is text" mark), anything else is returned unchanged, so a
    plain number such as -0.0286 stays a number. Why: a student named =HYPERLINK(...) must not run
    when the instructor opens grades.csv."""
    if isinstance(cell, str) and reads_as_formula(cell):
        return TEXT_PREFIX + cell
    return cell


def reads_as_formula(text: str) -> bool:
    """Whether a spreadsheet may evaluate ``text`` (a plain decimal number is not a formula)."""
    if _PLAIN_NUMBER.fullmatch(text):
        return False
    for character in text:
        if character in FORMULA_TRIGGERS:
            return True
        if not (character.isspace() or character in _SKIPPED):
            return False
    return False
