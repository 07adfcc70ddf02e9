"""The judge reads the newer activations by name: ELU, SiLU, GELU and softmax, with or without a backslash.

Answers typed the way students type them, judged by the real judge (``judge_here`` on a question's
expected answer, as tests/test_answers.py does): nothing wrong accepted, nothing right refused,
nothing crashes. Then the reader's spellings one by one, and adversarial input.
"""

import pytest
import sympy as sp

from derive.homework.answers import Expected, Status, judge_here
from derive.homework.kinds import ACTIVATION_CHOICES, KINDS, NEWER_ACTIVATION_CHOICES
from derive.homework.questions import Question, make_version
from derive.model.activations import SIGMA, Z, activation_named
from derive.model.network import Network
from derive.read.latex import Context, LatexInputError, parse_answer

SILU = Question("q1", "activation-derivative-new", activation=("silu",))
GELU = Question("q2", "activation-derivative-new", activation=("gelu",))
ELU = Question("q3", "activation-derivative-new", activation=("elu",))
ELU2 = Question("q4", "activation-derivative-new", activation=("elu(alpha=2)",))
SIG = Question("q5", "activation-derivative", activation=("sigmoid",))
HIDDEN_SILU = Question(
    "q6", "weight-gradient", (2, 3, 2), ("silu", "sigmoid"), "quadratic", True, layer=1
)
SOFTMAX_NET = Network([2, 3, 2], activation=["tanh", "softmax"], cost="log-likelihood")


class _Output:
    """delta_j^{(L)} of softmax with the log-likelihood, -y_j + a_j sum_i y_i: a key written by hand
    (a weight-gradient key on a softmax layer keeps the Kronecker delta, which the judge does not
    evaluate; no homework kind asks for one)."""

    @staticmethod
    def expected() -> Expected:
        s = SOFTMAX_NET.symbols
        return Expected(s.a[2, s.j] * (s.y[0] + s.y[1]) - s.y[s.j], Context(SOFTMAX_NET))


SOFTMAX = _Output()

R, W, U = Status.CORRECT, Status.WRONG, Status.UNREADABLE
GELU_OUT = r"\frac{1}{2}(1+\tanh(\sqrt{2/\pi}(z+0.044715z^3)))"
GELU_IN = r"\frac{z}{2}(1-\tanh^2(\sqrt{2/\pi}(z+0.044715z^3)))\sqrt{2/\pi}(1+0.134145z^2)"
PHI = r"\frac{1}{2}\left(1 + \operatorname{erf}\left(\frac{z}{\sqrt{2}}\right)\right)"

