"""Benchmark: `derive grade` on a class of symbolic answers with 1 and 2 jobs, and one check-answer.

Run: python bench/grade_speed.py [--students 300] [--questions 3] [--runs 20] [--keys DIR]

The class: every student answers ``--questions`` symbolic questions (activation-derivative,
weight-gradient, missing-factor) of one of two versions; each answer is the key's own
answer_latex or a simple wrong variant (a sign, a factor 2, a half, a dropped factor), and
every answer's text is made distinct (a harmless "1 \\cdot", spaced differently), so no judgement
is shared between students and the rate measured is the judge's, not the de-duplication's (`derive
grade` judges identical answers to a question once). Each run is the real command in a fresh
interpreter (`python -m derive grade ...`): wall time, and CPU time of it and its children.

Then the median wall time of 20 runs of `python -m derive check-answer KEY q2 '<the key's
answer>'` against the median of `python -c "import sympy"` measured in turns with it (the floor
any check-answer pays: derive is built on SymPy), both with bytecode cached as in an installed
package (the runs use their own PYTHONPYCACHEPREFIX after a warm-up run).
Goals (issue 8): >= 20 answers/s on 2 cores; check-answer < 0.6 s median.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SYMBOLIC = ("activation-derivative", "weight-gradient", "missing-factor")
DEFAULT_KEYS = [ROOT / "tests" / "data" / "keys-v1" / f"seed1-v{v}.json" for v in (1, 2)]


def homework_dir(out: Path, keys: str | None) -> Path:
    """A homework directory: the given one, or version-N/key.json made from the test keys."""
    if keys:
        return Path(keys)
    for number, key in enumerate(DEFAULT_KEYS, 1):
        (out / "hw" / f"version-{number}").mkdir(parents=True)
        shutil.copy(key, out / "hw" / f"version-{number}" / "key.json")
    return out / "hw"


def variants(right: str) -> list[str]:
    return [
        right,
        right,
        f"-({right})",
        f"2 ({right})",
        rf"\frac{{1}}{{2}} ({right})",
        f"({right})^2",
    ]


def write_class(
    path: Path, homework: Path, students: int, questions: int, rng: random.Random
) -> int:
    versions = {}
    for key in sorted(homework.glob("version-*/key.json")):
        data = json.loads(key.read_text(encoding="utf-8"))
        symbolic = [q for q in data["questions"] if q["kind"] in SYMBOLIC]
        versions[key.parent.name.split("-")[1]] = symbolic[:questions]
    count = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["student", "version", "question", "answer"])
        names = sorted(versions)
        for n in range(students):
            version = names[n % len(names)]
            for question in versions[version]:
                answer = rng.choice(variants(question["answer_latex"]))
                # distinct text for every student (a neutral factor, spaced in 400 ways), so that
                # no two answers share a judgement
                answer = "1" + " " * (n % 20) + "\\cdot" + " " * (n // 20 % 20 + 1) + answer
                writer.writerow([f"student {n:04d}", version, question["id"], answer])
                count += 1
    return count


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def installed_environment(cache: Path) -> dict[str, str]:
    """The environment of an installed package: bytecode cached (pip compiles it on install), which a
    development shell with PYTHONDONTWRITEBYTECODE=1 would otherwise recompile on every run."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, the command and every process it forked)."""
    cpu, start = _cpu(), time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start, _cpu() - cpu


def grade_seconds(
    homework: Path, answers: Path, out: Path, jobs: int, env: dict[str, str]
) -> tuple[float, float, str]:
    """Wall and CPU seconds of `derive grade`, and its summary line."""
    cpu, start = _cpu(), time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "derive",
            "grade",
            str(homework),
            str(answers),
            "--out",
            str(out),
            "--jobs",
            str(jobs),
        ],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return time.perf_counter() - start, _cpu() - cpu, done.stdout.strip()


