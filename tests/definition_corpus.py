"""Activation and cost definitions as users (and attackers) write them, for the definition fuzz.

Four families, each reproducible from a seed: the built-ins' own definitions written by hand;
mutations of those (a character dropped, doubled or swapped, a digit turned into 1000, the whole
wrapped in a power); grammar-built expressions with nested powers, cases, max/min/abs, fractions,
roots and logarithms; and random token soup. The test and bench/definition_fuzz.py share it.
"""

from __future__ import annotations

import random

ACTIVATIONS = [  # the built-ins, typed the way a student copies them from a slide
    r"g(z) = \frac{1}{1+e^{-z}}",
    r"g(z) = \frac{1}{1 + \exp(-z)}",
    r"g(z) = \tanh(z)",
    r"g(z) = \frac{e^{z} - e^{-z}}{e^{z} + e^{-z}}",
    r"g(z) = \max(0, z)",
    r"g(z) = \max(z, 0)",
    r"g(z) = \begin{cases} z & z > 0 \\ 0 & \text{otherwise} \end{cases}",
    r"g(z) = \begin{cases} z & z > 0 \\ 0.01 z & z \le 0 \end{cases}",
    r"g(z) = \max(0.01z, z)",
    r"g(z) = \begin{cases} z & z > 0 \\ e^{z} - 1 & z \le 0 \end{cases}",
    r"g(z) = \ln(1 + e^{z})",
    r"g(z) = \log(1+\exp(z))",
    r"g(z) = z \sigma(z)",
    r"g(z) = \frac{z}{1+e^{-z}}",
    r"g(z) = z",
    r"g(z) = 2z + 1",
    r"g(z) = z^2",
    r"g(z) = |z|",
    r"g(z) = \frac{z}{1+|z|}",
    r"g(z) = \sqrt{1+z^2} - 1",
    r"g(z) = \arctan(z)",
    r"g(z) = e^{-z^2}",
    r"g(z) = \sin(z)",
    r"g(z) = \min(\max(z, -1), 1)",
]

COSTS = [
    r"C_0 = \sum_j (a_j^{(L)} - y_j)^2",
    r"C_0 = \frac{1}{2}\sum_j (a_j^{(L)} - y_j)^2",
    r"C_0 = \frac12 \sum_{j} \left(a_j^{(L)}-y_j\right)^{2}",
    r"C_0 = -\sum_j \left(y_j \ln a_j^{(L)} + (1-y_j)\ln(1-a_j^{(L)})\right)",
    r"C_0 = -\sum_j y_j \log(a_j^{(L)})",
    r"C_0 = \sum_j |a_j^{(L)} - y_j|",
    r"C_0 = \sum_j \ln(\cosh(a_j^{(L)} - y_j))",
    r"C_0 = \sum_j (a_j^{(L)} - y_j)^4",
    r"C_0 = \sum_j \sqrt{1 + (a_j^{(L)} - y_j)^2}",
    r"C_0 = \sum_j \max(0, 1 - y_j a_j^{(L)})",
]

_NOISE = list("z()[]{}^_\\+-*/|&,.0123456789 eg=") + [
    r"\frac",
    r"\sum",
    r"\max",
    r"\sigma",
    "^{1000}",
    r"\begin{cases}",
    r"\end{cases}",
    r"\\",
    "&",
]


def _mutate(text: str, rng: random.Random) -> str:
    """One edit a hurried typist (or a fuzzer) makes."""
    kind = rng.randrange(7)
    i = rng.randrange(len(text))
    if kind == 0:
        return text[:i] + text[i + 1 :]
    if kind == 1:
        return text[:i] + text[i] + text[i:]
    if kind == 2 and i + 1 < len(text):
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind == 3:
        return text[:i] + rng.choice(_NOISE) + text[i:]
    if kind == 4:
        digits = [k for k, c in enumerate(text) if c.isdigit()]
        if digits:
            k = rng.choice(digits)
            return text[:k] + rng.choice(["1000", "0", "-1", "10^{10}", "0.5"]) + text[k + 1 :]
    if kind == 5:
        lhs, sep, rhs = text.partition("=")
        return f"{lhs}{sep} ({rhs})^{{{rng.choice([2, 10, 100, 1000, 5000])}}}"
    lhs, sep, rhs = text.partition("=")
    factor = rng.choice(["", "-", "2", r"\frac{1}{3}"])
    return f"{lhs}{sep} {factor}{rhs.replace('z', '(z^2)', 1)}"


