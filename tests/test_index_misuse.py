"""A sum over the question's own free index is an error in the answer, whatever the sum's range.

On a network with one output, \\sum_j (a_j - y_j) ... a_k for ∂C_0/∂w_jk^(2) has one term and so has the
key's value; a human grader marks the index misuse, and so does the judge: the answer is wrong, with
the message "j is the question's own index (w_jk); it cannot also be summed over". A sum inside
another sum over the same letter is refused too. Sums over other letters (\\sum_p, \\sum_i over the
next layer) are judged on their values as before: nothing right is refused.
"""

import glob
import json
from pathlib import Path

import pytest

from conftest import run_cli
from derive.homework.answers import Mistake, Status, judge_here
from derive.homework.questions import Question, Version, load_key
from derive.cli.commands.check_answer import exit_of
from tests.redteam import Surface

KEYS = sorted(glob.glob(str(Path(__file__).parent / "data" / "keys-v1" / "*.json")))

SIG = ("sigmoid", "sigmoid")
OUT_1 = Question("q1", "weight-gradient", (2, 3, 1), SIG, "half-quadratic", False, layer=2)
OUT_3 = Question("q2", "weight-gradient", (2, 3, 3), SIG, "half-quadratic", False, layer=2)
HIDDEN_1 = Question("q3", "weight-gradient", (2, 3, 1), SIG, "half-quadratic", False, layer=1)
HIDDEN_3 = Question("q4", "weight-gradient", (2, 3, 3), SIG, "quadratic", False, layer=1)
HIDDEN_DELTA = Question(
    "q5", "weight-gradient", (2, 3, 3), SIG, "half-quadratic", False, layer=1, delta_allowed=True
)
QUESTIONS = (OUT_1, OUT_3, HIDDEN_1, HIDDEN_3, HIDDEN_DELTA)

OUT = r"(a_j^{(2)}-y_j)a_j^{(2)}(1-a_j^{(2)})a_k^{(1)}"  # the output layer's term, as students write it
J_MESSAGE = "j is the question's own index (w_jk); it cannot also be summed over"
K_MESSAGE = "k is the question's own index (w_jk); it cannot also be summed over"
NESTED = "is inside another sum over"

