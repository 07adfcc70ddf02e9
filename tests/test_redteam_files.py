"""Red team: where derive writes, through the real command line (a fresh interpreter each time).

The output name is a symbolic link (to a file, dangling, to a directory, a loop), a FIFO, a hard link,
a read-only file, a device (/dev/null, /dev/full); its directory is read-only, a file, in /proc; its
path has spaces, Unicode and a leading dash. For every command that writes (sheet, slides, html,
homework, train, grade): the exit status, at most one line on stderr, no temporary left, and what
the name pointed to (the link's target, the other hard link, /dev/null) unchanged. What a careful
tool does, and derive does: a new file is renamed over the *name* (os.replace), so a link is replaced
and the file it points to is never modified; a device, FIFO or socket at the name is refused (never
opened, never replaced).
"""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from derive.documents.tex import tex_available
from tests.redteam import Surface

OLD = b"the old content\n"

# command: (argv for an output NAME in directory DIR, the file written there for NAME)
FILE_COMMANDS = {
    "sheet": (
        lambda d, n: [
            "sheet",
            "--layers",
            "2",
            "1",
            "--no-check",
            "--tex-only",
            "--out-dir",
            d,
            "--out",
            n,
        ],
        "{}.tex",
    ),
    "slides": (
        lambda d, n: [
            "slides",
            "--layers",
            "2",
            "1",
            "--no-check",
            "--tex-only",
            "--out-dir",
            d,
            "--out",
            n,
        ],
        "{}-slides.tex",
    ),
    "html": (
        lambda d, n: ["html", "--layers", "2", "1", "--no-check", "--out-dir", d, "--out", n],
        "{}.html",
    ),
    "grade": (
        lambda d, n: ["grade", "hw", "answers.csv", "--out", os.path.join(d, n), "--jobs", "1"],
        "{}",
    ),
}
# what is at the output name before the run: how to make it, and whether the run is expected to succeed
NAME_CASES = [
    "symlink to a file",
    "dangling symlink",
    "symlink to a directory",
    "symlink loop",
    "FIFO",
    "hard link",
    "read-only file",
    "spaces, unicode, leading dash",
]
DIR_CASES = [
    "read-only directory",
    "directory is a file",
    "directory under a file",
    "/proc",
    "/dev/full as dir",
]
DEVICE_CASES = ["/dev/null", "/dev/full"]
CASES = (
    [(c, n) for c in FILE_COMMANDS for n in NAME_CASES + DIR_CASES + DEVICE_CASES]
    + [("sheet", "real PDF through a symlink")]
    + [
        ("homework", n)
        for n in (
            "symlink to the set",
            "set is a FIFO",
            "set is a file",
            "read-only parent",
            "dangling symlink",
            "spaces, unicode, leading dash",
        )
    ]
    + [
        ("train", n)
        for n in (
            "symlink to the set",
            "set is a FIFO",
            "read-only parent",
            "dangling symlink",
            "hard link in the set",
        )
    ]
)

REDTEAM = [
    Surface(
        surface="output paths (sheet, slides, html, homework, train, grade)",
        tried="symlinks, FIFO, hard links, read-only, devices, /proc, odd names",
        cases=len(CASES),
        limit="",
        holds="rename replaces only the name; targets and other links unchanged; one line, no temporaries",
    )
]


def _run(folder: Path, argv: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "derive", *argv, "-q"],
        cwd=folder,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
    )  # a FIFO opened for writing would hang here


def _grade_inputs(folder: Path) -> None:
    keys = Path(__file__).parent / "data" / "keys-v1"
    for version in (1, 2):
        (folder / "hw" / f"version-{version}").mkdir(parents=True)
        (folder / "hw" / f"version-{version}" / "key.json").write_bytes(
            (keys / f"seed1-v{version}.json").read_bytes()
        )
    (folder / "answers.csv").write_text(
        "student,version,question,answer\ns,1,q1,x\n", encoding="utf-8"
    )


@contextlib.contextmanager
def read_only(directory: Path):
    """No one may create a name in ``directory``: mode 555, and immutable when we are root (root ignores modes)."""
    directory.chmod(0o555)
    immutable = (
        os.geteuid() == 0
        and subprocess.run(["chattr", "+i", str(directory)], capture_output=True).returncode == 0
    )
    try:
        if os.geteuid() == 0 and not immutable:
            pytest.skip("running as root without chattr: a read-only directory cannot be made")
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(directory)], capture_output=True)
        directory.chmod(0o755)


def _temporaries(folder: Path) -> list[str]:
    return [
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.name.startswith(".")
        and (p.name.endswith((".tmp", ".lock")) or ".new-" in p.name or ".old-" in p.name)
    ]


def _one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("derive: error: "), (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)


def _is_regular(path: Path) -> bool:
    return stat.S_ISREG(os.lstat(path).st_mode)


