"""Kill tests: `derive slides`, `html`, `train` and `grade` ended by SIGINT, SIGTERM or SIGKILL at 20
random (seeded) moments each, spread over the command's measured duration.

After every kill: each output is absent or complete and of the kind a full run makes (a PDF with its %%EOF, an
HTML page that ends in </html>, a CSV that parses with the full run's header, a PNG with its IEND, JSON and
TOML that parse); no temporary or scratch file is left in the output directory or in the per-run TMPDIR; no
process of the run survives it (TeX, its guard, judge or pool workers: every descendant inherits the run's
TMPDIR, and none may remain once the run is gone). SIGINT ends the run with 'derive: interrupted' and status
130 (or silently by the signal, status -2, in the instants before derive's code runs or after it is done, as
any Python program); SIGTERM with 'derive: stopped by SIGTERM' and death by the signal (status -15, 143 in a
shell). SIGKILL runs no clean-up of derive's: the kernel ends its children (PR_SET_PDEATHSIG) and a guard ends
TeX's process group and removes its scratch directory; what may remain is only the lock file ``.NAME.lock``
and a half-built ``.NAME.new-*`` set beside the output, which the next run removes (checked: a run after the
kills leaves nothing stray).
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from derive.documents.tex import tex_available
from tests.redteam import Surface

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

KEYS = Path(__file__).parent / "data" / "keys-v1"
KILLS = 20  # per command and signal
SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM, "SIGKILL": signal.SIGKILL}


def _grade_inputs(folder: Path) -> list[str]:
    for version in (1, 2):
        (folder / "hw" / f"version-{version}").mkdir(parents=True)
        (folder / "hw" / f"version-{version}" / "key.json").write_bytes(
            (KEYS / f"seed1-v{version}.json").read_bytes()
        )
    with (folder / "answers.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["student", "version", "question", "answer"])
        for version in (1, 2):
            for question in json.loads((KEYS / f"seed1-v{version}.json").read_text())["questions"][
                :3
            ]:
                right = question["answer_latex"]
                for n, answer in enumerate((right, f"-({right})", f"2 ({right})", r"\frac{1}{")):
                    writer.writerow([f"s{n}", version, question["id"], answer])
    return ["grade", "hw", "answers.csv", "--out", "out/grades.csv", "--jobs", "2"]


COMMANDS = {  # name: (setup(folder) -> argv, the output directory, relative to the run's folder)
    "slides": (
        lambda folder: ["slides", "--layers", "2", "1", "--no-check", "--out-dir", "out"],
        "out",
    ),
    "html": (
        lambda folder: ["html", "--layers", "2", "1", "--no-check", "--out-dir", "out"],
        "out",
    ),
    "train": (
        lambda folder: ["train", "--data", "xor", "--epochs", "300", "--out", "out/train"],
        "out",
    ),
    "grade": (_grade_inputs, "out"),
}
CASES = [(command, name) for command in COMMANDS for name in SIGNALS]  # each: KILLS kills

REDTEAM = [
    Surface(
        surface="killed runs (slides, html, train, grade)",
        tried="SIGINT, SIGTERM, SIGKILL at seeded random moments over the measured run",
        cases=len(CASES) * KILLS,
        limit="",
        holds="each output absent or whole; no temporary, scratch or orphaned TeX/worker process",
    )
]


def _whole(path: Path, reference: Path) -> None:
    """``path`` is complete and of the same kind as the full run's ``reference``."""
    data = path.read_bytes()
    suffix = path.suffix
    if suffix == ".pdf":
        assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF"), path
    elif suffix == ".html":
        assert data.lstrip().lower().startswith(b"<!doctype html") and data.rstrip().endswith(
            b"</html>"
        ), path
    elif suffix == ".csv":
        rows = list(csv.reader(data.decode("utf-8").splitlines()))
        expected = list(csv.reader(reference.read_text(encoding="utf-8").splitlines()))
        assert rows[0] == expected[0] and len(rows) == len(expected), path
    elif suffix == ".png":
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and data.endswith(b"IEND\xaeB`\x82"), path
    elif suffix == ".json":
        assert json.loads(data).keys() == json.loads(reference.read_bytes()).keys(), path
    elif suffix == ".toml":
        assert (
            tomllib.loads(data.decode("utf-8")).keys()
            == tomllib.loads(reference.read_text()).keys()
        ), path
    elif suffix == ".tex":
        assert data.rstrip().endswith(b"\\end{document}"), path
    else:
        raise AssertionError(f"unexpected output {path}")


def _files(folder: Path) -> dict[str, Path]:
    return {
        str(p.relative_to(folder)): p
        for p in sorted(folder.rglob("*"))
        if p.is_file() or p.is_symlink()
    }