# (question, answer, the start of the message): each must be judged wrong for the index misuse.
MISUSED = [
    (
        OUT_1,
        r"\sum_j (a_j^{(2)}-y_j)a_j^{(2)}(1-a_j^{(2)})a_k^{(1)}",
        J_MESSAGE,
    ),  # the contested answer
    (OUT_1, r"\sum_{j} " + OUT, J_MESSAGE),
    (OUT_1, r"\sum\limits_j " + OUT, J_MESSAGE),
    (OUT_1, r"\sum\limits_{j} " + OUT, J_MESSAGE),
    (OUT_1, r"\sum_{j=0}^{0} " + OUT, J_MESSAGE),
    (OUT_1, r"\sum_{j=1}^{n} " + OUT, J_MESSAGE),
    (OUT_1, r"\sum\limits_{j=0}^{n-1} " + OUT, J_MESSAGE),
    (OUT_1, r"\sum_{j=0}^{n^{(2)}-1} " + OUT, J_MESSAGE),
    (OUT_1, r"\sum_{j=1}^{0} " + OUT, J_MESSAGE),  # an empty range: still the misuse
    (OUT_1, r"∑_j " + OUT, J_MESSAGE),  # pasted from a PDF
    (OUT_1, r"\displaystyle\sum_j " + OUT, J_MESSAGE),
    (OUT_1, r"\sum_j{" + OUT + "}", J_MESSAGE),
    (OUT_1, r"\frac{\partial C_0}{\partial w_{jk}^{(2)}} = \sum_j " + OUT, J_MESSAGE),
    (OUT_1, r"$\sum_j (a_j^{(2)} - y_j) \sigma'(z_j^{(2)}) a_k^{(1)}$", J_MESSAGE),
    (OUT_1, r"\left(\sum_j (a_j^{(2)}-y_j)\right) a_j^{(2)}(1-a_j^{(2)})a_k^{(1)}", J_MESSAGE),
    (OUT_1, r"\sum_k " + OUT, K_MESSAGE),  # the weight's other index
    (OUT_1, r"\sum_{k=0}^{2} (a_j^{(2)}-y_j)a_j^{(2)}(1-a_j^{(2)})a_k^{(1)}", K_MESSAGE),
    (OUT_1, r"(a_j^{(2)}-y_j)a_j^{(2)}(1-a_j^{(2)}) \sum_k a_k^{(1)}", K_MESSAGE),
    (OUT_1, r"\sum_p \sum_j (a_j^{(2)}-y_j)a_j^{(2)}(1-a_j^{(2)})a_k^{(1)}", J_MESSAGE),
    (OUT_1, r"\sum_p \sum_p (a_p^{(2)}-y_p)a_p^{(2)}(1-a_p^{(2)})a_k^{(1)}", NESTED),
    (OUT_3, r"\sum_j " + OUT, J_MESSAGE),
    (OUT_3, r"\sum_{j=0}^{2} " + OUT, J_MESSAGE),
    (OUT_3, r"\sum\limits_{j=1}^{n} " + OUT, J_MESSAGE),
    (OUT_3, r"\sum_k " + OUT, K_MESSAGE),
    (
        HIDDEN_1,
        r"\sum_j \left(\sum_i (a_i^{(2)}-y_i) a_i^{(2)}(1-a_i^{(2)}) w_{ij}^{(2)}\right)"
        r" a_j^{(1)}(1-a_j^{(1)}) x_k",
        J_MESSAGE,
    ),
    (
        HIDDEN_1,
        r"\sum_j (a_j^{(2)}-y_j) a_j^{(2)}(1-a_j^{(2)}) w_{jj}^{(2)} a_j^{(1)}(1-a_j^{(1)}) x_k",
        J_MESSAGE,
    ),  # the downstream letter confused with j
    (
        HIDDEN_1,
        r"\sum_k \left(\sum_i (a_i^{(2)}-y_i) a_i^{(2)}(1-a_i^{(2)}) w_{ij}^{(2)}\right)"
        r" a_j^{(1)}(1-a_j^{(1)}) x_k",
        K_MESSAGE,
    ),
    (
        HIDDEN_3,
        r"\sum_i \sum_i 2(a_i^{(2)}-y_i) a_i^{(2)}(1-a_i^{(2)}) w_{ij}^{(2)} a_j^{(1)}(1-a_j^{(1)}) x_k",
        NESTED,
    ),
    (
        HIDDEN_3,
        r"\sum_{i} 2(a_i^{(2)}-y_i) a_i^{(2)}(1-a_i^{(2)}) \sum_i w_{ij}^{(2)} a_j^{(1)}(1-a_j^{(1)}) x_k",
        NESTED,
    ),
    (
        HIDDEN_3,
        r"\sum\limits_{j=0}^{2} 2(a_j^{(2)}-y_j) a_j^{(2)}(1-a_j^{(2)}) w_{jj}^{(2)} a_j^{(1)}(1-a_j^{(1)})"
        r" x_k",
        J_MESSAGE,
    ),
    (HIDDEN_DELTA, r"\sum_j w_{jj}^{(2)} \delta_j^{(2)} a_j^{(1)}(1-a_j^{(1)}) x_k", J_MESSAGE),
    (
        HIDDEN_DELTA,
        r"\sum_i \sum_k w_{ij}^{(2)} \delta_i^{(2)} a_j^{(1)}(1-a_j^{(1)}) x_k",
        K_MESSAGE,
    ),
]