@pytest.mark.parametrize(
    "command, case",
    [c for c in CASES if c[0] in FILE_COMMANDS and c[1] in NAME_CASES + DIR_CASES + DEVICE_CASES],
)
def test_an_output_file_through_links_pipes_devices_and_odd_places(tmp_path, command, case):
    make, pattern = FILE_COMMANDS[command]
    if command == "grade":
        _grade_inputs(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    name = "result.csv" if command == "grade" else "result"
    target = out / pattern.format(name)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    kept = elsewhere / "kept"
    kept.write_bytes(OLD)

    def succeeds(result, path=target):
        assert result.returncode == 0 and result.stderr == "", result.stderr
        assert _is_regular(path) and path.stat().st_size > 0 and path.read_bytes() != OLD
        assert _temporaries(tmp_path) == []

    if case == "symlink to a file":
        target.symlink_to(kept)
        succeeds(_run(tmp_path, make("out", name)))
        assert (
            kept.read_bytes() == OLD
        )  # the link was replaced; the file it pointed to is untouched
    elif case == "dangling symlink":
        target.symlink_to(elsewhere / "nothing")
        succeeds(_run(tmp_path, make("out", name)))
        assert not (elsewhere / "nothing").exists()  # nothing created through the link
    elif case == "symlink to a directory":
        target.symlink_to(elsewhere)
        result = _run(tmp_path, make("out", name))
        if result.returncode == 0:  # the name is replaced, as for any link
            succeeds(result)
        else:  # or refused: a directory stands where the file belongs
            _one_line_error(result, "directory")
            assert target.is_symlink()
        assert sorted(p.name for p in elsewhere.iterdir()) == ["kept"] and kept.read_bytes() == OLD
        assert _temporaries(tmp_path) == []
    elif case == "symlink loop":
        other = out / "loop"
        target.symlink_to(other)
        other.symlink_to(target)
        succeeds(_run(tmp_path, make("out", name)))
        assert other.is_symlink()
    elif case == "FIFO":
        os.mkfifo(target)
        _one_line_error(_run(tmp_path, make("out", name), timeout=60), "FIFO")
        assert stat.S_ISFIFO(os.lstat(target).st_mode)
        assert _temporaries(tmp_path) == []
    elif case == "hard link":
        target.write_bytes(OLD)
        os.link(target, kept.with_name("hard"))
        succeeds(_run(tmp_path, make("out", name)))
        assert kept.with_name("hard").read_bytes() == OLD  # rename replaces only the name
        assert os.stat(target).st_nlink == 1
    elif (
        case == "read-only file"
    ):  # the directory's permission governs its names, as for mv, ld, latexmk
        target.write_bytes(OLD)
        target.chmod(0o444)
        succeeds(_run(tmp_path, make("out", name)))
    elif (
        case == "spaces, unicode, leading dash"
    ):  # (a value with a space is never read as an option)
        odd, odd_name = "-ü dir 反向 é", ("-r é.csv" if command == "grade" else "-r é")
        succeeds(_run(tmp_path, make(odd, odd_name)), tmp_path / odd / pattern.format(odd_name))
    elif case == "read-only directory":
        with read_only(out):
            _one_line_error(_run(tmp_path, make("out", name)), "out")
        assert sorted(out.iterdir()) == []
    elif case == "directory is a file":
        (tmp_path / "plain").write_bytes(OLD)
        result = _run(tmp_path, make("plain", name))
        _one_line_error(result, "plain")
        assert (tmp_path / "plain").read_bytes() == OLD
    elif case == "directory under a file":
        (tmp_path / "plain").write_bytes(OLD)
        _one_line_error(_run(tmp_path, make("plain/sub", name)), "plain")
        assert (tmp_path / "plain").read_bytes() == OLD
    elif case == "/proc":
        _one_line_error(_run(tmp_path, make("/proc/self", name)), "/proc/self")
    elif case == "/dev/full as dir":
        _one_line_error(_run(tmp_path, make("/dev/full", name)), "/dev/full")
        assert stat.S_ISCHR(os.lstat("/dev/full").st_mode)
    elif case in DEVICE_CASES:  # the device stays a device (even for root, who could replace it)
        device = Path(case)
        before = os.lstat(device)
        if command == "grade":  # --out /dev/null: refused in one line, before any judging
            _one_line_error(
                _run(tmp_path, ["grade", "hw", "answers.csv", "--out", case, "--jobs", "1"]),
                "not a regular file",
            )
        else:  # NAME.html is a link to the device: the link is replaced, the device untouched
            target.symlink_to(device)
            succeeds(_run(tmp_path, make("out", name)))
        after = os.lstat(device)
        assert stat.S_ISCHR(after.st_mode) and (after.st_rdev, after.st_ino) == (
            before.st_rdev,
            before.st_ino,
        )
        assert not [p for p in Path("/dev").iterdir() if p.name.startswith(f".{device.name}.")]
    else:
        raise AssertionError(case)
    assert _temporaries(tmp_path) == []


def test_a_device_at_the_name_itself_is_refused_for_every_file_command(tmp_path):
    """NAME.html (etc.) that *is* a character device (made with mknod when we are root, else a FIFO)."""
    out = tmp_path / "out"
    out.mkdir()
    for command, (make, pattern) in FILE_COMMANDS.items():
        if command == "grade":
            continue
        target = out / pattern.format("dev")
        if os.geteuid() == 0:
            os.mknod(target, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a second /dev/null
        else:
            os.mkfifo(target)
        before = os.lstat(target)
        _one_line_error(_run(tmp_path, make("out", "dev"), timeout=60), "not a regular file")
        after = os.lstat(target)
        assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)
    assert _temporaries(tmp_path) == []


@pytest.mark.skipif(
    not tex_available() and not os.environ.get("CI"), reason="no TeX on this machine"
)
def test_a_real_pdf_through_a_symlink_replaces_the_link_not_its_target(
    tmp_path,
):  # ("real PDF through a symlink")
    kept = tmp_path / "kept.pdf"
    kept.write_bytes(OLD)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "r.pdf").symlink_to(kept)
    result = _run(
        tmp_path,
        ["sheet", "--layers", "2", "1", "--no-check", "--out-dir", "out", "--out", "r"],
        300,
    )
    assert result.returncode == 0, result.stderr
    pdf = tmp_path / "out" / "r.pdf"
    assert _is_regular(pdf) and pdf.read_bytes().startswith(b"%PDF-")
    assert kept.read_bytes() == OLD
    assert _temporaries(tmp_path) == []


