"""The weight-change kind: Δw = -η ∂C_0/∂w (symbolic) or the updated weight w + Δw (with numbers).

Drawn, keyed, read back and judged; its key equals -η times the engine's gradient and the engine's own
update step; every slip it offers is named when an answer equals it; a hand-written set of student
answers gets the verdicts a teacher would give; the CLI writes sheets, a key check-answer reads, a
Moodle question, and grades a CSV. It is not a default kind (the versions of a seed stay as they were).
"""

from __future__ import annotations

import csv
import json
import random

import pytest
import sympy as sp

from derive.cli import main
from derive.engine.derivation import weight_gradient
from derive.errors import DeriveError
from derive.evaluate.points import PointValues
from derive.homework.answers import Mistake, Status, judge_here, judge_point, parse_student
from derive.homework.keys import load_key, read_key
from derive.homework.kinds import EXERCISE_KINDS, KINDS, LEARNING_RATES, Question, decimal_text
from derive.homework.questions import KEY_FORMAT, make_version
from derive.model.steps import UPDATE
from derive.notation.printing import latex
from tests.test_moodle import MoodleImport

KIND = "weight-change"
SYMBOLIC_SEED, NUMERIC_SEED = 3, 1  # version 1 of these seeds draws each variant

OUTPUT = Question(  # hidden-to-output weights, η = 0.1
    "q1", KIND, (2, 2, 2), ("sigmoid", "sigmoid"), "quadratic", False, layer=2, learning_rate="0.1"
)
HIDDEN = Question(  # input-to-hidden weights, η = 0.25, δ of layer 2 allowed
    "q2", KIND, (2, 2, 2), ("sigmoid", "sigmoid"), "quadratic", False, layer=1, learning_rate="0.25"
)
NUMERIC = Question(  # the updated weight w_01^(2) + Δw_01^(2), η = 0.2
    "q3",
    KIND,
    (2, 2, 1),
    ("sigmoid", "sigmoid"),
    "quadratic",
    False,
    layer=2,
    node=(0, 1),
    values={
        "x": ["0.5", "-0.3"],
        "y": ["0.9"],
        "weights": [[["0.1", "0.4"], ["-0.2", "0.3"]], [["0.7", "-0.5"]]],
    },
    learning_rate="0.2",
)


def _drawn(seed: int) -> Question:
    return make_version(seed, 1, (KIND,)).questions[0]


def _values_at(expr: sp.Expr, q: Question, rng: random.Random) -> list:
    """``expr`` at three random points of the network, for every (j, k) of the weight's layer."""
    net = q.network()
    s, layer = net.symbols, q.asked_layer
    out = []
    for _ in range(3):
        at = PointValues(net, judge_point(net, rng))
        for j in range(net.size(layer)):
            for k in range(net.size(layer - 1)):
                out.append(at(expr.xreplace({s.j: sp.Integer(j), s.k: sp.Integer(k)})))
    return out


def _same(a: list, b: list) -> bool:
    return all(abs(x - y) <= 1e-30 * max(1, abs(y)) for x, y in zip(a, b)) and len(a) == len(b)


# Drawing and the key --------------------------------------------------------------------------------
def test_it_is_registered_but_not_a_default_kind():
    assert KIND in EXERCISE_KINDS and KIND not in KINDS
    assert EXERCISE_KINDS[KIND].moodle_type_of(OUTPUT) == "essay"
    assert EXERCISE_KINDS[KIND].moodle_type_of(NUMERIC) == "numerical"


@pytest.mark.parametrize("seed, numeric", [(SYMBOLIC_SEED, False), (NUMERIC_SEED, True)])
def test_a_question_round_trips_from_draw_through_the_key_to_its_expected_answer(
    seed, numeric, tmp_path
):
    drawn = _drawn(seed)
    assert (drawn.values is not None) == numeric and drawn.learning_rate in LEARNING_RATES
    path = tmp_path / "key.json"
    path.write_text(make_version(seed, 1, (KIND,)).key_json())
    entry = json.loads(path.read_text())["questions"][0]
    assert entry["learning_rate"] == drawn.learning_rate and isinstance(entry["learning_rate"], str)
    loaded = read_key(path).questions["q1"]
    assert loaded.to_json() == drawn.to_json() and loaded.answer_latex() == drawn.answer_latex()
    assert judge_here(loaded.answer_latex(), loaded.expected()).status == Status.CORRECT
    if numeric:
        assert entry["answer_value"] == pytest.approx(float(drawn.answer_value), rel=1e-12)
    else:
        assert sp.simplify(loaded.expected().key - drawn.expected().key) == 0


