"""The judge: nothing wrong accepted, nothing right refused, true feedback, old keys still judged."""

import glob
import json
import random
from pathlib import Path

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derive.homework.answers import Mistake, Status, judge, judge_here, judge_point, slips
from derive.homework.questions import KINDS, Question, load_key, make_version
from derive.cli.commands.check_answer import exit_of

HIDDEN = Question(
    "q1", "weight-gradient", (2, 3, 2), ("sigmoid", "sigmoid"), "quadratic", False, layer=1
)
OUTPUT = Question(
    "q2", "weight-gradient", (2, 3, 2), ("tanh", "sigmoid"), "quadratic", True, layer=2
)
ONE_OUT = Question(
    "q3", "weight-gradient", (3, 3, 1), ("relu", "sigmoid"), "half-quadratic", True, layer=1
)
GAIN = Question("q4", "activation-derivative", activation=("sigmoid(gain=3)",))
TANH = Question("q5", "activation-derivative", activation=("tanh",))
SIG = Question("q6", "activation-derivative", activation=("sigmoid",))
KEYS = sorted(glob.glob(str(Path(__file__).parent / "data" / "keys-v1" / "*.json")))


def verdict(question, answer):
    return judge_here(answer, question.expected())


# Soundness: nothing wrong is accepted -------------------------------------------------------------
@pytest.mark.parametrize(
    "question, answer, mistake",
    [
        (OUTPUT, r"\infty", Mistake.NOT_FINITE),
        (OUTPUT, r"\frac{1}{0}", Mistake.NOT_FINITE),
        (OUTPUT, r"\ln(0)", Mistake.NOT_FINITE),
        (OUTPUT, r"\frac{0}{0}", Mistake.NOT_FINITE),
        (
            OUTPUT,
            r"2(a_j^{(2)} - y_j)\tanh'(z_j^{(2)}) a_k^{(1)} \cdot \frac{x_k - x_k}{x_k - x_k}",
            Mistake.NOT_FINITE,
        ),
        (OUTPUT, r"\frac{\partial C_0}{\partial w_{jk}^{(2)}}", Mistake.NOT_AN_ANSWER),
        (
            OUTPUT,
            r"\frac{\partial C_0}{\partial a_j^{(2)}} \sigma'(z_j^{(2)}) a_k^{(1)}",
            Mistake.NOT_AN_ANSWER,
        ),
        (
            OUTPUT,
            r"\frac{\partial C_0}{\partial w_{jk}^{(1)}} = 2(a_j^{(2)}-y_j)\sigma'(z_j^{(2)}) a_k^{(1)}",
            Mistake.NOT_AN_ANSWER,
        ),  # a left-hand side that is not the question's
        (
            OUTPUT,
            r"\delta_j^{(2)} a_k^{(1)}",
            Mistake.NOT_AN_ANSWER,
        ),  # no δ in a hidden-to-output question
        (
            HIDDEN,
            r"\delta_j^{(1)} x_k",
            Mistake.NOT_AN_ANSWER,
        ),  # the asked layer's own δ restates the question
        (SIG, r"\sigma'(z)", Mistake.NOT_AN_ANSWER),
        (GAIN, r"g'(z)", Mistake.NOT_AN_ANSWER),
        (TANH, r"\frac{d}{dz}\tanh(z)", Mistake.NOT_AN_ANSWER),
    ],
)
def test_non_answers_are_never_correct(question, answer, mistake):
    result = verdict(question, answer)
    assert result.status == Status.WRONG and result.mistake == mistake, result


def test_text_after_a_stray_bracket_is_never_dropped():
    result = verdict(OUTPUT, r"2(a_j^{(2)} - y_j)) \cdot 0")
    assert (
        result.status == Status.UNREADABLE
        and "never opened" in result.message
        and "column 19" in result.message
    )


def test_indices_outside_their_layer_are_errors_never_narrowed_ranges():
    # one output node, j a node of the 3-node hidden layer: y_j, a transposed weight, j and k swapped
    for answer in (
        r"(a_j^{(2)}-y_j)\sigma'(z_j^{(2)}) w_{jj}^{(2)} \operatorname{ReLU}'(z_j^{(1)}) x_k",
        r"(a_0^{(2)}-y_0)\sigma'(z_0^{(2)}) w_{j0}^{(2)} \operatorname{ReLU}'(z_j^{(1)}) x_k",
        r"(a_k^{(2)}-y_k)\sigma'(z_k^{(2)}) w_{kj}^{(2)} \operatorname{ReLU}'(z_j^{(1)}) x_k",
    ):
        result = verdict(ONE_OUT, answer)
        assert result.status == Status.WRONG and result.mistake == Mistake.INDEX_OUT_OF_RANGE, (
            answer,
            result,
        )
        assert "layer 2 has nodes 0..0" in result.message