H_TERM = r"(a_p^{(2)}-y_p) a_p^{(2)}(1-a_p^{(2)}) w_{pj}^{(2)}"
# (question, answer): right answers that sum over other letters; each must still be judged correct.
RIGHT = [
    (OUT_1, OUT),
    (OUT_1, r"(a_j^{(2)} - y_j) \sigma'(z_j^{(2)}) a_k^{(1)}"),
    (
        OUT_1,
        r"\sum_p (a_p^{(2)}-y_p)a_p^{(2)}(1-a_p^{(2)})a_k^{(1)}",
    ),  # one output node: p is that node
    (OUT_3, OUT),
    (
        OUT_3,
        r"\frac{\partial C_0}{\partial w_{jk}^{(2)}} = (a_j^{(2)}-y_j)\sigma'(z_j^{(2)})a_k^{(1)}",
    ),
    (HIDDEN_1, r"\left(\sum_p " + H_TERM + r"\right) a_j^{(1)}(1-a_j^{(1)}) x_k"),
    (
        HIDDEN_1,
        r"\sum_i (a_i^{(2)}-y_i) a_i^{(2)}(1-a_i^{(2)}) w_{ij}^{(2)} a_j^{(1)}(1-a_j^{(1)}) x_k",
    ),
    (
        HIDDEN_1,
        r"\sum\limits_{i=0}^{0} (a_i^{(2)}-y_i) \sigma'(z_i^{(2)}) w_{ij}^{(2)} \sigma'(z_j^{(1)}) x_k",
    ),
    (HIDDEN_3, r"\left(\sum_p 2" + H_TERM + r"\right) a_j^{(1)}(1-a_j^{(1)}) x_k"),
    (
        HIDDEN_3,
        r"\sum_{i=1}^{n} 2(a_i^{(2)}-y_i) \sigma'(z_i^{(2)}) w_{ij}^{(2)} \sigma'(z_j^{(1)}) x_k",
    ),
    (
        HIDDEN_3,
        r"2 a_j^{(1)}(1-a_j^{(1)}) x_k \sum\limits_{q=0}^{n^{(2)}-1} (a_q^{(2)}-y_q) a_q^{(2)}(1-a_q^{(2)})"
        r" w_{qj}^{(2)}",
    ),
    (
        HIDDEN_3,
        r"\left(\sum_p 2a_p^{(2)} a_p^{(2)}(1-a_p^{(2)}) w_{pj}^{(2)} - \sum_p 2y_p a_p^{(2)}(1-a_p^{(2)})"
        r" w_{pj}^{(2)}\right) a_j^{(1)}(1-a_j^{(1)}) x_k",
    ),  # two sums over p side by side: fine
    (HIDDEN_DELTA, r"\sum_i w_{ij}^{(2)} \delta_i^{(2)} a_j^{(1)}(1-a_j^{(1)}) x_k"),
    (HIDDEN_DELTA, r"\left(\sum_p w_{pj}^{(2)} \delta_p^{(2)}\right) \sigma'(z_j^{(1)}) x_k"),
    (
        HIDDEN_DELTA,
        r"\left(\sum_{i'} w_{i'j}^{(2)} \delta_{i'}^{(2)}\right) \sigma'(z_j^{(1)}) x_k",
    ),
]

REDTEAM = [
    Surface(
        surface="answer sums over the question's own index",
        tried="\\sum_j / \\sum_k on w_jk questions (1 and 3 outputs, limits, \\limits, nested \\sum_j "
        "\\sum_j), beside right answers summing over p, i, q",
        cases=len(MISUSED) + len(RIGHT),
        limit="",
        holds="every misuse judged wrong with the index named; every right answer still correct",
    )
]


def verdict_of(question: Question, answer: str):
    return judge_here(answer, question.expected())


