"""The answer checker against a hand-written corpus of student answers (tests/data/answer_corpus.toml).

Every entry is an answer as students type or paste it, for a question of the keys in
tests/data/keys-v1/, with the verdict it deserves worked out from the mathematics (and, for a
wrong answer that is exactly one of the usual slips, the Mistake it should be named as). The
corpus is the ground truth: when the judge and the corpus disagree, the judge is suspect.

What is asserted:
  * the corpus itself is well formed and big enough (>= 300 entries, >= 40 of each verdict);
  * no false accept: nothing expected wrong or unreadable is judged correct (every offender listed);
  * no crash: every status is correct / wrong / unreadable and no message shows a Python
    exception name or a traceback;
  * the verdicts agree on at least 97% of the corpus;
  * for wrong answers with a named mistake, the judge names the same one in at least 90% of them
    (naming a different mistake, or none, counts as a disagreement).

The whole corpus is judged once per process (module-level cache) in one test, so that under
pytest-xdist the judging is not repeated on every worker.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

from derive.homework.answers import judge_here
from derive.homework.questions import load_key
from tests.redteam import Surface

DATA = Path(__file__).parent / "data"
CORPUS = DATA / "answer_corpus.toml"
KEYS = DATA / "keys-v1"
VERDICTS = ("correct", "wrong", "unreadable")
FIELDS = {"key", "question", "answer", "verdict", "mistake", "why"}
MISTAKES = {  # the contract's Mistake values ("" = wrong with no known slip)
    "sign",
    "missing-factor-2",
    "extra-factor-2",
    "missing-activation-derivative",
    "a_j-for-a_k",
    "transposed-weight",
    "forgotten-downstream-sum",
    "forgotten-inner-derivative",
    "free-index",
    "index-out-of-range",
    "not-an-answer",
    "not-finite",
    "too-few-digits",
    "constant-factor",
    "missing-input",
}
EXCEPTION_NAME = re.compile(
    r"\b(?:[A-Z][a-z0-9]*)+(?:Error|Exception|Warning)\b|Traceback|\bFile \""
)
MIN_ENTRIES, MIN_PER_VERDICT = 300, 40
MIN_AGREEMENT, MIN_MISTAKE_AGREEMENT = 0.97, 0.90


@dataclass(frozen=True)
class Judged:
    number: int  # 1-based position in the corpus
    entry: dict
    status: str
    mistake: str
    message: str

    @property
    def expected(self) -> str:
        return self.entry["verdict"]

    def describe(self) -> str:
        e = self.entry
        expected = e["verdict"] + (f"/{e['mistake']}" if e["mistake"] else "")
        got = self.status + (f"/{self.mistake}" if self.mistake else "")
        return (
            f"#{self.number} {e['key']} {e['question']} ({e['why']}): expected {expected}, judged {got}\n"
            f"      answer:  {e['answer'][:200]!r}\n      message: {self.message[:200]!r}"
        )


def _text(value) -> str:
    """A str enum member (or a plain string, or None) as its plain value."""
    if value is None:
        return ""
    return str(getattr(value, "value", value))


@functools.lru_cache(maxsize=None)
def corpus() -> tuple[dict, ...]:
    with CORPUS.open("rb") as handle:
        return tuple(tomllib.load(handle)["answer"])


@functools.lru_cache(maxsize=None)
def _questions(key: str) -> dict:
    return load_key(KEYS / key)


@functools.lru_cache(maxsize=None)
def _expected(key: str, question: str):
    return _questions(key)[question].expected()


@functools.lru_cache(maxsize=None)
def judged() -> tuple[Judged, ...]:
    out = []
    for number, entry in enumerate(corpus(), 1):
        verdict = judge_here(entry["answer"], _expected(entry["key"], entry["question"]))
        out.append(
            Judged(
                number, entry, _text(verdict.status), _text(verdict.mistake), str(verdict.message)
            )
        )
    return tuple(out)


# The corpus itself --------------------------------------------------------------------------
REDTEAM = [
    Surface(
        surface="answers to check-answer and grade (hand-written)",
        tried="answers as students type and "
        "paste them: right in other forms, the usual slips, notation mix-ups, junk",
        cases=len(corpus()),
        limit="",
        holds="no wrong or unreadable answer accepted; verdicts agree on at least 97 %",
    )
]


def test_corpus_is_well_formed():
    entries = corpus()
    problems = []
    for number, entry in enumerate(entries, 1):
        where = (
            f"#{number} {entry.get('key')} {entry.get('question')} {entry.get('answer', '')[:60]!r}"
        )
        if set(entry) != FIELDS:
            problems.append(f"{where}: fields {sorted(entry)}, expected {sorted(FIELDS)}")
            continue
        if not all(isinstance(entry[f], str) for f in FIELDS):
            problems.append(f"{where}: every field is a string")
        if not (KEYS / entry["key"]).is_file():
            problems.append(f"{where}: no key file {entry['key']}")
        elif entry["question"] not in _questions(entry["key"]):
            problems.append(f"{where}: no question {entry['question']} in {entry['key']}")
        if entry["verdict"] not in VERDICTS:
            problems.append(f"{where}: verdict {entry['verdict']!r} is not one of {VERDICTS}")
        if entry["mistake"] and (entry["verdict"] != "wrong" or entry["mistake"] not in MISTAKES):
            problems.append(
                f"{where}: mistake {entry['mistake']!r} (only a contract value, only for wrong)"
            )
        if not entry["why"].strip():
            problems.append(f"{where}: say in a few words what the student did")
    if problems:
        pytest.fail("malformed corpus entries:\n" + "\n".join(problems), pytrace=False)

    counts = Counter(e["verdict"] for e in entries)
    assert len(entries) >= MIN_ENTRIES, f"only {len(entries)} entries (want >= {MIN_ENTRIES})"
    for verdict in VERDICTS:
        assert counts[verdict] >= MIN_PER_VERDICT, (
            f"only {counts[verdict]} {verdict} entries: {dict(counts)}"
        )
    kinds = {_questions(e["key"])[e["question"]].kind for e in entries}
    assert kinds == {
        "activation-derivative",
        "weight-gradient",
        "numeric-gradient",
        "missing-factor",
    }, kinds


# The judge against the corpus ---------------------------------------------------------------
def test_judge_agrees_with_the_corpus():
    results = judged()
    failures = []

    # (1) no false accept
    accepted = [r for r in results if r.expected != "correct" and r.status == "correct"]
    if accepted:
        failures.append(
            f"FALSE ACCEPTS ({len(accepted)}): expected wrong/unreadable, judged correct\n"
            + "\n".join(r.describe() for r in accepted)
        )

    # (2) no crash: a known status and a message with no Python internals in it
    crashed = [r for r in results if r.status not in VERDICTS or EXCEPTION_NAME.search(r.message)]
    if crashed:
        failures.append(
            f"CRASHES ({len(crashed)}): status outside {VERDICTS} or an exception in the message\n"
            + "\n".join(r.describe() for r in crashed)
        )

    # (3) verdict agreement
    disagree = [r for r in results if r.status != r.expected]
    agreement = 1 - len(disagree) / len(results)
    report = "\n".join(r.describe() for r in disagree)
    print(f"\nverdict agreement {agreement:.1%} ({len(results) - len(disagree)}/{len(results)})")
    if disagree:
        print("verdict disagreements:\n" + report)
    if agreement < MIN_AGREEMENT:
        failures.append(
            f"VERDICT AGREEMENT {agreement:.1%} < {MIN_AGREEMENT:.0%} "
            f"({len(disagree)} of {len(results)} disagree)\n{report}"
        )

    # (4) named mistakes: the same name (a different name, or none, is a disagreement)
    named = [r for r in results if r.expected == "wrong" and r.entry["mistake"]]
    misnamed = [r for r in named if r.status != "wrong" or r.mistake != r.entry["mistake"]]
    mistake_agreement = 1 - len(misnamed) / len(named) if named else 1.0
    mistake_report = "\n".join(r.describe() for r in misnamed)
    print(
        f"named-mistake agreement {mistake_agreement:.1%} ({len(named) - len(misnamed)}/{len(named)})"
    )
    if misnamed:
        print("named-mistake disagreements:\n" + mistake_report)
    if mistake_agreement < MIN_MISTAKE_AGREEMENT:
        failures.append(
            f"NAMED-MISTAKE AGREEMENT {mistake_agreement:.1%} < {MIN_MISTAKE_AGREEMENT:.0%} "
            f"({len(misnamed)} of {len(named)})\n{mistake_report}"
        )

    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)