def test_a_missing_relu_derivative_is_caught_on_both_sides_of_the_kink():
    for _ in range(20):  # fresh points every time; the kink must be seen from both sides each time
        result = verdict(ONE_OUT, r"(a_0^{(2)}-y_0)\sigma'(z_0^{(2)}) w_{0j}^{(2)} x_k")
        assert (
            result.status == Status.WRONG
            and result.mistake == Mistake.MISSING_ACTIVATION_DERIVATIVE
        )


def test_points_are_fresh_and_unpredictable():
    net = HIDDEN.network()
    first, second = judge_point(net, random.Random()), judge_point(net, random.Random())
    assert first != second
    s = net.symbols
    assert len({judge_point(net, random.Random())[s.x[0]] for _ in range(50)}) > 45


def test_a_polynomial_vanishing_at_fixed_points_does_not_pass():
    # the old checker used fixed points; this answer equals the key there and nowhere else
    key = r"2(a_j^{(2)} - y_j)\sigma'(z_j^{(2)}) a_k^{(1)}"
    for shift in ("(x_0 - 1)(x_0 + 1)", r"(w_{00}^{(1)} - \frac{3}{7})", "(x_1 - 0.25)(x_0 + 0.5)"):
        result = verdict(OUTPUT, f"{key} + {shift}")
        assert result.status == Status.WRONG, shift


# Completeness: what a human grader accepts ---------------------------------------------------------
@pytest.mark.parametrize(
    "question, answer",
    [
        (OUTPUT, r"2(a_j^{(L)} - y_j)\sigma'(z_j^{(L)}) a_k^{(L-1)}"),
        (OUTPUT, r"2\left(a_j^{(2)} - y_j\right) a_j^{(2)}\left(1 - a_j^{(2)}\right) a_k^{(1)}"),
        (
            OUTPUT,
            r"\frac{\partial C_0}{\partial w_{jk}^{(2)}} = 2(a_j^{(2)}-y_j)\sigma'(z_j^{(2)}) a_k^{(1)}",
        ),
        (
            OUTPUT,
            r"\frac{\partial C_0}{\partial w^{(2)}_{jk}} = 2(a_j^{(2)}-y_j)\sigma(z_j^{(2)})(1-\sigma(z_j^{(2)}))"
            r" a_k^{(1)} = 2(a_j^{(2)}-y_j)a_j^{(2)}(1-a_j^{(2)})a_k^{(1)}",
        ),
        (OUTPUT, r"\boxed{2\big(a_j^{(2)}-y_j\big)\sigma'(z_j^{(2)})\,a_k^{(1)}}"),
        (OUTPUT, r"2(a_j^{(2)}-y_j)\sigma'(z_j^{(2)})\tanh(z_k^{(1)})"),
        (OUTPUT, "2(a_j^{(2)} − y_j)·σ′(z_j^{(2)})·a_k^{(1)}"),
        (OUTPUT, r"2a_k^{(1)}(a_j^{(2)}-y_j)\sigma'(z_j^{(2)})"),
        (
            HIDDEN,
            r"\sigma'(z_j^{(1)}) x_k \sum_i 2(a_i^{(2)} - y_i)\sigma'(z_i^{(2)}) w_{ij}^{(2)}",
        ),
        (HIDDEN, r"x_k a_j^{(1)}(1-a_j^{(1)}) \sum_{i=0}^{1} w_{ij}^{(2)} \delta_i^{(2)}"),
        (HIDDEN, r"x_k \sigma'(z_j^{(1)}) \sum_{i=0}^{n^{(2)}-1} w_{ij}^{(2)} \delta_i^{(2)}"),
        (HIDDEN, r"x_k \sigma'(z_j^{(1)}) \sum_{i=1}^{n} w_{ij}^{(2)} \delta_i^{(2)}"),
        (
            HIDDEN,
            r"x_k\sigma'(z_j^{(1)})\left[w_{0j}^{(2)}\delta_0^{(2)}+w_{1j}^{(2)}\delta_1^{(2)}\right]",
        ),
        (ONE_OUT, r"(a_0^{(2)}-y_0)\sigma'(z_0^{(2)}) w_{0j}^{(2)} \mathbb{1}(z_j^{(1)}>0) x_k"),
        (ONE_OUT, r"(a_0^{(2)}-y_0)\sigma'(z_0^{(2)}) w_{0j}^{(2)} H(z_j^{(1)}) x_k"),
        (
            ONE_OUT,
            r"(a_0^{(2)}-y_0)a_0^{(2)}(1-a_0^{(2)}) w_{0j}^{(2)} \mathbb{1}_{z_j^{(1)}>0} x_k",
        ),
        (GAIN, r"3g(z)(1-g(z))"),
        (GAIN, r"3\sigma(3z)(1-\sigma(3z))"),
        (GAIN, r"3\sigma'(3z)"),
        (GAIN, r"\frac{3e^{-3z}}{(1+e^{-3z})^2}"),
        (GAIN, r"g'(z) = 3a(1-a)"),
        (GAIN, r"\frac{dg}{dz} = 3g(1-g)"),
        (TANH, r"1 - g^2(z)"),
        (TANH, r"1-\tanh^2 z"),
        (TANH, r"\operatorname{sech}^2 z"),
        (TANH, r"\frac{1}{\cosh^2(z)}"),
        (TANH, r"\frac{4}{(e^z + e^{-z})^2}"),
        (SIG, r"a(1-a) = \sigma(z)(1-\sigma(z))"),
        (SIG, r"\sigma(z) - \sigma^2(z)"),
        (SIG, r"\frac{e^{-z}}{(1+e^{-z})^2}"),
    ],
)
def test_right_answers_in_many_notations_are_correct(question, answer):
    result = verdict(question, answer)
    assert result.status == Status.CORRECT, result