def mutations(base: list[str], count: int, seed: int) -> list[str]:
    """``count`` texts, each one to three edits away from a definition in ``base``."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        text = rng.choice(base)
        for _ in range(rng.randint(1, 3)):
            text = _mutate(text, rng)
        out.append(text)
    return out


class _Grammar:
    """Random well-formed-looking expressions in one variable (``z`` or an output ``a``)."""

    def __init__(self, rng: random.Random, leaves: list[str]):
        self.rng = rng
        self.leaves = leaves

    def power(self) -> str:
        return self.rng.choice(
            ["2", "3", "-1", "0.5", "10", "100", "1000", "-2", "z", "\\frac{1}{2}"]
        )

    def expr(self, depth: int) -> str:
        r = self.rng
        if depth <= 0 or r.random() < 0.2:
            return r.choice(self.leaves)
        e = self.expr
        d = depth - 1
        forms = [
            lambda: f"{e(d)} + {e(d)}",
            lambda: f"{e(d)} - {e(d)}",
            lambda: f"{e(d)} \\cdot {e(d)}",
            lambda: f"\\frac{{{e(d)}}}{{{e(d)}}}",
            lambda: f"({e(d)})^{{{self.power()}}}",
            lambda: f"e^{{{e(d)}}}",
            lambda: f"\\exp({e(d)})",
            lambda: f"\\ln({e(d)})",
            lambda: f"\\ln(1 + e^{{{e(d)}}})",
            lambda: f"\\tanh({e(d)})",
            lambda: f"\\sqrt{{{e(d)}}}",
            lambda: f"|{e(d)}|",
            lambda: f"\\left|{e(d)}\\right|",
            lambda: f"\\max({e(d)}, {e(d)})",
            lambda: f"\\min({e(d)}, {e(d)})",
            lambda: f"-{e(d)}",
            lambda: f"\\sin({e(d)})",
            lambda: f"\\sigma({e(d)})",
            lambda: self.cases(d),
        ]
        return r.choice(forms)()

    def cases(self, depth: int) -> str:
        r = self.rng
        v = self.leaves[0]
        c = r.choice(["0", "1", "-1", "0.5"])
        below = r.choice([f"{v} \\le {c}", f"{v} < {c}", r"\text{otherwise}"])
        above = r.choice([f"{v} > {c}", f"{v} \\ge {c}"])
        return (
            f"\\begin{{cases}} {self.expr(depth)} & {above} \\\\ {self.expr(depth)} & {below} "
            f"\\end{{cases}}"
        )


ACTIVATION_LEAVES = [
    "z",
    "z",
    "z",
    "1",
    "2",
    "0.5",
    "-1",
    "e^{z}",
    "e^{-z}",
    r"\sigma(z)",
    "z^2",
    "0.01",
]
COST_LEAVES = [
    "a_j^{(L)}",
    "a_j^{(L)}",
    "y_j",
    "(a_j^{(L)} - y_j)",
    "1",
    "2",
    "0.5",
    r"\ln a_j^{(L)}",
]


def grammar_activations(count: int, seed: int, depth: int = 4) -> list[str]:
    g = _Grammar(random.Random(seed), ACTIVATION_LEAVES)
    return [f"g(z) = {g.expr(depth)}" for _ in range(count)]


def grammar_costs(count: int, seed: int, depth: int = 3) -> list[str]:
    rng = random.Random(seed)
    g = _Grammar(rng, COST_LEAVES)
    factors = ["", "-", r"\frac{1}{2}", "2"]
    return [f"C_0 = {rng.choice(factors)}\\sum_j {g.expr(depth)}" for _ in range(count)]


def soup(count: int, seed: int, prefix: str) -> list[str]:
    """Random tokens after a valid left-hand side: what a paste from the wrong window gives."""
    rng = random.Random(seed)
    return [
        prefix + "".join(rng.choice(_NOISE) for _ in range(rng.randint(1, 40)))
        for _ in range(count)
    ]


FAMILIES = ("built-in", "grammar", "mutation", "soup")


def labelled_definitions(count: int, seed: int = 19) -> list[tuple[str, str, str]]:
    """``count`` distinct (family, kind, text) triples, kind "activation" or "cost", in fixed shares."""
    families = [  # (family, kind, generator of n texts from a seed, share of every 20)
        ("grammar", "activation", lambda n, s: grammar_activations(n, s), 8),
        ("mutation", "activation", lambda n, s: mutations(ACTIVATIONS, n, s), 4),
        ("soup", "activation", lambda n, s: soup(n, s, "g(z) = "), 1),
        ("grammar", "cost", lambda n, s: grammar_costs(n, s), 4),
        ("mutation", "cost", lambda n, s: mutations(COSTS, n, s), 2),
        ("soup", "cost", lambda n, s: soup(n, s, "C_0 = "), 1),
    ]
    items = [("built-in", "activation", t) for t in ACTIVATIONS] + [
        ("built-in", "cost", t) for t in COSTS
    ]
    seen = {text for *_, text in items}
    wanted = [(count - len(items)) * share // 20 for *_, share in families]
    wanted[0] += count - len(items) - sum(wanted)
    for index, ((family, kind, generate, _), n) in enumerate(zip(families, wanted)):
        round_seed = seed * 1000 + index * 100
        while n > 0:
            for text in generate(2 * n, round_seed):
                if n and text not in seen:
                    seen.add(text)
                    items.append((family, kind, text))
                    n -= 1
            round_seed += 1
    return items


def definitions(count: int, seed: int = 19) -> list[tuple[str, str]]:
    """``count`` distinct (kind, text) pairs: labelled_definitions without the family."""
    return [(kind, text) for _, kind, text in labelled_definitions(count, seed)]


def _measured(read, item: tuple[str, str]) -> tuple[str, str, float, int]:
    """(outcome, message, seconds, peak KiB) of ``read(kind, text)``; outcome "read" or "refused".

    A DeriveError is a refusal (its one-line message kept); anything else propagates, and run_each
    reports it as an InternalError. Run in a limited child: the peak is the child's resident size."""
    import resource
    import time

    from derive.errors import DeriveError

    start = time.perf_counter()
    try:
        read(*item)
        outcome, message = "read", ""
    except DeriveError as error:
        outcome, message = "refused", str(error)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return outcome, message, time.perf_counter() - start, peak