CASES = [
    # SiLU: g(z) = z sigma(z), g' = sigma(z) + z sigma(z)(1 - sigma(z))
    (SILU, r"\sigma(z) + z\sigma(z)(1-\sigma(z))", R),
    (SILU, r"\sigma(z)\left(1 + z(1-\sigma(z))\right)", R),
    (SILU, r"\sigma(z) + \operatorname{SiLU}(z)(1-\sigma(z))", R),
    (SILU, r"\sigma(z) + \mathrm{SiLU}(z)(1-\sigma(z))", R),
    (SILU, r"\sigma(z) + \text{silu}(z)(1-\sigma(z))", R),
    (SILU, r"\sigma(z) + SiLU(z)(1-\sigma(z))", R),
    (SILU, r"\sigma(z) + silu(z)(1-\sigma(z))", R),
    (SILU, r"\sigma(z) + \operatorname{swish}(z)(1-\sigma(z))", R),
    (SILU, r"\sigma(z) + g(z)(1-\sigma(z))", R),
    (SILU, r"\sigma(z) + a(1-\sigma(z))", R),
    (SILU, r"\frac{\operatorname{SiLU}(z)}{z} + \operatorname{SiLU}(z)(1-\sigma(z))", R),
    (SILU, r"g'(z) = \sigma(z) + z\sigma(z)(1-\sigma(z))", R),
    (SILU, r"\operatorname{SiLU}(z)", W),  # g itself, not g'
    (SILU, r"\sigma(z) - z\sigma(z)(1-\sigma(z))", W),  # sign
    (SILU, r"z\sigma(z)(1-\sigma(z))", W),  # a term missing
    (SILU, r"\sigma(z) + z\sigma(z)", W),  # the factor 1 - sigma(z) missing
    (SILU, r"\sigma(z) + \operatorname{GELU}(z)(1-\sigma(z))", W),  # another activation's name
    (SILU, r"\sigma(z) + \operatorname{ELU}(z)(1-\sigma(z))", W),
    (SILU, r"\sigma(z)(1-\sigma(z))", W),  # the sigmoid's derivative
    (SILU, r"\operatorname{SiLU}'(z)", W),  # the question restated
    # GELU, the engine's: the tanh approximation (Phi, the exact GELU, is a different function)
    (GELU, GELU_OUT + " + " + GELU_IN, R),
    (GELU, r"\frac{\operatorname{GELU}(z)}{z} + " + GELU_IN, R),
    (GELU, r"\frac{GELU(z)}{z} + " + GELU_IN, R),
    (GELU, r"\frac{\text{gelu}(z)}{z} + " + GELU_IN, R),
    (GELU, r"\frac{g(z)}{z} + " + GELU_IN, R),
    (GELU, GELU_OUT + " - " + GELU_IN, W),
    (GELU, GELU_OUT, W),
    (GELU, r"\operatorname{GELU}(z)", W),
    (GELU, r"\frac{\operatorname{SiLU}(z)}{z} + " + GELU_IN, W),
    (GELU, r"\Phi(z) + z\phi(z)", U),  # not in the notation: refused, never accepted
    (GELU, PHI, U),
    # ELU (alpha 1): 1 for z > 0, e^z otherwise; alpha 2: 2e^z = a + 2 for z <= 0
    (ELU, r"\begin{cases} 1 & z > 0 \\ e^z & z \le 0 \end{cases}", R),
    (ELU, r"\begin{cases} 1 & \text{if } z > 0 \\ e^{z} & \text{otherwise} \end{cases}", R),
    (ELU, r"\begin{cases} 1 & z > 0 \\ \operatorname{ELU}(z) + 1 & z \le 0 \end{cases}", R),
    (ELU, r"\begin{cases} 1 & z > 0 \\ elu(z) + 1 & \text{otherwise} \end{cases}", R),
    (ELU, r"\begin{cases} 1 & z > 0 \\ g(z) + 1 & z \le 0 \end{cases}", R),
    (ELU, r"\begin{cases} 1 & z > 0 \\ -e^z & z \le 0 \end{cases}", W),
    (ELU, r"\begin{cases} 1 & z > 0 \\ e^z - 1 & z \le 0 \end{cases}", W),
    (ELU, r"\begin{cases} 0 & z > 0 \\ e^z & z \le 0 \end{cases}", W),
    (ELU, r"e^z", W),
    (ELU, r"\begin{cases} 1 & z > 0 \\ \operatorname{SiLU}(z) + 1 & z \le 0 \end{cases}", W),
    (ELU2, r"\begin{cases} 1 & z > 0 \\ 2e^z & z \le 0 \end{cases}", R),
    (ELU2, r"\begin{cases} 1 & z > 0 \\ \operatorname{ELU}(z) + 2 & z \le 0 \end{cases}", R),
    (ELU2, r"\begin{cases} 1 & z > 0 \\ \text{ELU}(z) + 2 & \text{otherwise} \end{cases}", R),
    (ELU2, r"\begin{cases} 1 & z > 0 \\ e^z & z \le 0 \end{cases}", W),  # alpha forgotten
    (ELU2, r"\begin{cases} 1 & z > 0 \\ \operatorname{ELU}(z) + 1 & z \le 0 \end{cases}", W),
    # a name in a question about another activation: the built-in one it names
    (SIG, r"\sigma(z)(1-\sigma(z))", R),
    (SIG, r"\frac{\operatorname{SiLU}(z)}{z}(1-\sigma(z))", R),
    (SIG, r"\operatorname{SiLU}(z)", W),
    # a network's own activation by name, and softmax read as the output layer's a_j
    (HIDDEN_SILU, HIDDEN_SILU.answer_latex(), R),
    (
        HIDDEN_SILU,
        r"\sum_i 2(a_i^{(2)} - y_i)\sigma'(z_i^{(2)}) w_{ij}^{(2)} SiLU'(z_j^{(1)}) x_k",
        R,
    ),
    (
        HIDDEN_SILU,
        r"\sum_i 2(a_i^{(2)} - y_i)\sigma'(z_i^{(2)}) w_{ij}^{(2)} \sigma'(z_j^{(1)}) x_k",
        W,
    ),
    (SOFTMAX, r"\operatorname{softmax}(z^{(L)})_j (y_0 + y_1) - y_j", R),
    (SOFTMAX, r"\operatorname{softmax}_j(z^{(2)}) (y_0 + y_1) - y_j", R),
    (SOFTMAX, r"softmax(z)_j (y_0 + y_1) - y_j", R),
    (SOFTMAX, r"\operatorname{softmax}_j \sum_i y_i - y_j", R),
    (SOFTMAX, r"\text{softmax}(z)_j \sum_{i=0}^{1} y_i - y_j", R),
    (SOFTMAX, r"y_j - \operatorname{softmax}(z^{(L)})_j (y_0 + y_1)", W),
    (SOFTMAX, r"\operatorname{softmax}(z^{(L)})_j - y_j", W),
    (SOFTMAX, r"\operatorname{softmax}(z^{(L)})_j (y_0 + y_1)", W),
    (SOFTMAX, r"\operatorname{softmax}(z^{(1)})_j (y_0 + y_1) - y_j", U),
    (SOFTMAX, r"\operatorname{softmax}(z_j^{(L)}) (y_0 + y_1) - y_j", U),
    (SIG, r"\operatorname{softmax}(z)_j", U),
]


