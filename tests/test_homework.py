"""Homework: versions from seeds, answers from the engine, answer checking with named mistakes."""

import json
import subprocess
import xml.etree.ElementTree as ET

import pytest

from derive import DeriveError
from derive.homework.answers import Status, judge
from derive.homework.questions import KINDS, load_key, make_version


# Keys ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [1, 7, 2024])
def test_every_key_answer_is_judged_correct_by_the_checker(seed):
    for question in make_version(seed, 1, KINDS, 6).questions:
        verdict = judge(question.answer_latex(), question.expected())
        assert verdict.status == Status.CORRECT, (question, verdict)


def test_same_seed_same_key_bytes_different_seed_different_versions():
    assert make_version(7, 1).key_json() == make_version(7, 1).key_json()
    assert make_version(7, 1).key_json() != make_version(8, 1).key_json()
    assert make_version(7, 1).key_json() != make_version(7, 2).key_json()


def test_numeric_questions_are_worth_doing_and_match_finite_differences():
    from derive.evaluate.exact import Model
    from derive.read.spec_file import Spec

    for seed in range(12):
        question = make_version(seed, 1, ("numeric-gradient",)).questions[0]
        net, values = question.network(), question.spec_values()
        numbers = [v for v in values.x + values.y] + [
            w for m in values.weights for r in m for w in r
        ]
        assert all((10 * v).is_integer for v in numbers)  # one decimal: computable by hand
        model = Model(net, point=question.point())
        for layer in range(1, net.L + 1):  # no dead ReLU layer
            if net.activation(layer).kinks:
                assert any(
                    model.values[net.symbols.z[layer, j]] > 0 for j in range(net.size(layer))
                )
        value = question.to_json()["answer_value"]
        assert abs(value) >= 1e-3
        weights, biases, X, Y = Spec(tuple(net.sizes), values=values, bias=net.bias).arrays()
        j, k, shift = *question.node, 1e-6
        plus, minus = [w.copy() for w in weights], [w.copy() for w in weights]
        plus[question.layer - 1][j, k] += shift
        minus[question.layer - 1][j, k] -= shift
        cost = net.numeric().cost
        fd = (cost(plus, biases, X, Y) - cost(minus, biases, X, Y)) / (2 * shift)
        assert value == pytest.approx(fd, rel=1e-6)


# Files and the command line ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def homework(tmp_path_factory):
    out = tmp_path_factory.mktemp("hw")
    result = subprocess.run(
        ["python", "-m", "derive", "homework", "--seed", "7", "--count", "2", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    return out


def _pdf_text(path):
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_homework_writes_sheets_keys_and_moodle(homework):
    for version in (1, 2):
        folder = homework / f"version-{version}"
        key = json.loads((folder / "key.json").read_text())
        assert [q["kind"] for q in key["questions"]] == list(KINDS)
        exercises, solutions = (
            _pdf_text(folder / "exercises.pdf"),
            _pdf_text(folder / "solutions.pdf"),
        )
        assert "Question 4" in exercises and "Solution" not in exercises
        assert (
            solutions.count("Solution") == 4 and "chain rule" in solutions and "Answer" in solutions
        )
        numeric = next(q for q in key["questions"] if q["kind"] == "numeric-gradient")
        assert f"{numeric['answer_value']:.4g}" in solutions
    assert (homework / "version-1" / "key.json").read_text() != (
        homework / "version-2" / "key.json"
    ).read_text()
    quiz = ET.parse(homework / "moodle.xml").getroot()
    numerical = quiz.findall("question[@type='numerical']")
    assert len(numerical) == 2 and len(quiz.findall("question[@type='essay']")) == 6
    values = sorted(float(q.find("answer/text").text) for q in numerical)
    keys = sorted(
        json.loads((homework / f"version-{v}" / "key.json").read_text())["questions"][2][
            "answer_value"
        ]
        for v in (1, 2)
    )
    assert values == pytest.approx(keys)


def test_same_seed_gives_the_same_key_files(homework, tmp_path):
    subprocess.run(
        [
            "python",
            "-m",
            "derive",
            "homework",
            "--seed",
            "7",
            "--count",
            "1",
            "--out",
            str(tmp_path),
            "--tex-only",
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    assert (tmp_path / "version-1" / "key.json").read_bytes() == (
        homework / "version-1" / "key.json"
    ).read_bytes()


def test_check_answer_exit_codes(homework, cli):
    key = str(homework / "version-1" / "key.json")
    question = load_key(key)["q4"]
    right = cli("check-answer", key, "q4", question.answer_latex())
    assert right.returncode == 0 and "correct" in right.stdout
    wrong = cli("check-answer", key, "4", "--", "-(" + question.answer_latex() + ")")
    assert wrong.returncode == 1 and "sign error" in wrong.stdout
    unreadable = cli("check-answer", key, "q4", r"\frac{a_k^{(1)}")
    assert unreadable.returncode == 2 and "Traceback" not in unreadable.stderr
    missing = cli("check-answer", key, "q9", "1")
    assert missing.returncode == 2 and "no question" in missing.stderr


def test_bad_keys_and_kinds(tmp_path):
    (tmp_path / "k.json").write_text('{"format": "something else"}')
    with pytest.raises(DeriveError, match="not a derive answer key"):
        load_key(tmp_path / "k.json")
    with pytest.raises(
        DeriveError, match="unknown exercise kind 'weight-gradiant'.*weight-gradient"
    ):
        make_version(1, 1, ("weight-gradiant",))