def _run_processes(marker: bytes) -> list[tuple[int, str]]:
    """Processes whose environment holds ``marker`` (every descendant of a run inherits its TMPDIR)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    found.append((int(entry.name), (entry / "comm").read_text().strip()))
            except OSError:
                continue
    return found


def _start(folder: Path, argv: list[str], scratch: Path) -> subprocess.Popen:
    env = dict(os.environ, TMPDIR=str(scratch))
    return subprocess.Popen(
        [sys.executable, "-m", "derive", *argv, "-q"],
        cwd=folder,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _wait_gone(marker: bytes, timeout: float = 15.0) -> list[tuple[int, str]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = _run_processes(marker)
        if not left:
            return []
        time.sleep(0.05)
    return _run_processes(marker)


def _interrupted_in_python_startup(stderr: str, status: int) -> bool:
    """SIGINT while the interpreter is still finding derive's first module (runpy, importlib): no
    derive code has run yet, so nothing of derive's can catch it, and Python prints its own
    traceback, every frame in its frozen import machinery. Anything with a frame of a real file
    (derive's, or any other) is not this."""
    lines = stderr.strip().splitlines()
    frames = [line for line in lines if line.strip().startswith("File ")]
    return (
        status == -signal.SIGINT
        and lines[:1] == ["Traceback (most recent call last):"]
        and lines[-1:] == ["KeyboardInterrupt"]
        and bool(frames)
        and all(line.strip().startswith('File "<frozen ') for line in frames)
    )


def test_an_interrupt_inside_derive_is_never_taken_for_python_startup():
    startup = (
        "Traceback (most recent call last):\n"
        '  File "<frozen runpy>", line 189, in _run_module_as_main\n'
        '  File "<frozen importlib._bootstrap_external>", line 147, in _path_stat\n'
        "KeyboardInterrupt\n"
    )
    assert _interrupted_in_python_startup(startup, -signal.SIGINT)
    assert not _interrupted_in_python_startup(startup, 130)
    inside = startup.replace(
        "KeyboardInterrupt", '  File "/x/derive/cli/entry.py", line 9, in main\nKeyboardInterrupt'
    )
    assert not _interrupted_in_python_startup(inside, -signal.SIGINT)
    assert not _interrupted_in_python_startup("derive: interrupted\n", -signal.SIGINT)
    assert not _interrupted_in_python_startup("", -signal.SIGINT)


@pytest.mark.parametrize("command, name", CASES)
def test_a_killed_run_leaves_nothing_torn_stray_or_running(tmp_path, command, name):
    if command == "slides" and not tex_available() and not os.environ.get("CI"):
        pytest.skip("no TeX on this machine (CI installs it)")
    signum = SIGNALS[name]
    setup, out = COMMANDS[command]
    # A full run: the reference outputs, and how long the command takes.
    full = tmp_path / "full"
    full.mkdir()
    argv = setup(full)
    (full / "tmp").mkdir()
    started = time.monotonic()
    run = _start(full, argv, full / "tmp")
    stdout, stderr = run.communicate(timeout=300)
    duration = time.monotonic() - started
    assert run.returncode == 0, stderr
    reference = {Path(k).name: p for k, p in _files(full / out).items()}
    assert reference and not [k for k in reference if k.startswith(".")], reference
    rng = random.Random(f"{command}-{name}")
    statuses = []
    for kill in range(KILLS):
        folder = tmp_path / f"k{kill}"
        folder.mkdir()
        setup(folder)
        scratch = folder / "tmp"
        scratch.mkdir()
        marker = f"TMPDIR={scratch}".encode()
        moment = rng.uniform(0.05, duration * 1.05)
        run = _start(folder, argv, scratch)
        try:
            time.sleep(moment)
            run.send_signal(signum)
            stdout, stderr = run.communicate(timeout=60)
        finally:
            if run.poll() is None:
                run.kill()
                run.communicate()
        statuses.append(run.returncode)
        where = f"{command} {name} at {moment:.2f} s of {duration:.2f} s (status {run.returncode})"
        if signum == signal.SIGINT and _interrupted_in_python_startup(stderr, run.returncode):
            stderr = ""  # Python's own, before derive's first line ran (see the function)
        assert "Traceback" not in stderr, f"{where}: {stderr}"
        if run.returncode != 0:  # killed before it finished (else it finished: a full run)
            if signum == signal.SIGINT:
                # 130, or death by SIGINT (-2; a shell shows 130 for both) in the instants before derive's
                # code runs or once it is done (Python's own handling); at most the one line
                assert run.returncode in (130, -2), f"{where}: {stderr!r}"
                assert stderr in ("derive: interrupted\n", ""), f"{where}: {stderr!r}"
            elif signum == signal.SIGTERM:
                assert run.returncode == -signum, f"{where}: {stderr!r}"
                assert stderr in ("", "derive: stopped by SIGTERM\n"), (
                    f"{where}: {stderr!r}"
                )  # '' before main ran
            else:
                assert run.returncode == -signum, f"{where}: {stderr!r}"
        left = _wait_gone(marker)
        assert not left, f"{where}: processes of the run survive it: {left}"
        assert sorted(p.name for p in scratch.iterdir()) == [], f"{where}: scratch left in TMPDIR"
        produced = _files(folder / out) if (folder / out).exists() else {}
        stray = []
        for relative, path in produced.items():
            base = Path(relative).name
            if base in reference:
                _whole(path, reference[base])
            else:
                stray.append(relative)
        hidden = [p.name for p in (folder / out).glob(".*")] if (folder / out).exists() else []
        if (
            signum == signal.SIGKILL
        ):  # no clean-up of ours ran: only a lock file and a half-built set may remain
            assert all(name.endswith(".lock") or ".new-" in name for name in hidden), (
                f"{where}: {hidden}"
            )
            stray = [s for s in stray if ".new-" not in s]
        else:
            assert hidden == [], f"{where}: left {hidden}"
        assert stray == [], f"{where}: left {stray}"
        if hidden:  # the next run cleans up after a killed one
            again = _start(folder, argv, scratch)
            _, stderr = again.communicate(timeout=300)
            assert again.returncode == 0, stderr
            assert [p.name for p in (folder / out).glob(".*")] == [], (
                f"{where}: the next run left {hidden}"
            )
        shutil.rmtree(folder, ignore_errors=True)
    assert any(status != 0 for status in statuses), f"no kill landed before the end: {statuses}"