@pytest.mark.parametrize("question, answer, status", CASES)
def test_answers_as_students_type_them(question, answer, status):
    result = judge_here(answer, question.expected())
    assert result.status == status, (answer, result)
    if status is Status.UNREADABLE:
        assert "\n" not in result.message and "Traceback" not in result.message


def test_there_are_forty_hand_written_answers_or_more():
    assert len(CASES) >= 40


# The reader, spelling by spelling -----------------------------------------------------------------
ACTIVATION = Context(Network([1, 1], activation="silu"), variable_z=True)
NET = Network([2, 3, 2], activation=["elu(alpha=2)", "softmax"], cost="log-likelihood")
ON_NET = Context(NET)


def read(text, ctx=ACTIVATION):
    return parse_answer(text, ctx)


@pytest.mark.parametrize("name", ["SiLU", "GELU", "ELU", "swish"])
@pytest.mark.parametrize(
    "spelling",
    [
        r"\operatorname{{{}}}(z)",
        r"\mathrm{{{}}}(z)",
        r"\text{{{}}}(z)",
        r"\textrm{{{}}}(z)",
        "{}(z)",
        r"\operatorname{{{}}} (z)",
    ],
)
def test_every_spelling_and_case_of_a_name_is_the_same_function(name, spelling):
    expected = activation_named(name.lower()).function(Z)
    assert read(spelling.format(name)) == expected
    assert read(spelling.format(name.lower())) == expected
    assert read(spelling.format(name.upper())) == expected


def test_a_name_is_its_activation_applied_and_differentiated():
    silu = activation_named("silu").function
    assert read(r"z\sigma(z) + \operatorname{SiLU}(z)") == Z * SIGMA(Z) + silu(Z)
    assert isinstance(read(r"\operatorname{SiLU}'(z)"), sp.Function)
    assert read(r"2\,silu(z)") == 2 * silu(Z)
    assert read(r"silu^2(z)") == silu(Z) ** 2


def test_the_networks_own_elu_keeps_its_alpha():
    s = NET.symbols
    own = NET.activations[0].function
    assert read(r"\operatorname{ELU}(z_j^{(1)})", ON_NET) == own(s.z[1, s.j])
    assert read(r"elu(z_j^{(1)})", ON_NET) == own(s.z[1, s.j])
    assert own != activation_named("elu").function  # alpha 2, not the default ELU


@pytest.mark.parametrize(
    "text",
    [
        r"\operatorname{softmax}(z^{(L)})_j",
        r"\operatorname{softmax}(z^{(2)})_j",
        r"\operatorname{softmax}_j(z^{(L)})",
        r"\operatorname{softmax}(z)_j",
        r"\operatorname{softmax}[z^{(L)}]_j",
        r"\operatorname{softmax}(\mathbf{z}^{(L)})_j",
        r"\operatorname{softmax}_j",
        r"\text{softmax}(z)_j",
        r"\mathrm{softmax}_{j}(z)",
        r"softmax(z)_j",
        r"Softmax(z^{(L)})_j",
    ],
)
def test_softmax_is_the_output_layers_a_j(text):
    s = NET.symbols
    assert read(text, ON_NET) == s.a[2, s.j]