@pytest.mark.parametrize("seed", range(12))
def test_every_drawn_question_is_answered_by_its_key(seed):
    q = _drawn(seed)
    assert judge_here(q.answer_latex(), q.expected()).status == Status.CORRECT


@pytest.mark.parametrize("q", [OUTPUT, HIDDEN, _drawn(SYMBOLIC_SEED)], ids=["out", "hid", "drawn"])
def test_the_key_is_minus_eta_times_the_engines_gradient_and_the_engines_update_step(q):
    net, rng = q.network(), random.Random(7)
    s, layer, eta = net.symbols, q.asked_layer, sp.Rational(q.learning_rate)
    engine = -eta * weight_gradient(net, layer)
    key = _values_at(q.answer(), q, rng)
    assert _same(key, _values_at(engine, q, random.Random(7)))
    # the key as printed (and read back by the judge) is the same formula
    (printed,) = parse_student(q.answer_latex(), q.expected())
    assert _same(_values_at(printed, q, random.Random(7)), key)
    # every step of the derivation's update block for this layer, η at its value, is the key
    steps = [st for st in net.derivation().block(UPDATE).steps if st.lhs == s.dw[layer, s.j, s.k]]
    assert len(steps) >= 2
    for step in steps[1:]:  # the first is the definition, -η ∂C/∂w
        rhs = step.rhs.xreplace({s.eta: eta})
        if rhs.has(s.delta):
            continue  # δ is the layer's error, checked by the engine's own tests
        assert _same(_values_at(rhs, q, random.Random(7)), key)


def test_the_numeric_answer_is_the_weight_plus_minus_eta_times_the_engines_gradient():
    net, q = NUMERIC.network(), NUMERIC
    s = net.symbols
    j, k = q.asked_node
    gradient = weight_gradient(net, 2).xreplace({s.j: j, s.k: k})
    at = PointValues(net, q.point())
    expected = sp.Rational("-0.5") - sp.Rational("0.2") * sp.Float(at(gradient), 60)
    assert abs(sp.Float(q.answer_value, 60) - expected) < sp.Float(10) ** -40
    assert judge_here(decimal_text(q.answer_value), q.expected()).status == Status.CORRECT


MALFORMED = [
    ({"learning_rate": None}, "'learning_rate' must be a decimal in (0, 1] written as a string"),
    ({"learning_rate": 0.1}, "'learning_rate' must be a decimal"),
    ({"learning_rate": "2"}, "'learning_rate' must be a decimal"),
    ({"learning_rate": "0"}, "'learning_rate' must be a decimal"),
    ({"learning_rate": "eta"}, "'learning_rate' must be a decimal"),
    ({"layer": 3}, "'layer' must be a weight layer from 1 to 2"),
]


