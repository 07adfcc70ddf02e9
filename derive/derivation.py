"""The engine: dC_0/dw_{jk}^{(l)} and dC_0/db_j^{(l)} for every layer, step by step.

Everything is derived in index form (node letters j, k, i, ...), never by
expanding the network, so the work grows with depth and not with width.
One recursion serves every layer: the output layer gets dC_0/da_j^{(L)} from
the cost, a hidden layer from the sum over the nodes it feeds.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import sympy as sp

from .activations import Z
from .costs import A, Y
from .steps import Block, Rule, Step, instantiate
from .steps import product as _mul

if TYPE_CHECKING:
    from .network import Network

Form = Literal["chain", "classic"]
FORMS = ("chain", "classic")




def _simpler(expr: sp.Expr) -> sp.Expr | None:
    """A clearly simpler equal form of ``expr`` (e.g. a cancellation), or None."""
    candidate = sp.factor(sp.cancel(expr))
    return candidate if sp.count_ops(candidate) < sp.count_ops(expr) else None


@dataclass(frozen=True)
class Derivation:
    """Blocks of steps, in dependency order, with each layer's results."""

    network: "Network"
    blocks: tuple[Block, ...]

    def __post_init__(self) -> None:
        from .display import remember

        remember(self)  # so a block or step taken out of it still displays in its notation

    def _repr_markdown_(self) -> str:
        """Jupyter (JupyterLab, VS Code): each block a heading, each step its reason and one display."""
        from .display import derivation_markdown

        return derivation_markdown(self)

    def _repr_latex_(self) -> str:
        """One ``gathered`` environment (for front ends that prefer LaTeX, nbconvert --to latex): no top-level \\\\."""
        from .display import derivation_latex

        return derivation_latex(self)

    def _repr_pretty_(self, p, cycle: bool) -> None:
        """IPython's plain text: the terminal rendering, not the dataclass repr."""
        from .terminal import render_steps

        p.text(render_steps(self))

    def show(self, obj: object):
        """``obj`` (e.g. ``d.gradient(2)``) displayed in Jupyter in this derivation's notation."""
        from .display import show

        return show(obj, self.network.notation)

    def block(self, key: str) -> Block:
        for block in self.blocks:
            if block.key == key:
                return block
        raise KeyError(f"no block {key!r}; blocks are {[b.key for b in self.blocks]}")

    def _layer_block(self, layer: int) -> Block:
        if not isinstance(layer, int) or isinstance(layer, bool) or not 1 <= layer <= self.network.L:
            from .errors import DeriveError

            raise DeriveError(f"layer must be a weight layer 1..{self.network.L}, got {layer!r}")
        return self.block(f"layer:{layer}")

    def gradient(self, layer: int, form: Form = "chain") -> sp.Expr:
        """dC_0/dw_{jk}^{(layer)} in index form; 'chain' keeps g'(z), 'classic' writes it out."""
        return self._layer_block(layer).result(f"weight_{_form(form)}")

    def bias_gradient(self, layer: int, form: Form = "chain") -> sp.Expr:
        """dC_0/db_j^{(layer)} = delta_j^{(layer)} written out in index form."""
        return self._layer_block(layer).result(f"delta_{_form(form)}")

    def delta(self, layer: int) -> sp.Expr:
        """delta_j^{(layer)} through the recursion: in terms of delta^{(layer+1)} (or the cost at L)."""
        return self._layer_block(layer).result("delta_recursive")

    def concrete_gradient(self, layer: int, j: int, k: int | None = None, form: Form = "chain") -> sp.Expr:
        """dC_0/dw_{jk}^{(layer)} (or dC_0/db_j when k is None) for concrete nodes, in x, y, w and b."""
        from .expansion import written_out

        s, net = self.network.symbols, self.network
        self._layer_block(layer)
        _check_node(j, net.size(layer), "j")
        if k is None:
            if not net.bias:
                from .errors import DeriveError

                raise DeriveError("this network has no biases")
            return written_out(self.bias_gradient(layer, form), net, {s.j: j})
        _check_node(k, net.size(layer - 1), "k")
        return written_out(self.gradient(layer, form), net, {s.j: j, s.k: k})

    def steps(self, layer: int | None = None) -> tuple[Step, ...]:
        """The ordered steps leading to the layer's gradient (all layers when None), each block once."""
        keys = [f"layer:{layer}"] if layer is not None else [b.key for b in self.blocks]
        if layer is not None:
            self._layer_block(layer)
        ordered: list[Block] = []

        def visit(key: str) -> None:
            block = self.block(key)
            if block in ordered:
                return
            for ref in block.refs:
                visit(ref)
            ordered.append(block)

        visit("forward")
        for key in keys:
            visit(key)
        return tuple(step for block in ordered for step in block.steps)

    def blocks_for(self, layer: int) -> tuple[Block, ...]:
        """The blocks that ``steps(layer)`` walks through, in the same order."""
        wanted = set(id(s) for s in self.steps(layer))
        return tuple(b for b in self.blocks if any(id(s) in wanted for s in b.steps))