DIR_COMMANDS = {
    "homework": lambda d: [
        "homework",
        "--seed",
        "3",
        "--count",
        "1",
        "--tex-only",
        "--no-check",
        "--jobs",
        "1",
        "--out",
        d,
    ],
    "train": lambda d: ["train", "--data", "xor", "--epochs", "5", "--out", d],
}


@pytest.mark.parametrize("command, case", [c for c in CASES if c[0] in DIR_COMMANDS])
def test_an_output_directory_through_links_pipes_and_read_only_places(tmp_path, command, case):
    make = DIR_COMMANDS[command]
    elsewhere = tmp_path / "elsewhere"
    if (
        case == "symlink to the set"
    ):  # a previous set, reached through a link: the link is replaced, not the set
        done = _run(tmp_path, make("elsewhere"), 300)
        assert done.returncode == 0, done.stderr
        before = {p.name: p.read_bytes() for p in elsewhere.rglob("*") if p.is_file()}
        (tmp_path / "set").symlink_to(elsewhere)
        result = _run(tmp_path, make("set"), 300)
        assert result.returncode == 0 and result.stderr == "", result.stderr
        assert (tmp_path / "set").is_dir() and not (tmp_path / "set").is_symlink()
        assert {p.name: p.read_bytes() for p in elsewhere.rglob("*") if p.is_file()} == before
    elif case == "set is a FIFO":
        os.mkfifo(tmp_path / "set")
        _one_line_error(_run(tmp_path, make("set"), 60), "set")
        assert stat.S_ISFIFO(os.lstat(tmp_path / "set").st_mode)
    elif case == "set is a file":
        (tmp_path / "set").write_bytes(OLD)
        _one_line_error(_run(tmp_path, make("set")), "set")
        assert (tmp_path / "set").read_bytes() == OLD
    elif case == "read-only parent":
        (tmp_path / "ro").mkdir()
        with read_only(tmp_path / "ro"):
            _one_line_error(_run(tmp_path, make("ro/set")), "ro")
        assert list((tmp_path / "ro").iterdir()) == []
    elif case == "dangling symlink":
        (tmp_path / "set").symlink_to(tmp_path / "nothing")
        result = _run(tmp_path, make("set"), 300)
        if result.returncode == 0:
            assert (tmp_path / "set").is_dir() and not (tmp_path / "set").is_symlink()
        else:
            _one_line_error(result, "set")
            assert (tmp_path / "set").is_symlink()
        assert not (tmp_path / "nothing").exists()
    elif case == "spaces, unicode, leading dash":
        result = _run(tmp_path, make("-ü set 反向"), 300)
        assert result.returncode == 0, result.stderr
        assert (tmp_path / "-ü set 反向").is_dir()
    elif (
        case == "hard link in the set"
    ):  # a file of the old set hard-linked elsewhere keeps its content
        done = _run(tmp_path, make("set"), 300)
        assert done.returncode == 0, done.stderr
        os.link(tmp_path / "set" / "weights.json", tmp_path / "linked.json")
        old = (tmp_path / "linked.json").read_bytes()
        result = _run(tmp_path, ["train", "--data", "xor", "--epochs", "7", "--out", "set"], 300)
        assert result.returncode == 0, result.stderr
        assert (tmp_path / "linked.json").read_bytes() == old
        assert (tmp_path / "set" / "weights.json").read_bytes() != old
    else:
        raise AssertionError(case)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == [], leftovers
    assert _temporaries(tmp_path) == []
