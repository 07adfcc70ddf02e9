"""What a document prints has been checked (issue 18).

* A bound index never leaves the sum that binds it: ``IndexSum`` folds no Piecewise out of a nested
  sum (SymPy's ``Sum`` does), and every step the engine builds is checked for it (``Step.__post_init__``).
* The points a check uses show every piecewise quantity on both sides of its kink and, where the
  output activation allows, outputs of both signs (``covering_points``): the written-out gradient of an
  ELU or leaky-ReLU output three layers deep was wrong only there.
* sheet, slides, html and homework solutions check their steps by default, say so, and never write a
  document whose steps fail (exit 3, one line naming the block and the step).
"""

from __future__ import annotations

import html
import random
import subprocess
import sys

import pytest
import sympy as sp

import derive.engine.derivation as engine
import derive.model.steps as steps_module
from derive import Network
from derive.checks.steps import (
    check_gradients,
    check_printed,
    check_steps,
    checked_steps,
    narrow_network,
)
from derive.evaluate.exact import (
    Model,
    coverage_wanted,
    covering_points,
    expanded_cost,
    model_coverage,
)
from derive.limits import InternalError
from derive.model.steps import Rule, Step, index_scope_problem
from derive.notation.sums import IndexSum

# The reproducers: a piecewise output (ELU, leaky ReLU) and at least three weight layers.
REPRODUCERS = [
    ([1, 2, 2, 2], ["silu", "gelu", "elu"], {}, 1),
    ([2, 2, 2, 2], ["tanh", "relu", "leaky-relu"], {"bias": True}, 1),
    ([1, 2, 2, 2, 2], ["tanh", "tanh", "tanh", "elu"], {"cost": "half-quadratic"}, 2),
]

P, I = sp.symbols("p i", integer=True, nonnegative=True)
A, W, G = sp.IndexedBase("a"), sp.IndexedBase("w"), sp.Function("g")
PIECE = sp.Piecewise((1, A[P] > 0), (A[P] + 1, True))


# The sum that keeps its terms ------------------------------------------------------------------
def test_sympys_sum_moves_a_condition_out_of_the_inner_sum_and_ours_does_not():
    """The cause: Sum() folds a Piecewise mentioning its index out of its body, through an inner sum."""

    def nested(kind):
        return kind(G(I) * kind(2 * PIECE * W[P, I], (P, 0, 1)) * W[I], (I, 0, 1))

    assert (
        index_scope_problem(sp.Symbol("C"), nested(sp.Sum)) is not None
    )  # a_p outside the sum over p
    ours = nested(IndexSum)
    assert index_scope_problem(sp.Symbol("C"), ours) is None
    inner = next(s for s in ours.atoms(sp.Sum) if s.limits[0][0] == P)
    assert inner.has(sp.Piecewise) and not ours.function.is_Piecewise
    for rebuilt in (
        ours.xreplace({G(I): 3 * G(I)}),
        ours.subs(W[0], 5),
    ):  # rebuilding keeps the rule
        assert index_scope_problem(sp.Symbol("C"), rebuilt) is None


def test_an_index_sum_has_the_value_of_the_sum_it_writes():
    total = IndexSum(IndexSum(2 * PIECE * W[P, I], (P, 0, 1)) * W[I], (I, 0, 1))
    values = {
        A[0]: sp.Rational(1, 2),
        A[1]: sp.Rational(-1, 3),
        W[0]: 2,
        W[1]: 3,
        **{W[p, i]: p + 2 * i + 1 for p in range(2) for i in range(2)},
    }
    by_hand = sum(
        2 * (1 if values[A[p]] > 0 else values[A[p]] + 1) * values[W[p, i]] * values[W[i]]
        for p in range(2)
        for i in range(2)
    )
    assert total.doit().xreplace(values) == by_hand


@pytest.mark.parametrize(
    "lhs, rhs",
    [
        (
            sp.Symbol("C"),
            sp.Piecewise((sp.Sum(W[P], (P, 0, 1)), A[P] > 0), (0, True)),
        ),  # a_p outside Σ_p
        (sp.Derivative(sp.Symbol("C"), A[I]), W[P] * A[I]),  # p free on the right only
        (sp.Derivative(sp.Symbol("C"), A[I]), sp.KroneckerDelta(I, P)),
    ],
)
def test_the_invariant_refuses_an_index_out_of_its_scope(lhs, rhs):
    assert index_scope_problem(lhs, rhs) is not None
    with pytest.raises(InternalError, match="index"):
        Step(lhs, rhs, Rule.SUBSTITUTION, "a made-up step")