def _check_node(index: object, size: int, letter: str) -> None:
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < size:
        from .errors import DeriveError

        raise DeriveError(f"node index {letter} must be an integer in 0..{size - 1}, got {index!r}")


def _form(form: str) -> str:
    if form not in FORMS:
        from .errors import DeriveError

        raise DeriveError(f"form must be one of {', '.join(FORMS)}, got {form!r}")
    return form


class _Deriver:
    """Builds the blocks of one network. Small methods, one per kind of fact."""

    def __init__(self, net: "Network") -> None:
        self.net = net
        self.s = net.symbols
        self.L = net.L

    # Factors -------------------------------------------------------------------------
    def act_key(self, layer: int) -> str:
        return f"activation:{self.net.activation(layer).name}"

    def gprime(self, layer: int, node: sp.Expr, form: Form) -> sp.Expr:
        act = self.net.activation(layer)
        if form == "chain":
            return act.prime(self.s.z[layer, node])
        return act.classic_at(self.s.z[layer, node], self.s.a[layer, node])

    def cost_factor(self, node: sp.Expr) -> sp.Expr:
        return self.net.cost.derivative_at(self.s.a[self.L, node], self.s.y[node])

    def letter(self, layer: int, base: int) -> sp.Symbol:
        """Node letter for layer ``layer`` in a formula about layer ``base`` (j at base)."""
        return self.s.j if layer == base else self.s.downstream_letter(layer - base)

    def output_delta(self, node: sp.Expr, form: Form) -> sp.Expr:
        product = _mul(self.cost_factor(node), self.gprime(self.L, node, form))
        if form == "classic":
            return _simpler(product) or product
        return product

    def dC_da(self, layer: int, node: sp.Expr, base: int, form: Form) -> sp.Expr:
        """dC_0/da_node^{(layer)} written out, downstream letters chosen relative to ``base``."""
        if layer == self.L:
            return self.cost_factor(node)
        i = self.letter(layer + 1, base)
        term = _mul(self.delta(layer + 1, i, base, form), self.s.w[layer + 1, i, node])
        return sp.Sum(term, (i, 0, self.net.size(layer + 1) - 1))

    def delta(self, layer: int, node: sp.Expr, base: int, form: Form) -> sp.Expr:
        """delta_node^{(layer)} = dC_0/dz_node^{(layer)} written out."""
        if layer == self.L:
            return self.output_delta(node, form)
        return _mul(self.dC_da(layer, node, base, form), self.gprime(layer, node, form))

    # Blocks ---------------------------------------------------------------------------
    def forward_block(self) -> Block:
        s, net = self.s, self.net
        steps = []
        for layer in range(1, self.L + 1):
            steps.append(Step(s.z[layer, s.j], net.z_definition(layer, s.j), Rule.DEFINITION,
                              f"Weighted input of node j in layer {layer}."))
            steps.append(Step(s.a[layer, s.j], net.a_definition(layer, s.j), Rule.DEFINITION,
                              f"Activation of node j in layer {layer}."))
        steps.append(Step(s.cost, net.cost_definition(), Rule.DEFINITION,
                          f"The single-sample cost: {net.cost.title}."))
        return Block("forward", "Forward equations and cost", tuple(steps))

    def cost_block(self) -> Block:
        s, L = self.s, self.L
        a, y = s.a[L, s.j], s.y[s.j]
        lhs = sp.Derivative(s.cost, a)
        steps = [Step(s.cost, self.net.cost_definition(), Rule.DEFINITION, "Start from the cost."),
                 Step(lhs, sp.Derivative(self.net.cost.term_at(a, y), a), Rule.SUM_RULE,
                      "Only the j-th term of the sum contains this output.")]
        for expr, rule, text in self.net.cost.derivative_chain:
            steps.append(Step(lhs, instantiate(expr, {A: a, Y: y}), rule, text))
        return Block("cost", f"Derivative of the {self.net.cost.title}", tuple(steps),
                     results=(("dC_da", steps[-1].rhs),))

    def activation_block(self, layer: int) -> Block:
        act = self.net.activation(layer)
        lhs = act.prime(Z)
        steps = [Step(act(Z), act.definition(Z), Rule.DEFINITION, f"The {act.description}.")]
        steps += [Step(lhs, expr, rule, text) for expr, rule, text in act.derivative_chain]
        return Block(self.act_key(layer), f"Derivative of the {act.description}", tuple(steps),
                     results=(("classic", steps[-1].rhs),))

    def layer_block(self, layer: int) -> Block:
        s, net, L = self.s, self.net, self.L
        j, k, C = s.j, s.k, s.cost
        act_ref = (self.act_key(layer),)
        dw = sp.Derivative(C, s.w[layer, j, k])
        da = sp.Derivative(C, s.a[layer, j])
        dadz = sp.Derivative(s.a[layer, j], s.z[layer, j])
        dzdw = sp.Derivative(s.z[layer, j], s.w[layer, j, k])
        prev = net.previous_activation(layer, k)
        where = "the output layer" if layer == L else f"hidden layer {layer}"
        steps = [Step(dw, _mul(da, dadz, dzdw), Rule.CHAIN_RULE,
                      "The weight reaches the cost only through this node's weighted input, then its activation.")]
        steps += self.dC_da_steps(layer)
        steps.append(Step(dadz, self.gprime(layer, j, "chain"), Rule.ACTIVATION_DERIVATIVE,
                          "The activation's derivative at this node's weighted input.", act_ref))
        steps.append(Step(dzdw, sp.Derivative(net.z_definition(layer, j), s.w[layer, j, k]), Rule.DEFINITION,
                          "Write out the weighted input."))
        steps.append(Step(dzdw, prev, Rule.SUM_RULE,
                          "Only the term with k' = k contains the weight; its coefficient is the input from node k."))
        weight_chain = self.weight_gradient(layer, "chain")
        steps.append(Step(dw, weight_chain, Rule.SUBSTITUTION, "Combine the three factors."))
        steps += self.delta_steps(layer)
        delta_classic = self.delta(layer, j, layer, "classic")
        weight_classic = self.weight_gradient(layer, "classic")
        steps.append(Step(dw, weight_classic, Rule.SUBSTITUTION,
                          "Insert the classic form of every activation derivative.",
                          tuple(self.act_key(m) for m in range(layer, L + 1))))
        if net.bias:
            steps += self.bias_steps(layer)
        results = (
            ("dC_da", self.dC_da(layer, j, layer, "chain")),
            ("weight_chain", weight_chain), ("weight_classic", weight_classic),
            ("delta_chain", self.delta(layer, j, layer, "chain")), ("delta_classic", delta_classic),
            ("delta_recursive", self.delta_recursive(layer, j)),
            ("weight_from_delta", _mul(s.delta[layer, j], prev)),
        )
        return Block(f"layer:{layer}", f"Weights into {where}: layer {layer}", tuple(steps), results)

    def weight_gradient(self, layer: int, form: Form) -> sp.Expr:
        """dC_0/dw_{jk}^{(layer)} written out: dC_0/da_j, g'(z_j) and the incoming activation."""
        if form == "classic":
            return _mul(self.delta(layer, self.s.j, layer, "classic"), self.net.previous_activation(layer, self.s.k))
        return _mul(self.dC_da(layer, self.s.j, layer, "chain"), self.gprime(layer, self.s.j, "chain"),
                    self.net.previous_activation(layer, self.s.k))

    def dC_da_steps(self, layer: int) -> list[Step]:
        """How dC_0/da_j^{(layer)} is obtained: from the cost at L, by the downstream sum otherwise."""
        s, net = self.s, self.net
        j, C = s.j, s.cost
        da = sp.Derivative(C, s.a[layer, j])
        if layer == self.L:
            return [Step(da, self.cost_factor(j), Rule.COST_DERIVATIVE,
                         "The derivative of the cost with respect to this output.", ("cost",))]
        i = self.letter(layer + 1, layer)
        nxt = layer + 1
        n_next = net.size(nxt) - 1
        dz_da = sp.Derivative(s.z[nxt, i], s.a[layer, j])
        paths = _mul(sp.Derivative(C, s.a[nxt, i]), sp.Derivative(s.a[nxt, i], s.z[nxt, i]), dz_da)
        local = _mul(sp.Derivative(C, s.a[nxt, i]), self.gprime(nxt, i, "chain"), s.w[nxt, i, j])
        downstream_ref = "cost" if nxt == self.L else f"layer:{nxt}"
        return [
            Step(da, sp.Sum(paths, (i, 0, n_next)), Rule.CHAIN_RULE,
                 f"This activation feeds every node i of layer {nxt}: add up the paths."),
            Step(dz_da, sp.Derivative(net.z_definition(nxt, i), s.a[layer, j]), Rule.DEFINITION,
                 "Write out the downstream weighted input."),
            Step(dz_da, s.w[nxt, i, j], Rule.SUM_RULE, "Only the term for node j contains this activation."),
            Step(da, sp.Sum(local, (i, 0, n_next)), Rule.SUBSTITUTION,
                 "Insert the local derivatives.", (self.act_key(nxt),)),
            Step(da, self.dC_da(layer, j, layer, "chain"), Rule.SUBSTITUTION,
                 f"Insert the derivative with respect to the activations of layer {nxt}.", (downstream_ref,)),
        ]

    def delta_recursive(self, layer: int, node: sp.Expr) -> sp.Expr:
        s = self.s
        if layer == self.L:
            return self.output_delta(node, "chain")
        i = self.letter(layer + 1, layer)
        total = sp.Sum(_mul(s.w[layer + 1, i, node], s.delta[layer + 1, i]), (i, 0, self.net.size(layer + 1) - 1))
        return _mul(total, self.gprime(layer, node, "chain"))

    def delta_steps(self, layer: int) -> list[Step]:
        """Name the repeated factor delta_j^{(l)} = dC_0/dz_j^{(l)} and give its recursion."""
        s = self.s
        j, k, C = s.j, s.k, s.cost
        delta = s.delta[layer, j]
        prev = self.net.previous_activation(layer, k)
        steps = [
            Step(delta, sp.Derivative(C, s.z[layer, j]), Rule.DEFINITION,
                 "Name the error of node j: every weight into the node shares this factor."),
            Step(delta, _mul(sp.Derivative(C, s.a[layer, j]), sp.Derivative(s.a[layer, j], s.z[layer, j])),
                 Rule.CHAIN_RULE, "The weighted input reaches the cost through the activation."),
        ]
        if layer == self.L:
            steps.append(Step(delta, self.output_delta(j, "chain"), Rule.SUBSTITUTION,
                              "Insert both derivatives.", ("cost", self.act_key(layer))))
        else:
            steps.append(Step(delta, self.delta_recursive(layer, j), Rule.SUBSTITUTION,
                              f"The terms of the sum are the errors of layer {layer + 1}: the delta recursion.",
                              (f"layer:{layer + 1}",)))
        steps.append(Step(sp.Derivative(C, s.w[layer, j, k]), _mul(delta, prev), Rule.SUBSTITUTION,
                          "The weight gradient is the node's error times the incoming activation."))
        if layer == self.L:
            steps += self.output_classic_steps()
        return steps

    def output_classic_steps(self) -> list[Step]:
        """delta^{(L)} with the activation's classic derivative, simplified when something cancels."""
        s, L = self.s, self.L
        j = s.j
        delta = s.delta[L, j]
        act = self.net.activation(L)
        product = _mul(self.cost_factor(j), self.gprime(L, j, "classic"))
        steps = [
            Step(act.prime(s.z[L, j]), self.gprime(L, j, "classic"), Rule.ACTIVATION_DERIVATIVE,
                 "The classic form of the derivative, written with the node's own output.", (self.act_key(L),)),
            Step(delta, product, Rule.SUBSTITUTION, "Insert it into the output error."),
        ]
        simpler = _simpler(product)
        if simpler is not None:
            steps.append(Step(delta, simpler, Rule.SIMPLIFICATION,
                              "The activation's derivative cancels against the cost's derivative."))
        return steps

    def bias_steps(self, layer: int) -> list[Step]:
        s = self.s
        j, C = s.j, s.cost
        db = sp.Derivative(C, s.b[layer, j])
        dzdb = sp.Derivative(s.z[layer, j], s.b[layer, j])
        return [
            Step(db, _mul(sp.Derivative(C, s.z[layer, j]), dzdb), Rule.CHAIN_RULE,
                 "The bias reaches the cost only through this node's weighted input."),
            Step(dzdb, sp.Integer(1), Rule.SUM_RULE, "The bias enters the weighted input with coefficient 1."),
            Step(db, s.delta[layer, j], Rule.SUBSTITUTION, "So the bias gradient is the node's error."),
            Step(db, self.delta(layer, j, layer, "chain"), Rule.SUBSTITUTION, "Written out."),
        ]