@pytest.mark.parametrize("change, message", MALFORMED)
def test_the_key_check_refuses_a_malformed_symbolic_entry_in_one_line(change, message, tmp_path):
    entry = json.loads(make_version(SYMBOLIC_SEED, 1, (KIND,)).key_json())["questions"][0]
    path = tmp_path / "key.json"
    path.write_text(json.dumps({"format": KEY_FORMAT, "questions": [{**entry, **change}]}))
    with pytest.raises(DeriveError) as refused:
        load_key(path)
    assert "\n" not in str(refused.value) and message in str(refused.value)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"node": [5, 0]}, "'node' must be [j, k] of a weight of layer"),
        ({"values": {"x": ["abc"]}}, "values.x must be a list of 2 numbers"),
    ],
)
def test_the_key_check_refuses_a_malformed_numeric_entry(change, message, tmp_path):
    entry = json.loads(make_version(NUMERIC_SEED, 1, (KIND,)).key_json())["questions"][0]
    path = tmp_path / "key.json"
    path.write_text(json.dumps({"format": KEY_FORMAT, "questions": [{**entry, **change}]}))
    with pytest.raises(DeriveError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_key(path)


# Slips ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("q", [OUTPUT, HIDDEN], ids=["out", "hid"])
def test_every_symbolic_slip_is_judged_wrong_with_its_slip_named(q):
    expected = q.expected()
    names = {slip.mistake for slip in expected.slips}
    assert {Mistake.SIGN, Mistake.FORGOTTEN_LEARNING_RATE, Mistake.UPDATED_FOR_CHANGE} <= names
    assert Mistake.MISSING_TWO in names and Mistake.MISSING_ACTIVATION_DERIVATIVE in names
    for slip in expected.slips:
        verdict = judge_here(latex(slip.expr, q.network().notation), expected)
        assert verdict.status == Status.WRONG and verdict.mistake == slip.mistake, (slip, verdict)


def test_every_numeric_slip_is_judged_wrong_with_its_slip_named():
    expected = NUMERIC.expected()
    names = {slip.mistake for slip in expected.slips}
    assert {Mistake.SIGN, Mistake.FORGOTTEN_LEARNING_RATE, Mistake.CHANGE_FOR_UPDATED} <= names
    for slip in expected.slips:
        verdict = judge_here(decimal_text(slip.expr), expected)
        assert verdict.status == Status.WRONG and verdict.mistake == slip.mistake, (slip, verdict)


# Student answers, as students type them ---------------------------------------------------------------
OUT = r"(a_j^{(2)} - y_j)\sigma'(z_j^{(2)}) a_k^{(1)}"  # half the output gradient
HID = r"\sum_i \delta_i^{(2)} w_{ij}^{(2)} \sigma'(z_j^{(1)}) x_k"  # the hidden gradient, with δ
C, W, U = Status.CORRECT, Status.WRONG, Status.UNREADABLE
STUDENTS = [
    # the output weights, η = 0.1: Δw = -0.2 (a - y) σ'(z) a_k
    (OUTPUT, rf"-\eta \cdot 2{OUT}", C, None),
    (OUTPUT, rf"-2\eta {OUT}", C, None),
    (
        OUTPUT,
        r"-2 \eta \left(a_j^{(2)} - y_j\right) \sigma'\left(z_j^{(2)}\right) a_k^{(1)}",
        C,
        None,
    ),
    (OUTPUT, rf"-0.2 {OUT}", C, None),
    (OUTPUT, rf"-0.1 \cdot 2 \cdot {OUT}", C, None),
    (OUTPUT, rf"- 0.1*2*{OUT}", C, None),
    (OUTPUT, rf"-\frac{{1}}{{5}} {OUT}", C, None),
    (OUTPUT, r"0.2 (y_j - a_j^{(2)})\sigma'(z_j^{(2)}) a_k^{(1)}", C, None),
    (OUTPUT, rf"\Delta w_{{jk}}^{{(2)}} = -0.2 {OUT}", C, None),
    (OUTPUT, rf"\Delta w^{{(2)}}_{{jk}} = -2\eta{OUT}", C, None),
    (OUTPUT, rf"\Delta w = -0.1 \cdot 2 {OUT}", C, None),
    (OUTPUT, rf"Δw_{{jk}}^{{(2)}} = -2η {OUT}", C, None),
    (OUTPUT, r"-0.2 (a_j^{(2)} - y_j) a_j^{(2)} (1 - a_j^{(2)}) a_k^{(1)}", C, None),
    (OUTPUT, rf"-\eta 2{OUT}", C, None),
    (
        OUTPUT,
        r"-\eta \cdot 2 \left( a_j^{(2)} - y_j \right) \sigma(z_j^{(2)})(1-\sigma(z_j^{(2)})) a_k^{(1)}",
        C,
        None,
    ),
    (OUTPUT, rf"0.2 {OUT}", W, Mistake.SIGN),
    (OUTPUT, rf"\eta \cdot 2 {OUT}", W, Mistake.SIGN),
    (OUTPUT, rf"\Delta w_{{jk}}^{{(2)}} = +\eta 2 {OUT}", W, Mistake.SIGN),
    (OUTPUT, rf"-2{OUT}", W, Mistake.FORGOTTEN_LEARNING_RATE),
    (OUTPUT, rf"2{OUT}", W, Mistake.FORGOTTEN_LEARNING_RATE),
    (OUTPUT, rf"w_{{jk}}^{{(2)}} - 0.2 {OUT}", W, Mistake.UPDATED_FOR_CHANGE),
    (
        OUTPUT,
        rf"\Delta w_{{jk}}^{{(2)}} = w_{{jk}}^{{(2)}} - \eta \cdot 2{OUT}",
        W,
        Mistake.UPDATED_FOR_CHANGE,
    ),
    (OUTPUT, rf"-0.1 {OUT}", W, Mistake.MISSING_TWO),
    (OUTPUT, rf"-\eta {OUT}", W, Mistake.MISSING_TWO),
    (OUTPUT, r"-0.2 (a_j^{(2)} - y_j) a_k^{(1)}", W, Mistake.MISSING_ACTIVATION_DERIVATIVE),
    (OUTPUT, r"-0.2 (a_j^{(2)} - y_j)\sigma'(z_j^{(2)}) a_j^{(1)}", W, Mistake.A_J_FOR_A_K),
    (OUTPUT, r"-0.2 (a_j^{(2)} - y_j)\sigma'(z_j^{(2)})", W, Mistake.MISSING_INPUT),
    (OUTPUT, rf"-0.4 {OUT}", W, Mistake.EXTRA_TWO),
    (OUTPUT, rf"-0.3 {OUT}", W, Mistake.CONSTANT_FACTOR),
    (OUTPUT, r"\Delta w_{jk}^{(2)}", W, Mistake.NOT_AN_ANSWER),
    (OUTPUT, r"\Delta w_{jk}^{(2)} = \Delta w_{jk}^{(2)}", W, Mistake.NOT_AN_ANSWER),
    (OUTPUT, r"-\eta \frac{\partial C_0}{\partial w_{jk}^{(2)}}", W, Mistake.NOT_AN_ANSWER),
    (OUTPUT, r"\frac{\partial C_0}{\partial w_{jk}^{(2)}} = 2" + OUT, W, Mistake.NOT_AN_ANSWER),
    (OUTPUT, rf"\Delta w_{{jk}}^{{(1)}} = -0.2 {OUT}", W, Mistake.NOT_AN_ANSWER),
    (OUTPUT, r"-\eta \delta_j^{(2)} a_k^{(1)}", W, Mistake.NOT_AN_ANSWER),  # δ not allowed here
    (OUTPUT, r"-\eta", W, None),
    (OUTPUT, r"0", W, None),
    (OUTPUT, r"", U, None),
    (OUTPUT, r"-\eta \cdot", U, None),
    (OUTPUT, r"-\eta \cdot 2(a_j^{(2)} - y_j", U, None),
    (OUTPUT, r"\eta_j 2", U, None),
    (OUTPUT, r"hello", U, None),
    # the hidden weights, η = 0.25: Δw = -0.25 Σ_i δ_i w_ij σ'(z_j) x_k
    (HIDDEN, rf"-\eta {HID}", C, None),
    (HIDDEN, rf"-\frac{{1}}{{4}} {HID}", C, None),
    (HIDDEN, rf"-0.25\left({HID}\right)", C, None),
    (HIDDEN, rf"\Delta w_{{jk}}^{{(1)}} = -\eta \cdot {HID}", C, None),
    (
        HIDDEN,
        r"-0.25 \sum_i 2(a_i^{(2)} - y_i)\sigma'(z_i^{(2)}) w_{ij}^{(2)} \sigma'(z_j^{(1)}) x_k",
        C,
        None,
    ),
    (HIDDEN, rf"\eta {HID}", W, Mistake.SIGN),
    (HIDDEN, rf"-{HID}", W, Mistake.FORGOTTEN_LEARNING_RATE),
    (HIDDEN, rf"{HID}", W, Mistake.FORGOTTEN_LEARNING_RATE),
    (HIDDEN, rf"w_{{jk}}^{{(1)}} - \eta {HID}", W, Mistake.UPDATED_FOR_CHANGE),
    (HIDDEN, r"-\eta \delta_i^{(2)} w_{ij}^{(2)} \sigma'(z_j^{(1)}) x_k", W, Mistake.FORGOTTEN_SUM),
    (
        HIDDEN,
        r"-\eta \sum_i \delta_i^{(2)} w_{ij}^{(2)} x_k",
        W,
        Mistake.MISSING_ACTIVATION_DERIVATIVE,
    ),
    (HIDDEN, r"-\eta \delta_j^{(1)} x_k", W, Mistake.NOT_AN_ANSWER),
    (HIDDEN, r"-\eta \sum_j \delta_j^{(2)} w_{jj}^{(2)} x_k", W, Mistake.INDEX_MISUSE),
]


@pytest.mark.parametrize(
    "q, answer, status, mistake",
    STUDENTS,
    ids=[f"{q.id}-{i}" for i, (q, *_) in enumerate(STUDENTS)],
)
def test_student_answers_get_the_verdict_a_teacher_would_give(q, answer, status, mistake):
    verdict = judge_here(answer, q.expected())
    assert verdict.status == status, verdict
    if mistake is not None:
        assert verdict.mistake == mistake, verdict


def test_the_student_set_is_large_and_balanced():
    assert len(STUDENTS) >= 40
    assert sum(s == C for *_, s, _ in STUDENTS) >= 12 and sum(s == W for *_, s, _ in STUDENTS) >= 20


def _numbers() -> list[tuple[str, Status, Mistake | None]]:
    q = NUMERIC
    net = q.network()
    s = net.symbols
    at = PointValues(net, q.point())
    gradient = float(at(weight_gradient(net, 2).xreplace({s.j: 0, s.k: 1})))
    w, eta, value = -0.5, 0.2, float(q.answer_value)
    return [
        (decimal_text(q.answer_value), C, None),
        (f"{value:.6f}", C, None),
        (f"  {value:.5g} ", C, None),
        (rf"-0.5 - 0.2 \cdot {gradient:.8f}", C, None),
        (rf"-0.5 - \eta \cdot {gradient:.8f}", C, None),
        (f"{value:.2g}", W, Mistake.TOO_FEW_DIGITS),
        (f"{w + eta * gradient:.4g}", W, Mistake.SIGN),
        (f"{w - gradient:.4g}", W, Mistake.FORGOTTEN_LEARNING_RATE),
        (f"{-eta * gradient:.4g}", W, Mistake.CHANGE_FOR_UPDATED),
        (f"{gradient:.4g}", W, Mistake.FORGOTTEN_LEARNING_RATE),
        (f"{w:.4g}", W, None),
        (r"\eta", W, None),
        ("w_{01}^{(2)}", W, None),
        ("", U, None),
        ("0.5.", U, None),
    ]


def test_numeric_student_answers_get_the_verdict_a_teacher_would_give():
    for answer, status, mistake in _numbers():
        verdict = judge_here(answer, NUMERIC.expected())
        assert verdict.status == status, (answer, verdict)
        if mistake is not None:
            assert verdict.mistake == mistake, (answer, verdict)


# The command line: sheets, key, check-answer, grade, Moodle --------------------------------------------
def test_homework_check_answer_grade_and_moodle_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "hw"
    argv = ["homework", "--kinds", KIND, "--seed", str(SYMBOLIC_SEED), "--out", str(out)]
    assert main([*argv, "--tex-only", "--jobs", "1", "-q"]) == 0
    key = out / "version-1" / "key.json"
    question = read_key(key).questions["q1"]
    right = question.answer_latex()
    assert right.startswith("-")
    wrong = right[1:]  # the sign of the step forgotten
    capsys.readouterr()
    assert main(["check-answer", str(key), "q1", right]) == 0
    assert main(["check-answer", str(key), "q1", wrong]) == 1
    said = capsys.readouterr().out
    assert "sign of the step" in said
    exercises = (out / "version-1" / "exercises.tex").read_text(encoding="utf-8")
    assert "gradient descent" in exercises and rf"\eta = {question.learning_rate}" in exercises
    assert r"\Delta w_{jk}^{(" in exercises
    solutions = (out / "version-1" / "solutions.tex").read_text(encoding="utf-8")
    assert "Weight changes: gradient descent" in solutions
    moodle = (out / "moodle.xml").read_text(encoding="utf-8")
    assert "kind:weight-change" in moodle and 'type="essay"' in moodle
    assert f"learning-rate:{question.learning_rate}" in moodle
    assert "a weight change by gradient descent" in moodle
    assert MoodleImport(moodle).errors == []  # what Moodle's importer would refuse
    answers = tmp_path / "answers.csv"
    with answers.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerows(
            [
                ["student", "version", "question", "answer"],
                ["ann", 1, "q1", right],
                ["bob", 1, "q1", wrong],
                ["cat", 1, "q1", r"\Delta w"],
            ]
        )
    grades = tmp_path / "grades.csv"
    assert main(["grade", str(out), str(answers), "--out", str(grades)]) == 0
    rows = list(csv.DictReader(grades.open(encoding="utf-8", newline="")))
    assert [r["verdict"] for r in rows] == ["correct", "wrong", "wrong"]
    assert "sign of the step" in rows[1]["feedback"] and "restates" in rows[2]["feedback"]


def test_the_numeric_variant_goes_into_moodle_as_a_numerical_question(tmp_path):
    out = tmp_path / "hw"
    argv = ["homework", "--kinds", KIND, "--seed", str(NUMERIC_SEED), "--out", str(out)]
    assert main([*argv, "--tex-only", "--jobs", "1", "-q", "--no-check"]) == 0
    moodle = (out / "moodle.xml").read_text(encoding="utf-8")
    q = read_key(out / "version-1" / "key.json").questions["q1"]
    assert 'type="numerical"' in moodle and "variant:numeric" in moodle
    assert MoodleImport(moodle).errors == []
    assert f"{float(q.answer_value):.10f}"[:8] in moodle
    exercises = (out / "version-1" / "exercises.tex").read_text(encoding="utf-8")
    assert "updated weight" in exercises and r"\eta & " in exercises