@pytest.mark.parametrize("question, answer, message", MISUSED)
def test_a_sum_over_the_questions_own_index_is_wrong_and_says_so(question, answer, message):
    verdict = verdict_of(question, answer)
    assert verdict.status == Status.WRONG, verdict
    assert verdict.mistake == Mistake.INDEX_MISUSE
    assert message in verdict.message
    assert exit_of(verdict) == 1


@pytest.mark.parametrize("question, answer", RIGHT)
def test_sums_over_other_letters_are_still_judged_on_their_values(question, answer):
    verdict = verdict_of(question, answer)
    assert verdict.status == Status.CORRECT, verdict


def test_the_contested_answer_has_the_keys_value_on_one_output():
    """Why the check is needed: without the sum the same text is right, so only the index can tell."""
    contested = MISUSED[0][1]
    assert verdict_of(OUT_1, contested.removeprefix(r"\sum_j ")).status == Status.CORRECT
    assert verdict_of(OUT_1, contested).status == Status.WRONG


def test_every_questions_own_answer_is_correct_and_summed_over_j_is_not():
    for question in QUESTIONS:
        key = question.answer_latex()
        assert verdict_of(question, key).status == Status.CORRECT, key
        summed = verdict_of(question, rf"\sum_j \left({key}\right)")
        assert (summed.mistake, J_MESSAGE in summed.message) == (Mistake.INDEX_MISUSE, True), summed


@pytest.mark.parametrize("path", KEYS, ids=lambda p: Path(p).name)
def test_stored_keys_refuse_their_own_answer_summed_over_each_free_index(path):
    data = json.loads(Path(path).read_text())
    questions = load_key(path)
    own = {
        "weight-gradient": "jk",
        "missing-factor": "j",
    }  # ∂C_0/∂w_jk; ∂C_0/∂a_j, ∂a_j/∂z_j, ∂z_j/∂w_jk
    for entry in data["questions"]:
        if entry["kind"] not in own:
            continue  # no free node index: a number, or g'(z)
        expected = questions[entry["id"]].expected()
        assert judge_here(entry["answer_latex"], expected).status == Status.CORRECT
        for index in own[entry["kind"]]:
            summed = judge_here(rf"\sum_{index} \left({entry['answer_latex']}\right)", expected)
            assert summed.mistake == Mistake.INDEX_MISUSE, (entry["id"], summed)
            assert f"{index} is the question's own index (" in summed.message


def test_a_definition_with_nested_sums_over_one_letter_is_refused_in_one_line():
    from derive import DeriveError, Network

    with pytest.raises(DeriveError, match="inside another sum over j"):
        Network([2, 2], cost=r"C_0 = \sum_j \sum_j (a_j^{(L)} - y_j)^2")


@pytest.fixture(scope="module")
def key_file(tmp_path_factory) -> Path:
    """A key with the questions above, written as `derive homework` writes one."""
    path = tmp_path_factory.mktemp("index-misuse") / "key.json"
    path.write_text(Version(1, 1, QUESTIONS).key_json(), encoding="utf-8")
    return path


CLI_CASES = [MISUSED[0], MISUSED[5], MISUSED[15], MISUSED[19], MISUSED[20], MISUSED[24]]


@pytest.mark.parametrize("question, answer, message", CLI_CASES)
def test_check_answer_says_wrong_exit_1_for_the_misuse(key_file, question, answer, message):
    done = run_cli("check-answer", str(key_file), question.id, answer, "--json")
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert result["verdict"] == "wrong" and result["mistake"] == "index-misuse"
    assert message in result["message"]
    plain = run_cli("check-answer", str(key_file), question.id, answer)
    assert plain.returncode == 1 and message in plain.stdout and "Traceback" not in plain.stderr


@pytest.mark.parametrize("question, answer", [RIGHT[2], RIGHT[5], RIGHT[13]])
def test_check_answer_accepts_sums_over_other_letters(key_file, question, answer):
    done = run_cli("check-answer", str(key_file), question.id, answer)
    assert done.returncode == 0, (done.stdout, done.stderr)