def layer_matrix(kind: str, layer: sp.Expr, rows: sp.Expr, cols: sp.Expr = 1) -> sp.MatrixSymbol:
    """A layer's vector or matrix (W^{(l)}, delta^{(l)}, a^{(l-1)}, g'^{(l)}(z^{(l)}), ...).

    The kind and layer travel in the name ("W:l+1"); the printers turn them into notation.
    """
    return sp.MatrixSymbol(f"{kind}:{layer}", rows, cols)


def matrix_summary(net: "Network", layer: int | None = None) -> Block:
    """The four backpropagation equations in vector form (the general case of every layer block).

    With ``layer`` the general l is replaced by that layer (the checks use this).
    """
    s = net.symbols
    l, L = (s.l if layer is None else sp.Integer(layer)), sp.Integer(net.L)
    n = lambda layer: s.n[layer]  # noqa: E731
    delta = lambda layer: layer_matrix("delta", layer, n(layer))  # noqa: E731
    gprime = lambda layer: layer_matrix("gprime", layer, n(layer))  # noqa: E731
    steps = (
        Step(delta(L), sp.HadamardProduct(layer_matrix("gradC", L, n(L)), gprime(L)), Rule.CHAIN_RULE,
             "Output error: the cost's gradient with respect to the outputs, times the activation's derivative, "
             "element by element."),
        Step(delta(l), sp.HadamardProduct(layer_matrix("W", l + 1, n(l + 1), n(l)).T * delta(l + 1), gprime(l)),
             Rule.CHAIN_RULE, "Error recursion: the errors of layer l+1 flow back through the transposed weights."),
        Step(layer_matrix("dCdb", l, n(l)), delta(l), Rule.SUBSTITUTION,
             "Bias gradient: the error itself."),
        Step(layer_matrix("dCdW", l, n(l), n(l - 1)), delta(l) * layer_matrix("a", l - 1, n(l - 1)).T,
             Rule.SUBSTITUTION, "Weight gradient: error times incoming activation, an outer product."),
    )
    return Block("summary", "Summary in matrix form", steps if net.bias else steps[:2] + steps[3:])


def weight_gradient(net: "Network", layer: int, form: Form = "chain") -> sp.Expr:
    """One layer's dC_0/dw_{jk}^{(layer)} without the steps: equal to ``derive(net).gradient(layer, form)``
    (the same method computes both), for callers that need only the formula (a homework key)."""
    if not isinstance(layer, int) or isinstance(layer, bool) or not 1 <= layer <= net.L:
        from .errors import DeriveError

        raise DeriveError(f"layer must be a weight layer 1..{net.L}, got {layer!r}")
    return _Deriver(net).weight_gradient(layer, _form(form))


def derive(net: "Network") -> Derivation:
    """Build the full derivation of a network (index form; cost independent of layer widths)."""
    d = _Deriver(net)
    blocks = [d.forward_block(), d.cost_block()]
    seen: set[str] = set()
    for layer in range(1, net.L + 1):
        if d.act_key(layer) not in seen:
            seen.add(d.act_key(layer))
            blocks.append(d.activation_block(layer))
    blocks += [d.layer_block(layer) for layer in range(net.L, 0, -1)]
    blocks.append(matrix_summary(net))
    return Derivation(net, tuple(blocks))