@pytest.mark.parametrize(
    "text, message",
    [
        (r"\operatorname{softmax}(z)", "say which entry"),
        (r"\operatorname{softmax}(z_j^{(L)})", "whole z"),
        (r"\operatorname{softmax}(a^{(L)})_j", "takes the layer's z"),
        (r"\operatorname{softmax}(z^{(1)})_j", "not the activation of layer 1"),
        (r"\operatorname{softmax}(z^{(0)})_j", "input layer has no activation"),
        (r"\operatorname{softmax}'(z)_j", "Jacobian"),
        (r"\operatorname{softmax}_{jk}", "one node index"),
        (r"\operatorname{softmax}[z)_j", "wrong kind"),
    ],
)
def test_softmax_where_it_is_not_meaningful_is_refused_in_one_line(text, message):
    with pytest.raises(LatexInputError, match=message) as error:
        read(text, ON_NET)
    assert "\n" not in str(error.value)


def test_softmax_in_an_activation_question_is_refused():
    with pytest.raises(LatexInputError, match="not of one z"):
        read(r"\operatorname{softmax}(z)_j")


def test_the_names_of_single_letters_still_read_as_before():
    """'elu', 'silu' as words are names; letters with spaces, and words around them, are not."""
    with pytest.raises(LatexInputError):
        read("e l u(z)")
    with pytest.raises(LatexInputError):
        read("s i l u(z)")
    assert read("ze") == Z * sp.E
    assert read(r"e^{z}") == sp.exp(Z)


# Adversarial ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        r"\operatorname{",
        r"\operatorname{SiLU",
        r"\operatorname{SiLU}(",
        r"\operatorname{SiLU}(z",
        r"\operatorname{SiLU}()",
        r"\operatorname{GELU}^{}(z)",
        r"\operatorname{softmax}",
        r"\operatorname{softmax}_",
        r"\operatorname{softmax}(",
        r"\operatorname{softmax}(z^",
        r"\operatorname{softmax}(z^{(L)}",
        r"\operatorname{" + "SiLU" * 2500 + "}(z)",
        r"\operatorname{SiLU}(" * 200 + "z" + ")" * 200,
        r"silu(" * 200 + "z" + ")" * 200,
        "silu" * 2500,
    ],
)
def test_broken_names_get_one_line_refusals(text):
    with pytest.raises(LatexInputError) as error:
        read(text, ON_NET if "softmax" in text else ACTIVATION)
    assert "\n" not in str(error.value) and len(str(error.value)) < 400


@pytest.mark.parametrize("text", [r"\operatorname{SiLU}", "SiLU", r"\operatorname{SiLU} + 1"])
def test_a_name_without_its_argument_is_refused_on_a_network(text):
    with pytest.raises(LatexInputError, match="argument of SiLU in parentheses"):
        read(text, ON_NET)


def test_a_name_without_its_argument_in_an_activation_question_is_of_z_as_g_is():
    assert read(r"\operatorname{SiLU}") == read("g") == activation_named("silu").function(Z)


@pytest.mark.parametrize("text", [r"\operatorname{SiLU}", r"\operatorname{", "silu(" * 200])
def test_broken_names_through_the_judge_are_unreadable_not_crashes(text):
    result = judge_here(text, HIDDEN_SILU.expected())
    assert result.status == Status.UNREADABLE and "\n" not in result.message


# The exercise kind ----------------------------------------------------------------------------------
def test_the_newer_activations_have_their_own_kind_and_the_default_draws_are_unchanged():
    assert ACTIVATION_CHOICES == (
        "tanh",
        "softplus",
        "sigmoid",
        "sigmoid(gain=2)",
        "sigmoid(gain=3)",
    )
    assert "activation-derivative-new" not in KINDS
    drawn = {
        make_version(seed, 1, ("activation-derivative-new",)).questions[0].activation[0]
        for seed in range(30)
    }
    assert drawn == set(NEWER_ACTIVATION_CHOICES)


@pytest.mark.parametrize("activation", NEWER_ACTIVATION_CHOICES)
def test_each_newer_key_printed_is_judged_right_and_its_slips_wrong(activation):
    q = Question("q1", "activation-derivative-new", activation=(activation,))
    assert judge_here(q.answer_latex(), q.expected()).status == Status.CORRECT
    for slip in q.expected().slips:
        assert judge_here(sp.latex(slip.expr), q.expected()).status != Status.CORRECT