# Feedback ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "question, answer, mistake",
    [
        (OUTPUT, r"(a_j^{(2)} - y_j)\sigma'(z_j^{(2)}) a_k^{(1)}", Mistake.MISSING_TWO),
        (OUTPUT, r"2(y_j - a_j^{(2)})\sigma'(z_j^{(2)}) a_k^{(1)}", Mistake.SIGN),
        (OUTPUT, r"2(a_j^{(2)} - y_j) a_k^{(1)}", Mistake.MISSING_ACTIVATION_DERIVATIVE),
        (OUTPUT, r"2(a_j^{(2)} - y_j)\sigma'(z_j^{(2)}) a_j^{(1)}", Mistake.A_J_FOR_A_K),
        (OUTPUT, r"2(a_j^{(2)} - y_j)\sigma'(z_j^{(2)})", Mistake.MISSING_INPUT),
        (
            HIDDEN,
            r"\sigma'(z_j^{(1)}) x_k \sum_i 2(a_i^{(2)} - y_i)\sigma'(z_i^{(2)}) w_{ji}^{(2)}",
            None,
        ),
        (
            HIDDEN,
            r"\sigma'(z_j^{(1)}) x_k 2(a_i^{(2)} - y_i)\sigma'(z_i^{(2)}) w_{ij}^{(2)}",
            Mistake.FORGOTTEN_SUM,
        ),
        (HIDDEN, r"\sigma'(z_j^{(1)}) x_k 2(a_j^{(2)} - y_j)\sigma'(z_j^{(2)}) w_{jj}^{(2)}", None),
        (GAIN, r"\sigma(3z)(1-\sigma(3z))", Mistake.FORGOTTEN_INNER),
        (OUTPUT, r"6(a_j^{(2)} - y_j)\sigma'(z_j^{(2)}) a_k^{(1)}", Mistake.CONSTANT_FACTOR),
    ],
)
def test_known_slips_are_named_and_only_when_true(question, answer, mistake):
    result = verdict(question, answer)
    assert result.status == Status.WRONG, result
    if mistake is not None:
        assert result.mistake == mistake, result
    else:  # w_ji on a 3-2 layer pair is out of range, or j used where i belongs: either way a true reason
        assert result.mistake in (
            Mistake.INDEX_OUT_OF_RANGE,
            Mistake.TRANSPOSED_WEIGHT,
            Mistake.FORGOTTEN_SUM,
        ), result


def test_unnamed_wrong_answers_get_a_specific_true_message():
    result = verdict(OUTPUT, r"a_j^{(2)} a_k^{(1)}")
    assert result.status == Status.WRONG and "where the right one is" in result.message
    shifted = verdict(OUTPUT, r"2(a_j^{(2)} - y_j)\sigma'(z_j^{(2)}) a_k^{(1)} + \frac{1}{10}")
    assert "by the constant 0.1" in shifted.message
    factor = verdict(OUTPUT, r"2(a_j^{(2)} - y_j)\sigma'(z_j^{(2)}) a_k^{(1)} w_{jk}^{(2)}")
    assert "does not belong" in factor.message and "w_jk^(2)" in factor.message
    two_missing = verdict(
        HIDDEN, r"2 x_k"
    )  # two factors missing and the 2 extra: no false "the rest is right"
    assert (
        two_missing.status == Status.WRONG
        and "the rest of your product is right" not in two_missing.message
    )
    missing = verdict(OUTPUT, r"2(a_j^{(2)} - y_j)\tanh(z_j^{(2)}) a_k^{(1)}")
    assert "where the right one is" in missing.message or "not right" in missing.message