@pytest.mark.parametrize(
    "lhs, rhs",
    [
        (sp.Derivative(sp.Symbol("C"), A[I]), sp.Sum(W[P, I] * A[P], (P, 0, 1))),
        (
            sp.Symbol("C"),
            sp.Sum(sp.Sum(W[P, I] ** 2, (P, 0, sp.IndexedBase("n")[I] - 1)), (I, 0, 2)),
        ),  # a limit uses I
        (sp.Derivative(sp.Symbol("C"), W[I, P]), sp.KroneckerDelta(I, P) * A[P]),
    ],
)
def test_the_invariant_accepts_what_is_written_right(lhs, rhs):
    assert index_scope_problem(lhs, rhs) is None


@pytest.mark.parametrize("layers, activations, options, layer", REPRODUCERS)
def test_the_reproducers_are_right_in_both_forms(layers, activations, options, layer):
    """Every step (at covering points), and both forms of every gradient against SymPy's derivative of the
    fully written-out network, agree; no printed step has an index outside its sum."""
    net = Network(layers, activation=activations, **options)
    assert check_steps(net) == []
    assert check_gradients(net, mode="numeric") == []
    for step in net.derivation().steps(layer):
        assert index_scope_problem(step.lhs, step.rhs) is None


def test_the_classic_gradient_is_right_where_the_outputs_have_mixed_signs():
    """The issue's own measurement: the written-out classic dC_0/dw^(1) against sympy.diff of the written-out
    cost, at a point whose ELU outputs have both signs (44 % off before)."""
    net = Network([1, 2, 2, 2], activation=["silu", "gelu", "elu"])
    s = net.symbols
    model = next(
        m
        for m in covering_points(net, random.Random(0))
        if ("outputs", "mixed signs") in model_coverage(m)
    )
    cost, _ = expanded_cost(net, concrete=True)
    for j, k in ((0, 0), (1, 0)):
        truth = sp.diff(cost, s.w[1, j, k]).xreplace(model.point).evalf(120)
        printed = model.value(engine.derive(net).gradient(1, "classic").xreplace({s.j: j, s.k: k}))
        # GELU's constant 0.044715 is a 15-digit float in the written-out cost: agreement to 1e-12 (it was 44 % off)
        assert abs(printed - truth) <= sp.Float("1e-12") * abs(truth)


@pytest.mark.parametrize(
    "layers, activations, options, layer", REPRODUCERS[1:]
)  # the first: the next test
def test_the_check_alone_catches_the_old_bug(monkeypatch, layers, activations, options, layer):
    """With SymPy's folding Sum back and the invariant off, the step check still fails: at the block and
    step the issue names, for the leaky ReLU too (whose random point never gave mixed signs)."""
    monkeypatch.setattr(engine, "IndexSum", sp.Sum)
    monkeypatch.setattr(steps_module, "index_scope_problem", lambda lhs, rhs: None)
    report = checked_steps(Network(layers, activation=activations, **options))
    where = {failure.where for failure in report.failures}
    assert f"block layer:{layer}, step 15" in where
    assert any(w.startswith("block update, step") for w in where)


def test_the_invariant_alone_catches_the_old_bug(monkeypatch):
    monkeypatch.setattr(engine, "IndexSum", sp.Sum)
    with pytest.raises(InternalError, match="p used outside the sum that binds it"):
        engine.derive(Network([1, 2, 2, 2], activation=["silu", "gelu", "elu"]))


# The points --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "layers, activations",
    [
        ([2, 2, 2, 2], ["relu", "leaky-relu", "elu"]),
        ([2, 3, 2], ["tanh", "identity"]),
        ([1, 2, 2, 2, 2, 2], ["relu", "relu", "relu", "relu", "leaky-relu"]),
        (
            [2, 2, 2],
            ["relu", r"g(z) = \max(z, 2z - 1)"],
        ),  # a user's piecewise definition, kink at z = 1
    ],
)
def test_the_points_show_every_kink_from_both_sides_and_outputs_of_both_signs(layers, activations):
    net = Network(layers, activation=activations)
    models = covering_points(net, random.Random(3))
    seen = set().union(*(model_coverage(m) for m in models))
    assert coverage_wanted(net) <= seen
    assert len(models) >= 2
    if net.activation(net.L).name != "relu":
        assert ("outputs", "mixed signs") in seen


def test_no_point_sits_on_a_kink():
    net = Network([1, 1], activation="relu")
    for model in covering_points(net, random.Random(0)):
        assert model.values[net.symbols.z[1, 0]] != 0


def test_outputs_that_cannot_be_negative_are_not_waited_for():
    """A sigmoid output is never negative: the check does not draw its 48 tries looking for that."""
    net = Network([2, 2, 2], activation="sigmoid")
    assert ("outputs", "mixed signs") not in coverage_wanted(net)
    assert len(covering_points(net, random.Random(0), at_least=2)) == 2


# The documents -------------------------------------------------------------------------------------
def test_the_narrow_network_keeps_everything_but_the_widths():
    net = Network(
        [4, 5, 3],
        activation=["tanh", "elu"],
        cost="half-quadratic",
        bias=True,
        l2="1/10",
        notation="nielsen",
    )
    narrow = narrow_network(net)
    assert narrow.sizes == (2, 2, 2)
    assert (narrow.activations, narrow.cost, narrow.bias, narrow.l2) == (
        net.activations,
        net.cost,
        net.bias,
        net.l2,
    )
    assert narrow.notation == net.notation