def median_seconds(
    commands: list[list[str]], runs: int, env: dict[str, str]
) -> list[tuple[float, float]]:
    """Median wall and median CPU seconds of each command over ``runs`` runs, taken in turns (so that
    a change in the machine's load falls on all of them alike), after one warm-up run each."""
    times: list[list[tuple[float, float]]] = [[] for _ in commands]
    for command in commands:
        timed(command, env)
    for _ in range(runs):
        for command, measured in zip(commands, times):
            measured.append(timed(command, env))
    return [
        (statistics.median(t[0] for t in measured), statistics.median(t[1] for t in measured))
        for measured in times
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument(
        "--questions", type=int, default=3, help="symbolic questions per student (at most 6)"
    )
    parser.add_argument("--runs", type=int, default=20, help="check-answer runs for the median")
    parser.add_argument(
        "--keys",
        default=None,
        metavar="DIR",
        help="a `derive homework` directory (default: two versions of tests/data/keys-v1)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        homework = homework_dir(scratch, args.keys)
        answers = scratch / "answers.csv"
        count = write_class(answers, homework, args.students, args.questions, random.Random(8))
        env = installed_environment(scratch / "bytecode")
        timed(
            [sys.executable, "-m", "derive", "--version"], env
        )  # compile once, as pip does on install
        seconds = {
            jobs: grade_seconds(homework, answers, scratch / f"grades-{jobs}.csv", jobs, env)
            for jobs in (1, 2)
        }
        with (scratch / "grades-2.csv").open(encoding="utf-8", newline="") as grades:
            verdicts = [row["verdict"] for row in csv.DictReader(grades)]
        key = sorted(homework.glob("version-*/key.json"))[0]
        question = next(
            q for q in json.loads(key.read_text())["questions"] if q["kind"] == "weight-gradient"
        )
        command = [sys.executable, "-m", "derive", "check-answer", str(key), question["id"]]
        check, wrong, floor = median_seconds(
            [
                command + [question["answer_latex"]],
                command + [f"-({question['answer_latex']})"],
                [sys.executable, "-c", "import sympy"],
            ],
            args.runs,
            env,
        )
    load = os.getloadavg()[0]
    print(
        f"derive grade: {count} symbolic answers, {args.students} students, all distinct "
        f"({', '.join(f'{verdicts.count(v)} {v}' for v in ('correct', 'wrong', 'unreadable', 'error'))}); "
        f"{os.cpu_count()} cores, load average {load:.1f} before the runs"
    )
    print(
        f"{'jobs':<6}{'answers':>9}{'seconds':>10}{'answers/s':>11}{'vs 1 job':>10}{'CPU s':>8}{'CPU ms/answer':>15}"
    )
    for jobs, (wall, cpu, _) in seconds.items():
        print(
            f"{jobs:<6}{count:>9}{wall:>10.1f}{count / wall:>11.1f}{seconds[1][0] / wall:>9.2f}x"
            f"{cpu:>8.1f}{1e3 * cpu / count:>15.0f}"
        )
    for jobs, (_, _, line) in seconds.items():
        print(f"  --jobs {jobs}: {line}")
    per_answer = min(cpu for _, cpu, _ in seconds.values()) / count
    print(
        f"CPU per answer {1e3 * per_answer:.0f} ms (start-up and keys included): with 2 free cores at most "
        f"{2 / per_answer:.0f} answers/s; the wall times above are what this machine's load allowed"
    )
    print(
        f"\ncheck-answer ({question['kind']} {question['id']}, correct), median of {args.runs}: "
        f"{check[0]:.2f} s wall, {check[1]:.2f} s CPU; python -c 'import sympy': {floor[0]:.2f} s wall, "
        f"{floor[1]:.2f} s CPU (derive adds {check[0] - floor[0]:.2f} s wall); a wrong answer (a sign, named): "
        f"{wrong[0]:.2f} s wall"
    )


if __name__ == "__main__":
    main()