def test_no_python_exception_text_ever_reaches_the_student():
    for answer in (
        r"\frac{0}{0}",
        r"3\sigma'(3z)",
        r"\sigma(",
        "\\",
        "}{",
        r"\sum_{i=0}^{1}",
        "^^",
        "_{}",
    ):
        for question in (OUTPUT, GAIN):
            message = verdict(question, answer).message
            assert (
                "Error" not in message
                and "Traceback" not in message
                and "Relational" not in message
            )


# Numbers -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def numeric():
    return make_version(3, 1, ("numeric-gradient",)).questions[0]


def test_numbers_to_the_stated_significant_digits(numeric):
    value = float(numeric.answer_value)
    expected = numeric.expected()
    assert expected.digits == 4
    four = f"{value:#.4g}"  # trailing zeros kept: 0.01210 has 4 significant digits, 0.0121 has 3
    assert judge_here(four, expected).status == Status.CORRECT
    assert judge_here(f"{value:.8g}", expected).status == Status.CORRECT
    assert judge_here(four.replace(".", ","), expected).status == Status.CORRECT
    assert judge_here(rf"\boxed{{{four}}}", expected).status == Status.CORRECT
    close = judge_here(f"{value:.3g}", expected)
    assert close.status == Status.WRONG and close.mistake == Mistake.TOO_FEW_DIGITS
    assert "4 significant" in close.message
    far = judge_here(f"{value * 1.003:.4g}", expected)
    assert (
        far.status == Status.WRONG and str(round(value, 6))[:6] not in far.message
    )  # the answer never leaks
    assert judge_here(f"{-value:.4g}", expected).mistake == Mistake.SIGN
    assert judge_here(r"a_j^{(2)}", expected).message.startswith("a number is expected")
    chain = judge_here(
        rf"\frac{{\partial C_0}}{{\partial w_{{jk}}^{{({numeric.layer})}}}} \approx {value:.5g}",
        expected,
    )
    assert chain.status == Status.CORRECT, chain


def test_wrong_numbers_never_crash_or_leak(numeric):
    expected = numeric.expected()
    for answer in (
        "0.5",
        "-3",
        "1e-9",
        "12345",
        r"\frac{1}{3}",
        r"\pi",
        "e",
        r"\sqrt{2}",
        r"\infty",
    ):
        result = judge_here(answer, expected)
        assert result.status == Status.WRONG and "Relational" not in result.message


# Exit codes and limits ---------------------------------------------------------------------------
def test_verdicts_map_to_exit_codes_and_time_is_bounded():
    assert exit_of(judge(r"2(a_j^{(2)} - y_j", OUTPUT.expected())) == 2
    slow = judge(
        r"x_k^{999} x_k^{997} \sum_{i=0}^{1} w_{ij}^{(2)}", OUTPUT.expected(), seconds=1e-3
    )
    assert exit_of(slow) == 2 and "took longer" in slow.message


# Keys last ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", KEYS, ids=lambda p: Path(p).name)
def test_keys_written_by_the_previous_release_still_judge_their_own_answers(path):
    data = json.loads(Path(path).read_text())
    assert data["format"] == "derive-homework-key/1"
    questions = load_key(path)
    for entry in data["questions"]:
        result = judge_here(entry["answer_latex"], questions[entry["id"]].expected())
        assert result.status == Status.CORRECT, (entry["id"], result)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), kind=st.sampled_from(KINDS))
def test_property_the_key_is_correct_and_single_slips_are_wrong(seed, kind):
    question = make_version(seed, 1, (kind,)).questions[0]
    expected = question.expected()
    assert judge_here(question.answer_latex(), expected).status == Status.CORRECT
    if kind == "numeric-gradient":
        value = float(question.answer_value)
        for wrong in (value * 1.01, -value, value + 10**-2, 2 * value):
            assert judge_here(f"{wrong:.6g}", expected).status == Status.WRONG
        return
    net = question.network()
    from derive.notation.printing import latex

    key = question.answer()
    rng = random.Random(seed)
    mutated = [slip.expr for slip in slips(key, net, question.layer)]
    mutated.append(
        key * sp.Rational(rng.choice([3, 5, 7]), rng.choice([2, 4]))
    )  # a changed coefficient
    s = net.symbols
    if question.layer is not None and question.layer > 1:  # a changed layer
        mutated.append(key.xreplace({s.a[question.layer - 1, s.k]: s.a[question.layer, s.k]}))
    for wrong in mutated:
        if wrong == key:
            continue
        text = (
            latex(wrong.replace(net.activations[0].function, sp.Function("g")), net.notation)
            if kind == "activation-derivative"
            else latex(wrong, net.notation)
        )
        result = judge_here(text, expected)
        assert result.status != Status.CORRECT, (text, result)
