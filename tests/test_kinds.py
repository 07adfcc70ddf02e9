"""Exercise kinds as classes (derive.homework.kinds) and answer keys checked while read (derive.homework.keys).

Every registered kind round-trips draw -> key entry -> load_key -> expected; the key check refuses a
malformed entry of each kind in one line; the library's grade() refuses the keys the CLI refuses, with
the same message; and a kind registered in one place is drawn, written, read, judged, graded and put on
sheets and into the Moodle export without any other change.
"""

from __future__ import annotations

import csv
import json
import random

import pytest
import sympy as sp

from derive.cli import main
from derive.errors import DeriveError
from derive.homework import kinds as kinds_module
from derive.homework.answers import Expected, Status, judge_here, slips
from derive.homework.grading import grade, load_keys
from derive.homework.keys import check_key_file, load_key, read_key
from derive.homework.kinds import EXERCISE_KINDS, KINDS, ExerciseKind, kind_named
from derive.homework.questions import KEY_FORMAT, Question, make_version
from derive.read.latex import Context

BUILT_IN = ("activation-derivative", "weight-gradient", "numeric-gradient", "missing-factor")


def _write_key(path, *entries, version=1):
    path.write_text(
        json.dumps({"format": KEY_FORMAT, "version": version, "questions": list(entries)})
    )
    return path


def _entry(kind: str, seed: int = 3) -> dict:
    return json.loads(make_version(seed, 1, (kind,)).key_json())["questions"][0]


def test_the_registry_holds_the_four_kinds_by_their_key_file_names_in_the_old_order():
    assert KINDS == BUILT_IN
    assert all(
        EXERCISE_KINDS[name].name == name and isinstance(EXERCISE_KINDS[name], ExerciseKind)
        for name in BUILT_IN
    )
    assert [EXERCISE_KINDS[name].moodle_type for name in BUILT_IN] == [
        "essay",
        "essay",
        "numerical",
        "essay",
    ]
    with pytest.raises(DeriveError, match="unknown question kind 'integral'"):
        kind_named("integral")


@pytest.mark.parametrize("kind", BUILT_IN)
def test_every_kind_round_trips_from_draw_through_the_key_to_its_expected_answer(kind, tmp_path):
    drawn = make_version(11, 2, (kind,)).questions[0]
    assert drawn.kind == kind and drawn.exercise is EXERCISE_KINDS[kind]
    path = tmp_path / "key.json"
    path.write_text(make_version(11, 2, (kind,)).key_json())
    key = read_key(path)
    assert key.version == 2 and list(key.questions) == ["q1"]
    loaded = key.questions["q1"]
    assert loaded.kind == kind and loaded.answer_latex() == drawn.answer_latex()
    assert sp.simplify(loaded.expected().key - drawn.expected().key) == 0
    assert judge_here(loaded.answer_latex(), loaded.expected()).status == Status.CORRECT


def test_the_same_seed_still_draws_the_same_questions():
    first = [q.to_json() for q in make_version(5, 3, KINDS, 8).questions]
    again = [q.to_json() for q in make_version(5, 3, KINDS, 8).questions]
    assert first == again and [q["kind"] for q in first] == list(KINDS) * 2


# One malformation per kind: what that kind's own check refuses, and the words of the refusal.
MALFORMED = {
    "activation-derivative": (
        {"activation": "tanh"},
        "'activation' must be a list of activation names, got 'tanh'",
    ),
    "weight-gradient": ({"layer": 9}, "'layer' must be a weight layer from 1 to 2, got 9"),
    "numeric-gradient": ({"node": [5, 0]}, "'node' must be [j, k] of a weight of layer"),
    "missing-factor": ({"factor": 3}, "'factor' must be 0, 1 or 2, got 3"),
}


def test_every_built_in_kind_has_a_malformed_case():
    assert set(MALFORMED) == set(BUILT_IN)


@pytest.mark.parametrize("kind", BUILT_IN)
def test_the_key_check_refuses_a_malformed_entry_of_each_kind_in_one_line(kind, tmp_path):
    change, message = MALFORMED[kind]
    entry = {**_entry(kind), **change}
    path = _write_key(tmp_path / "key.json", entry)
    with pytest.raises(DeriveError) as refused:
        load_key(path)
    text = str(refused.value)
    assert (
        "\n" not in text and text.startswith(f"answer key {path}, question 1: ") and message in text
    )


def test_a_numeric_entry_without_its_numbers_is_refused():
    entry = {k: v for k, v in _entry("numeric-gradient").items() if k != "values"}
    with pytest.raises(DeriveError, match="a numeric question needs its 'values'"):
        kinds_module.EXERCISE_KINDS["numeric-gradient"].check_key(
            entry, entry["layers"], lambda field, what: DeriveError(field), "here"
        )


def test_the_check_runs_while_loading(tmp_path):
    path = _write_key(tmp_path / "key.json", {**_entry("weight-gradient"), "layers": "abc"})
    with pytest.raises(DeriveError, match="'layers' must be a list of layer sizes from 1 to 32"):
        load_key(path)
    with pytest.raises(DeriveError, match="'layers' must be"):
        check_key_file(path)
    from derive.homework.questions import (
        load_key as load_key_of_questions,
    )  # the old place still works

    with pytest.raises(DeriveError, match="'layers' must be"):
        load_key_of_questions(path)


def _cli_error(capsys, *argv) -> str:
    code = main(list(argv))
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    return err.removeprefix("derive: error: ").strip()