def test_a_check_report_counts_steps_and_points():
    report = check_printed(Network([2, 3, 1], activation="sigmoid"))
    assert report.passed and report.points >= 2
    assert report.steps == len(narrow_network(Network([2, 3, 1])).derivation().steps())


def _break_a_step(monkeypatch):
    """The output layer's written-out classic gradient made wrong by a factor 2 (as a real slip would)."""
    original = engine._Deriver.weight_gradient

    def wrong(self, layer, form):
        right = original(self, layer, form)
        return 2 * right if form == "classic" and layer == self.L else right

    monkeypatch.setattr(engine._Deriver, "weight_gradient", wrong)
    steps_module_cache = __import__("derive.checks.steps", fromlist=["_PRINTED"])._PRINTED
    steps_module_cache.clear()


def test_a_wrong_step_is_never_typeset(monkeypatch, tmp_path):
    from derive.documents.html import write_html
    from derive.documents.sheet import write_sheet
    from derive.documents.slides import write_slides

    _break_a_step(monkeypatch)
    net = Network([2, 3, 1], activation="sigmoid")
    for write in (write_sheet, write_slides, write_html):
        with pytest.raises(InternalError, match=r"^block layer:2, step \d+ does not agree"):
            write(net, tmp_path)
        assert list(tmp_path.iterdir()) == []


def test_a_wrong_step_stops_the_command_with_exit_3_and_one_line(monkeypatch, tmp_path, capsys):
    from derive.cli import main

    _break_a_step(monkeypatch)
    code = main(["sheet", "--layers", "2", "3", "1", "--out-dir", str(tmp_path), "--tex-only"])
    err = capsys.readouterr().err
    assert code == 3
    assert err.count("\n") == 1 and err.startswith("derive: internal error: block layer:2, step ")
    assert "(please report)" in err
    assert list(tmp_path.iterdir()) == []


def test_no_check_writes_without_checking(monkeypatch, tmp_path):
    from derive.cli import main

    _break_a_step(monkeypatch)
    assert (
        main(
            [
                "sheet",
                "--layers",
                "2",
                "3",
                "1",
                "--out-dir",
                str(tmp_path),
                "--tex-only",
                "--no-check",
            ]
        )
        == 0
    )
    assert "checked against SymPy" not in next(tmp_path.glob("*.tex")).read_text()


def _cli(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "derive", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


def test_every_document_says_its_steps_were_checked(tmp_path):
    layers = [
        "--layers",
        "3",
        "4",
        "2",
        "--activation",
        "tanh",
        "elu",
        "--out-dir",
        str(tmp_path),
        "--out",
        "n",
    ]
    for command in ("sheet", "slides", "html"):
        extra = ["--tex-only"] if command != "html" else []
        result = _cli(command, *layers, *extra, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    for name in ("n.tex", "n-slides.tex", "n.html"):
        text = " ".join(html.unescape((tmp_path / name).read_text()).split())
        assert "Every step was checked against SymPy's own derivatives at" in text, name
        assert "on the 2-2-2 network of the same depth, activations and cost" in text, name


def test_steps_check_uses_the_covering_points(tmp_path):
    """`steps --check` passes the leaky-ReLU reproducer and reports the steps it checked."""
    result = _cli(
        "steps",
        "--layers",
        "2",
        "2",
        "2",
        "2",
        "--activation",
        "tanh",
        "relu",
        "leaky-relu",
        "--bias",
        "--check",
        "--json",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    import json

    data = json.loads(result.stdout)
    assert data["check"]["passed"] and data["check"]["failures"] == []
    assert data["check"]["steps"] == len(
        Network([2, 2, 2, 2], activation=["tanh", "relu", "leaky-relu"], bias=True)
        .derivation()
        .steps()
    )


def test_homework_solutions_say_they_were_checked(tmp_path):
    from derive.homework.sheets import generate

    results = generate(
        3,
        1,
        tmp_path / "hw",
        kinds=("weight-gradient",),
        questions=1,
        tex_only=True,
        jobs=1,
        progress=False,
    )
    solutions = next(p for p in results[0].files if p.name == "solutions.tex").read_text()
    exercises = next(p for p in results[0].files if p.name == "exercises.tex").read_text()
    assert "checked against SymPy" in " ".join(solutions.split())
    assert "checked against SymPy" not in exercises


def test_model_values_are_cached_numbers():
    """The check asks for dC_0/dz of the same node again and again: each derivative is computed once."""
    net = Network([2, 2, 2])
    model = Model(net, random.Random(0))
    s = net.symbols
    first = model.value(sp.Derivative(s.cost, s.z[1, 0]))
    assert model.value(sp.Derivative(s.cost, s.z[1, 0])) == first and first.is_number