def _parse_and_derive(kind: str, text: str) -> None:
    """Read the definition: parsed, checked real, and its derivative taken step by step."""
    from derive.read import latex as reader

    (reader._parse_activation if kind == "activation" else reader._parse_cost)(text)


def _read_and_rehearse(kind: str, text: str) -> None:
    from derive.read import latex as reader

    (reader._read_activation if kind == "activation" else reader._read_cost)(text)


def read_quickly(item: tuple[str, str]) -> tuple[str, str, float, int]:
    """Parse the definition and derive it (the rehearsal on a network left out)."""
    return _measured(_parse_and_derive, item)


def read_fully(item: tuple[str, str]) -> tuple[str, str, float, int]:
    """What ``--activation``/``--cost`` runs in its limited child: parse, derive and rehearse."""
    return _measured(_read_and_rehearse, item)


def outcome_of(value: object) -> str:
    """What ``run_each`` gave for one definition: "read", "refused", "time cap", "memory cap" or "internal"
    (the test and the benchmark classify alike)."""
    from derive.limits import InternalError, MemoryLimitExceeded, TimeLimitExceeded

    if isinstance(value, tuple):
        return value[0]
    limits = {
        InternalError: "internal",
        TimeLimitExceeded: "time cap",
        MemoryLimitExceeded: "memory cap",
    }
    for kind, outcome in limits.items():
        if isinstance(value, kind):
            return outcome
    raise TypeError(f"not an outcome of run_each: {value!r}")