BAD_KEYS = {
    "layer-string": _entry("weight-gradient") | {"layer": "x"},
    "kind": _entry("weight-gradient") | {"kind": "integral"},
    "values": _entry("numeric-gradient") | {"values": {"x": ["abc"]}},
    "factor": _entry("missing-factor") | {"factor": None},
}


@pytest.mark.parametrize("name", BAD_KEYS)
def test_grade_from_python_refuses_the_key_the_cli_refuses_with_the_same_message(
    name, tmp_path, capsys
):
    key = _write_key(tmp_path / "key.json", BAD_KEYS[name])
    answers = tmp_path / "answers.csv"
    answers.write_text("student,version,question,answer\nann,1,q1,0\n")
    said = _cli_error(capsys, "grade", str(key), str(answers), "--out", str(tmp_path / "cli.csv"))
    assert said == _cli_error(capsys, "check-answer", str(key), "q1", "0")
    with pytest.raises(DeriveError) as refused:
        grade(key, answers, tmp_path / "lib.csv", jobs=1)
    assert str(refused.value) == said
    assert not (tmp_path / "lib.csv").exists() and not (tmp_path / "cli.csv").exists()


def test_a_bad_key_in_a_homework_directory_is_refused_by_grade(tmp_path):
    folder = tmp_path / "hw" / "version-1"
    folder.mkdir(parents=True)
    _write_key(folder / "key.json", BAD_KEYS["layer-string"])
    answers = tmp_path / "answers.csv"
    answers.write_text("student,version,question,answer\nann,1,q1,0\n")
    with pytest.raises(DeriveError, match="'layer' must be a weight layer"):
        grade(tmp_path / "hw", answers, tmp_path / "grades.csv", jobs=1)


# Adding a kind: one class, registered; nothing else changes -----------------------------------------
class CostDerivative(ExerciseKind):
    """A toy kind: ∂C_0/∂a_j^(L), the first factor of every output gradient."""

    name = "cost-derivative"
    title = "the derivative of the cost"

    def draw(self, rng: random.Random, qid: str) -> Question:
        cost = rng.choice(("quadratic", "half-quadratic"))
        return Question(qid, self.name, (2, rng.randint(1, 3)), ("sigmoid",), cost, layer=1)

    def _written(self, q: Question):
        s = q.network().symbols
        return s.a[q.network().L, s.j]

    def answer(self, q: Question) -> sp.Expr:
        net = q.network()
        return net.cost.derivative_at(self._written(q), net.symbols.y[net.symbols.j])

    def expected(self, q: Question) -> Expected:
        net, key = q.network(), q.answer()
        asked = (sp.Derivative(net.symbols.cost, self._written(q)),)
        return Expected(key, Context(net, layer=net.L), asked=asked, slips=slips(key, net, net.L))

    def sheet_context(self, q: Question) -> dict:
        from derive.render import latex as lr

        return {
            **kinds_module.network_context(q),
            "prompt": [lr.Tex(r"Give $\partial C_0/\partial a_j^{(L)}$.")],
            "display": lr.Tex(r"\frac{\partial C_0}{\partial a_j^{(L)}} = \;?"),
        }

    def solution_blocks(self, q: Question) -> list:
        return kinds_module.backward_blocks(q, q.network().L)

    def check_key(self, entry: dict, layers: list, bad, where: str) -> None:
        if entry.get("cost") not in ("quadratic", "half-quadratic"):
            raise bad("cost", "quadratic or half-quadratic")


@pytest.fixture
def toy_kind(monkeypatch):
    monkeypatch.setitem(EXERCISE_KINDS, CostDerivative.name, CostDerivative())
    return CostDerivative.name


def test_a_registered_kind_is_drawn_keyed_loaded_and_judged(toy_kind, tmp_path):
    version = make_version(4, 1, (toy_kind, "weight-gradient"))
    path = tmp_path / "key.json"
    path.write_text(version.key_json())
    questions = load_key(path)
    toy = questions["q1"]
    assert toy.kind == toy_kind and toy.answer_latex() == version.questions[0].answer_latex()
    assert judge_here(toy.answer_latex(), toy.expected()).status == Status.CORRECT
    assert judge_here(rf"-\left({toy.answer_latex()}\right)", toy.expected()).status == Status.WRONG
    entry = json.loads(version.key_json())["questions"][0] | {"cost": "cross-entropy"}
    with pytest.raises(DeriveError, match="'cost' must be quadratic or half-quadratic"):
        load_key(_write_key(tmp_path / "bad.json", entry))


def test_a_registered_kind_is_graded_and_goes_on_sheets_and_into_moodle(toy_kind, tmp_path):
    from derive.homework.sheets import generate

    out = tmp_path / "hw"
    generate(2, 1, out, (toy_kind,), tex_only=True, jobs=1, progress=False, check=False)
    exercises = (out / "version-1" / "exercises.tex").read_text(encoding="utf-8")
    assert (
        "the derivative of the cost" in exercises
        and r"\partial C_0/\partial a_j^{(L)}" in exercises
    )
    moodle = (out / "moodle.xml").read_text(encoding="utf-8")
    assert "kind:cost-derivative" in moodle and 'type="essay"' in moodle
    right = load_keys(out).versions[1]["q1"].answer_latex()
    answers = tmp_path / "answers.csv"
    answers.write_text(f"student,version,question,answer\nann,1,q1,{right}\nbob,1,q1,0\n")
    summary = grade(load_keys(out), answers, tmp_path / "grades.csv", jobs=1)
    rows = list(csv.DictReader((tmp_path / "grades.csv").open(encoding="utf-8", newline="")))
    assert [r["verdict"] for r in rows] == ["correct", "wrong"] and summary.counts["correct"] == 1
