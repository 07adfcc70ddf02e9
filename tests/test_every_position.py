"""A fixed subset of bench/every_step.py's product, in CI: every activation in the output position of a
network three weight layers deep (where an ELU or leaky-ReLU output once gave a wrong written-out
gradient), each hidden position of deeper networks, every cost, with and without biases and L2.

Every printed step (at points that show each kink from both sides and outputs of both signs) and
both forms of every gradient (against sympy.diff of the written-out network) must agree.
"""

from __future__ import annotations

import importlib.util
import itertools
import random
import sys
from pathlib import Path

import pytest

from derive.checks.steps import check_gradients, checked_steps
from derive.evaluate.exact import coverage_wanted, covering_points, model_coverage

_SPEC = importlib.util.spec_from_file_location(
    "every_step", Path(__file__).parent.parent / "bench" / "every_step.py"
)
every_step = sys.modules.setdefault("every_step", importlib.util.module_from_spec(_SPEC))
_SPEC.loader.exec_module(every_step)
Case = every_step.Case


NATURAL_COST = {
    "sigmoid": "cross-entropy",
    "softmax": "log-likelihood",
    "softplus": "log-likelihood",
}


def _subset() -> list:
    """Each activation at the output of 3 weight layers (with the cost made for it where there is one), and
    at a hidden position of 2, 4 or 5; costs, biases and L2 turning round."""
    wanted = [(3, 3, act) for act in (*every_step.ACTIVATIONS, "softmax")]
    wanted += [
        (depth, position, act)
        for act, (depth, position) in zip(
            every_step.ACTIVATIONS,
            itertools.cycle([(4, 1), (4, 2), (4, 3), (5, 2), (5, 4), (2, 1)]),
        )
    ]
    wanted += [(1, 1, "relu"), (1, 1, "softmax")]
    plain = itertools.cycle(("quadratic", "half-quadratic"))
    extras = itertools.cycle([(bias, l2) for bias in (False, True) for l2 in (None, "1/10")])
    cases = []
    for depth, position, activation in wanted:
        output = activation if position == depth else every_step.FILLER
        cost = NATURAL_COST.get(output) if depth == 3 else None
        cases.append(Case(depth, position, activation, cost or next(plain), *next(extras)))
    for case in cases:
        case.network()  # every one makes a network
    return cases


SUBSET = _subset()


def test_the_subset_has_every_activation_at_the_output_and_in_hidden_layers():
    at_output = {c.activation for c in SUBSET if c.position == c.depth and c.depth == 3}
    hidden = {c.activation for c in SUBSET if c.position < c.depth}
    assert at_output == {*every_step.ACTIVATIONS, "softmax"}
    assert hidden == set(every_step.ACTIVATIONS)
    assert {c.depth for c in SUBSET} == {1, 2, 3, 4, 5}
    assert {c.cost for c in SUBSET} == set(every_step.COSTS)
    assert {(c.bias, c.l2 is not None) for c in SUBSET} == {
        (False, False),
        (False, True),
        (True, False),
        (True, True),
    }


def test_the_product_is_what_the_bench_says():
    cases = every_step.product(2)
    assert all(c.network().L == c.depth for c in cases[:50])
    assert {c.activation for c in cases if c.position < c.depth} == set(
        every_step.ACTIVATIONS
    )  # no hidden softmax


@pytest.mark.parametrize("case", SUBSET, ids=lambda c: " ".join(c.label().split()))
def test_every_printed_step_and_both_forms(case):
    net = case.network()
    report = checked_steps(net)
    assert report.failures == (), [str(f) for f in report.failures[:3]]
    assert check_gradients(net, mode="numeric", layers=every_step.written_out_layers(net)) == []
    seen = set().union(*(model_coverage(m) for m in covering_points(net, random.Random(0))))
    assert coverage_wanted(net) <= seen  # the points did show every kink from both sides
