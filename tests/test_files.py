"""Files that never mix: atomic writes under concurrency, whole homework sets, one run per output,
and nothing left behind (TeX processes, scratch directories) when a run is killed."""

import hashlib
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from derive import DeriveError
from derive.documents.files import lock_path_for, output_lock, staged_directory, write_atomic
from derive.documents.tex import tex_available

needs_tex = pytest.mark.skipif(
    not tex_available() and not os.environ.get("CI"),
    reason="no TeX on this machine (CI installs it and runs these)",
)
WRITERS, WRITES = 8, 500


# Atomic writes ---------------------------------------------------------------------------------
def test_write_atomic_writes_text_and_bytes_with_usual_permissions(tmp_path):
    target = tmp_path / "deep" / "er" / "file.txt"
    write_atomic(target, "héllo\n")
    assert target.read_text(encoding="utf-8") == "héllo\n"
    write_atomic(target, b"\x00bytes")
    assert target.read_bytes() == b"\x00bytes"
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.txt"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "key.json"
    write_atomic(target, "old")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        write_atomic(target, "new")
    monkeypatch.undo()
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["key.json"]


def test_writing_onto_a_directory_is_a_one_line_error(tmp_path):
    (tmp_path / "taken").mkdir()
    with pytest.raises(DeriveError, match="cannot write .*taken"):
        write_atomic(tmp_path / "taken", "x")
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]


def test_names_up_to_the_file_system_limit_work(tmp_path):
    long_a, long_b = "a" * 250, "a" * 249 + "b"
    write_atomic(tmp_path / long_a, "x")
    with output_lock(tmp_path / long_a), output_lock(tmp_path / long_b):  # distinct locks
        with staged_directory(tmp_path / long_b) as staging:
            (staging / "f").write_text("y")
    assert sorted(p.name for p in tmp_path.iterdir()) == [long_a, long_b]


def _payload(writer: int, number: int) -> bytes:
    """A self-checking file: header, a body whose length varies (0.1–64 kB), its SHA-256 at the end."""
    body = bytes([65 + (writer + number) % 26]) * (100 + (writer * 7919 + number * 104729) % 65_000)
    header = f"{writer} {number} {len(body)}\n".encode()
    return header + body + b"\n" + hashlib.sha256(header + body).hexdigest().encode()


def _whole(data: bytes) -> bool:
    head, _, rest = data.partition(b"\n")
    try:
        writer, number, length = map(int, head.split())
    except ValueError:
        return False
    return data == _payload(writer, number)


def _writer(target: str, writer: int, start, errors) -> None:
    start.wait()
    for number in range(WRITES):
        try:
            write_atomic(Path(target), _payload(writer, number))
        except BaseException as error:  # counted, not raised: the test reports how many failed
            errors.put(f"{writer}/{number}: {error!r}")


def _reader(target: str, stop, seen) -> None:
    reads = torn = 0
    while not stop.is_set():
        try:
            data = Path(target).read_bytes()
        except FileNotFoundError:
            continue
        reads += 1
        torn += not _whole(data)
    seen.put((reads, torn))


def test_concurrent_writers_never_tear_a_file_and_never_crash(tmp_path):
    """8 processes x 500 writes of the same file while another process keeps reading it."""
    context = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
    target = str(tmp_path / "shared.bin")
    start, stop, errors, seen = context.Event(), context.Event(), context.Queue(), context.Queue()
    writers = [
        context.Process(target=_writer, args=(target, w, start, errors)) for w in range(WRITERS)
    ]
    reader = context.Process(target=_reader, args=(target, stop, seen))
    for process in [*writers, reader]:
        process.start()
    began = time.monotonic()
    start.set()
    for process in writers:
        process.join(300)
    elapsed = time.monotonic() - began
    stop.set()
    reads, torn = seen.get(timeout=60)
    reader.join(60)
    failures = []
    while not errors.empty():
        failures.append(errors.get())
    print(
        f"{WRITERS} writers x {WRITES} writes in {elapsed:.1f} s; reader: {reads} reads, {torn} torn; "
        f"{len(failures)} failed writes"
    )
    assert [p.exitcode for p in writers] == [0] * WRITERS
    assert failures == []
    assert torn == 0 and reads > 0
    assert _whole(Path(target).read_bytes())
    assert [p.name for p in tmp_path.iterdir()] == ["shared.bin"]  # no temporary file left behind


# One run per output --------------------------------------------------------------------------------
_HOLD = """
import sys, time
from derive.documents.files import output_lock
with output_lock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(600)
"""


def test_the_lock_refuses_a_second_holder_and_dies_with_its_holder(tmp_path):
    out = tmp_path / "hw"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(out)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(
            DeriveError, match=rf"another derive run \(pid {holder.pid}\) is writing"
        ):
            with output_lock(out):
                pass
    finally:
        holder.kill()  # SIGKILL: no clean-up ran, the kernel drops the lock
        holder.wait()
    with output_lock(out) as lock:  # a killed holder leaves no stale lock
        assert lock == lock_path_for(out) and lock.read_text().strip() == str(os.getpid())
    assert not lock.exists()  # removed on release


def test_a_second_homework_run_on_the_same_output_is_refused_in_one_line(tmp_path, cli):
    out = tmp_path / "hw"
    with output_lock(out):
        result = cli(
            "homework", "--seed", "1", "--count", "1", "--tex-only", "--out", str(out), cwd=tmp_path
        )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "another derive run" in result.stderr, result.stderr
    assert not out.exists()
    result = cli(
        "homework", "--seed", "1", "--count", "1", "--tex-only", "--out", str(out), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hw"]


# Whole directories -----------------------------------------------------------------------------
def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_a_staged_directory_replaces_the_old_one_whole_or_not_at_all(tmp_path):
    target = tmp_path / "set"
    with staged_directory(target) as staging:
        (staging / "a.txt").write_text("first")
    assert _snapshot(target) == {"a.txt": b"first"}
    with pytest.raises(RuntimeError):
        with staged_directory(target) as staging:
            (staging / "b.txt").write_text("half")
            raise RuntimeError("TeX failed")
    assert _snapshot(target) == {"a.txt": b"first"}
    (tmp_path / ".set.new-leftover").mkdir()  # what a SIGKILLed run leaves
    with staged_directory(target) as staging:
        (staging / "b.txt").write_text("second")
    assert _snapshot(target) == {"b.txt": b"second"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set"]


def test_a_failing_version_leaves_the_previous_homework_set(tmp_path, monkeypatch):
    from derive.homework import sheets as homework_sheet
    from derive.documents.tex import TexFailed

    out = tmp_path / "hw"
    homework_sheet.generate(1, 2, out, tex_only=True, jobs=1, progress=False)
    before = _snapshot(out)
    calls = []

    def failing_tex(source, target, timeout=0):
        calls.append(target)
        if len(calls) == 3:  # version 2's exercises, after version 1 was complete
            raise TexFailed("TeX failed: ! Undefined control sequence.")
        Path(target).write_bytes(b"%PDF-1.5 stand-in")
        return Path(target)

    monkeypatch.setattr(homework_sheet, "compile_pdf", failing_tex)
    with pytest.raises(TexFailed):
        homework_sheet.generate(2, 2, out, jobs=1, progress=False)
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hw"]
    results = homework_sheet.generate(3, 1, out, tex_only=True, jobs=1, progress=False)
    assert sorted(_snapshot(out)) == [
        "moodle.xml",
        "version-1/exercises.tex",
        "version-1/key.json",
        "version-1/solutions.tex",
    ]  # version 2 of the old set is gone
    assert all(path.parent.parent == out for result in results for path in result.files)


def test_homework_refuses_to_replace_a_directory_with_other_files(tmp_path, cli):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    result = cli("homework", "--seed", "1", "--tex-only", "--out", "mine", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "notes.txt" in result.stderr
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


# Nothing left behind -------------------------------------------------------------------------------
def _processes_with(marker: str) -> list[tuple[int, str]]:
    """Processes whose environment holds ``marker`` (every descendant of the run inherits it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes().split(b"\0"):
                found.append((int(entry.name), (entry / "comm").read_text().strip()))
        except OSError:
            continue
    return found


def _wait_for(condition, timeout: float, what: str, process: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process is not None and process.poll() is not None:
            pytest.fail(
                f"the run ended (status {process.returncode}) before {what}: {process.stderr.read()}"
            )
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def _kill_mid_run(tmp_path: Path, args: list[str], signum: int) -> subprocess.Popen:
    """Start ``derive ARGS``, send ``signum`` while pdflatex runs, wait for the run and its children."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    marker = f"TMPDIR={scratch}"
    env = dict(os.environ, TMPDIR=str(scratch))
    run = subprocess.Popen(
        [sys.executable, "-m", "derive", *args],
        cwd=tmp_path,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(
            lambda: any(name in ("pdflatex", "lualatex") for _, name in _processes_with(marker)),
            300,
            "TeX ran",
            run,
        )
        assert list(scratch.glob("derive-tex-*")), "TeX runs in a scratch directory under TMPDIR"
        run.send_signal(signum)
        run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    expected = (
        -signum if signum != signal.SIGINT else 130
    )  # SIGINT: 'derive: interrupted', status 130
    assert run.returncode == expected, run.stderr
    # No TeX (nor anything else of the run) survives it, and its scratch is gone.
    _wait_for(lambda: not _processes_with(marker) or None, 10, "the run's processes to end")
    assert sorted(p.name for p in scratch.iterdir()) == []
    return run


@needs_tex
@pytest.mark.parametrize(
    "signum, jobs, previous",
    [
        (signal.SIGTERM, 2, True),
        (signal.SIGTERM, 1, False),
        (signal.SIGINT, 2, False),
        (signal.SIGINT, 1, True),
    ],
)
def test_killed_homework_leaves_no_tex_no_scratch_and_no_half_set(
    tmp_path, cli, signum, jobs, previous
):
    out = tmp_path / "hw"
    if previous:
        done = cli(
            "homework", "--seed", "5", "--count", "2", "--tex-only", "--out", "hw", cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr
        before = _snapshot(out)
    _kill_mid_run(
        tmp_path,
        ["homework", "--seed", "6", "--count", "2", "--jobs", str(jobs), "--out", "hw"],
        signum,
    )
    if previous:
        assert _snapshot(out) == before
        assert json.loads((out / "version-1" / "key.json").read_text())["seed"] == 5
    else:
        assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == (["hw", "tmp"] if previous else ["tmp"])


@needs_tex
def test_killed_sheet_leaves_no_tex_and_no_scratch(tmp_path):
    _kill_mid_run(tmp_path, ["sheet", "--layers", "2", "3", "1"], signal.SIGTERM)
    assert sorted(p.name for p in (tmp_path / "outputs").iterdir()) == [
        "2-3-1-sigmoid-quadratic.tex"
    ]
