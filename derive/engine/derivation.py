"""The engine: dC_0/dw_{jk}^{(l)} and dC_0/db_j^{(l)} for every layer, step by step.

Everything is derived in index form (node letters j, k, i, ...), never by
expanding the network, so width costs nothing. One recursion serves every layer:
the output layer gets dC_0/da_j^{(L)} from the cost, a hidden layer from the errors
delta^{(l+1)} of the layer it feeds, so every layer's block has the same size and
the work grows linearly with depth. Formulas written out to the output layer grow
with the depth below them; they are built when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping

import sympy as sp

from derive.choices import Choice
from derive.notation.sums import IndexSum

from derive.model.activations import Z
from derive.model.costs import A, Y
from derive.model.differentiate import ChainStep
from derive.notation.symbols import MatrixKind, layer_matrix
from derive.model.steps import (
    AVERAGE,
    COST,
    FORWARD,
    SUMMARY,
    UPDATE,
    Block,
    BlockKey,
    Equation,
    LayerRef,
    NamedResult,
    Reason,
    ReasonKind as R,
    Result,
    Rule,
    Step,
    as_reason,
    because,
    instantiate,
    with_origin,
)
from derive.model.steps import power, product as _mul


if TYPE_CHECKING:
    from derive.model.network import Network


class Form(Choice):
    """How a written-out gradient shows each activation's derivative: kept as g'(z), or in its classic form."""

    CHAIN = "chain"  # g'(z_j) stays
    CLASSIC = "classic"  # g'(z_j) written out: sigma(z)(1 - sigma(z)) as a_j (1 - a_j)


FORMS = Form.words()  # the words a caller may pass: "chain", "classic"
WRITTEN_OUT = (
    2  # layers at most this many weight layers above the output also get the gradient written out
)


def _simpler(expr: sp.Expr) -> sp.Expr | None:
    """A clearly simpler equal form of ``expr`` (e.g. a cancellation), or None."""
    candidate = sp.factor(sp.cancel(expr))
    return candidate if sp.count_ops(candidate) < sp.count_ops(expr) else None


@dataclass(frozen=True)
class Derivation:
    """Blocks of steps, in dependency order, with each layer's results.

    Each layer's block speaks of the errors delta^{(l+1)} of the layer below it, so the derivation
    costs the same for every layer and grows linearly with depth; the written-out formulas
    (``gradient``, ``bias_gradient``) are built when asked for.
    """

    network: "Network"
    blocks: tuple[Block, ...]
    _written: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        # a block or step taken out still displays in the derivation's notation, with its references' titles
        object.__setattr__(self, "blocks", with_origin(self.blocks, self.network.notation))

    @property
    def titles(self) -> Mapping[BlockKey, str]:
        """Each block's title by its key: what a step's references are printed as."""
        origin = self.blocks[0].origin if self.blocks else None
        return origin.titles if origin is not None else {}

    def _repr_markdown_(self) -> str:
        """Jupyter (JupyterLab, VS Code): each block a heading, each step its reason and one display."""
        from derive.render.display import derivation_markdown  # seam: display hook

        return derivation_markdown(self)

    def _repr_latex_(self) -> str:
        """One ``gathered`` environment (for front ends that prefer LaTeX, nbconvert --to latex): no top-level \\\\."""
        from derive.render.display import derivation_latex  # seam: display hook

        return derivation_latex(self)

    def _repr_pretty_(self, p, cycle: bool) -> None:
        """IPython's plain text: the terminal rendering, not the dataclass repr."""
        from derive.render.terminal import render_steps  # seam: display hook

        p.text(render_steps(self))

    def show(self, obj: object):
        """``obj`` (e.g. ``d.gradient(2)``) displayed in Jupyter in this derivation's notation."""
        from derive.render.display import show  # seam: display hook

        return show(obj, self.network.notation)

    def block(self, key: BlockKey | str) -> Block:
        """The block named ``key`` (a BlockKey, or as printed: "layer:2", "cost", "activation:tanh")."""
        wanted = key if isinstance(key, BlockKey) else BlockKey.parse(key)
        for block in self.blocks:
            if block.key == wanted:
                return block
        raise KeyError(f"no block {str(key)!r}; blocks are {[str(b.key) for b in self.blocks]}")

    def _layer_block(self, layer: int) -> Block:
        _check_layer(layer, self.network.L)
        return self.block(BlockKey.layer(layer))

    def gradient(self, layer: int, form: Form | str = Form.CHAIN) -> sp.Expr:
        """dC_0/dw_{jk}^{(layer)} written out in index form; 'chain' keeps g'(z), 'classic' writes it out."""
        return self._written_out("weight", layer, form)

    def bias_gradient(self, layer: int, form: Form | str = Form.CHAIN) -> sp.Expr:
        """dC_0/db_j^{(layer)} = delta_j^{(layer)} written out in index form."""
        return self._written_out("bias", layer, form)

    def _written_out(self, kind: str, layer: int, form: Form | str) -> sp.Expr:
        _check_layer(layer, self.network.L)
        form = _form(form)
        key = (kind, layer, form)
        if key not in self._written:
            deriver = _Deriver(self.network)
            self._written[key] = (
                deriver.weight_gradient(layer, form)
                if kind == "weight"
                else deriver.delta(layer, self.network.symbols.j, layer, form)
            )
        return self._written[key]

    def delta(self, layer: int) -> sp.Expr:
        """delta_j^{(layer)} through the recursion: in terms of delta^{(layer+1)} (or the cost at L)."""
        return self._layer_block(layer).result(Result.DELTA_RECURSIVE)

    def concrete_gradient(
        self, layer: int, j: int, k: int | None = None, form: Form | str = Form.CHAIN
    ) -> sp.Expr:
        """dC_0/dw_{jk}^{(layer)} (or dC_0/db_j when k is None) for concrete nodes, in x, y, w and b."""
        from derive.evaluate.exact import written_out

        s, net = self.network.symbols, self.network
        self._layer_block(layer)
        _check_node(j, net.size(layer), "j")
        if k is None:
            if not net.bias:
                from derive.errors import DeriveError

                raise DeriveError("this network has no biases")
            return written_out(self.bias_gradient(layer, form), net, {s.j: j})
        _check_node(k, net.size(layer - 1), "k")
        return written_out(self.gradient(layer, form), net, {s.j: j, s.k: k})

    def steps(self, layer: int | None = None) -> tuple[Step, ...]:
        """The ordered steps leading to the layer's gradient (all layers when None), each block once."""
        keys = [BlockKey.layer(layer)] if layer is not None else [b.key for b in self.blocks]
        if layer is not None:
            self._layer_block(layer)
        ordered: list[Block] = []

        def visit(key: BlockKey) -> None:
            block = self.block(key)
            if block in ordered:
                return
            for ref in block.refs:
                visit(ref)
            ordered.append(block)

        visit(FORWARD)
        for key in keys:
            visit(key)
        return tuple(step for block in ordered for step in block.steps)

    def blocks_for(self, layer: int) -> tuple[Block, ...]:
        """The blocks that ``steps(layer)`` walks through, in the same order."""
        wanted = set(id(s) for s in self.steps(layer))
        return tuple(b for b in self.blocks if any(id(s) in wanted for s in b.steps))


def _check_layer(layer: object, L: int) -> None:
    if not isinstance(layer, int) or isinstance(layer, bool) or not 1 <= layer <= L:
        from derive.errors import DeriveError

        raise DeriveError(f"layer must be a weight layer 1..{L}, got {layer!r}")


def _descent(eta: sp.Symbol, *factors: sp.Expr) -> sp.Expr:
    """-eta times the factors, written as a teacher would: -eta dC/dw, -2 eta (a - y) ..., never -1 eta 2
    (the product gathers every number of the factors, -1 included, into its one leading coefficient)."""
    return _mul(sp.S.NegativeOne, eta, *factors)


def _check_node(index: object, size: int, letter: str) -> None:
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < size:
        from derive.errors import DeriveError

        raise DeriveError(f"node index {letter} must be an integer in 0..{size - 1}, got {index!r}")


def _form(form: Form | str) -> Form:
    """The form a public call names (a Form or its word), converted once; a DeriveError naming the forms else."""
    return Form.parse(form, "form")


class _Deriver:
    """Builds the blocks of one network. Small methods, one per kind of fact."""

    def __init__(self, net: "Network") -> None:
        self.net = net
        self.s = net.symbols
        self.L = net.L
        self.name = net.notation.layer_name  # a layer in prose: 2, or L-1 counted from the output

    # Factors -------------------------------------------------------------------------
    def act_key(self, layer: int) -> BlockKey:
        return BlockKey.activation(self.net.activation(layer).name)

    def gprime(self, layer: int, node: sp.Expr, form: Form) -> sp.Expr:
        act = self.net.activation(layer)
        if form is Form.CHAIN:
            return act.prime(self.s.z[layer, node])
        return act.classic_at(self.s.z[layer, node], self.s.a[layer, node])

    def cost_factor(self, node: sp.Expr) -> sp.Expr:
        return self.net.cost.derivative_at(self.s.a[self.L, node], self.s.y[node])

    def letter(self, layer: int, base: int) -> sp.Symbol:
        """Node letter for layer ``layer`` in a formula about layer ``base`` (j at base)."""
        return self.s.j if layer == base else self.s.downstream_letter(layer - base)

    def output_delta(self, node: sp.Expr, form: Form, base: int | None = None) -> sp.Expr:
        """delta_node^{(L)}: the cost's derivative times g'(z), or with softmax the sum over every output."""
        if self.vector_output:
            chain = self.softmax_delta(node, base)
            return self.collapsed(chain, node)[-1].expr if form is Form.CLASSIC else chain
        product = _mul(self.cost_factor(node), self.gprime(self.L, node, form))
        if form is Form.CLASSIC:
            return _simpler(product) or product
        return product

    # Softmax output (a vector activation: a_i depends on every z_j of the layer) ----------------
    @property
    def vector_output(self) -> bool:
        return self.net.activation(self.L).vector

    def jacobian(self, i: sp.Expr, node: sp.Expr) -> sp.Expr:
        """da_i^{(L)}/dz_node^{(L)} of softmax: a_i (delta_{i,node} - a_node), delta_{i,node} Kronecker's."""
        a = lambda n: self.s.a[self.L, n]  # noqa: E731
        return _mul(a(i), sp.KroneckerDelta(i, node) - a(node))

    def softmax_delta(self, node: sp.Expr, base: int | None = None) -> sp.Expr:
        """delta_node^{(L)} = sum_i dC_0/da_i da_i/dz_node: z_node reaches the cost through every output."""
        i = self.letter(self.L + 1, self.L if base is None else base)
        return IndexSum(
            _mul(self.cost_factor(i), self.jacobian(i, node)), (i, 0, self.net.size(self.L) - 1)
        )

    def collapsed(self, total: sp.Sum, node: sp.Expr) -> list[ChainStep]:
        """The softmax error sum made simple: cancel inside, let Kronecker's delta pick its term,
        use that the targets sum to 1 (a one-hot cost); each stage that changes something."""
        ((i, lo, hi),) = total.limits
        stages = [ChainStep(total, Rule.SUBSTITUTION, because(R.SENTENCE, text=""))]
        cancelled = sp.factor(sp.cancel(total.function))
        if sp.count_ops(cancelled) < sp.count_ops(total.function):
            stages.append(
                ChainStep(
                    IndexSum(cancelled, (i, lo, hi)),
                    Rule.SIMPLIFICATION,
                    because(R.OUTPUT_CANCELS, output=self.s.a[self.L, i]),
                )
            )
        picked: list[sp.Expr] = []
        rest: list[sp.Expr] = []
        for term in sp.Add.make_args(sp.expand(stages[-1].expr.function)):
            (picked if term.has(sp.KroneckerDelta) else rest).append(term)
        picked_sum = sp.factor(
            sp.Add(
                *(t.xreplace({sp.KroneckerDelta(i, node): 1}).xreplace({i: node}) for t in picked)
            )
        )
        split = picked_sum
        if rest:
            common = sp.factor(sp.Add(*rest))
            outside = [f for f in sp.Mul.make_args(common) if not f.has(i)]
            inside = [f for f in sp.Mul.make_args(common) if f.has(i)]
            split = picked_sum + _mul(*outside, IndexSum(sp.Mul(*inside), (i, lo, hi)))
        stages.append(
            ChainStep(
                split,
                Rule.SUM_RULE,
                because(R.KRONECKER_PICKS, term=sp.Eq(i, node, evaluate=False), index=i),
            )
        )
        if self.net.cost.target_distribution:
            ones = {sum_: 1 for sum_ in split.atoms(sp.Sum) if sum_.function == self.s.y[i]}
            if ones:
                stages.append(
                    ChainStep(
                        sp.factor(split.xreplace(ones))
                        if not split.xreplace(ones).has(sp.Sum)
                        else split.xreplace(ones),
                        Rule.SUBSTITUTION,
                        because(R.TARGETS_SUM_TO_ONE, target=self.s.y[i]),
                    )
                )
        return stages

    def downstream_sum(self, layer: int, node: sp.Expr, base: int, term) -> sp.Expr:
        """Sum over the nodes i of layer + 1 of term(i) * w_{i,node}^{(layer+1)}."""
        i = self.letter(layer + 1, base)
        return IndexSum(
            _mul(term(i), self.s.w[layer + 1, i, node]), (i, 0, self.net.size(layer + 1) - 1)
        )

    # Written out (built on request: their size grows with the depth below the layer) ---------
    def dC_da(self, layer: int, node: sp.Expr, base: int, form: Form) -> sp.Expr:
        """dC_0/da_node^{(layer)} written out, downstream letters chosen relative to ``base``."""
        if layer == self.L:
            return self.cost_factor(node)
        return self.downstream_sum(
            layer, node, base, lambda i: self.delta(layer + 1, i, base, form)
        )

    def delta(self, layer: int, node: sp.Expr, base: int, form: Form) -> sp.Expr:
        """delta_node^{(layer)} = dC_0/dz_node^{(layer)} written out."""
        if layer == self.L:
            return self.output_delta(node, form, base)
        return _mul(self.dC_da(layer, node, base, form), self.gprime(layer, node, form))

    def weight_gradient(self, layer: int, form: Form) -> sp.Expr:
        """dC_0/dw_{jk}^{(layer)} written out: dC_0/da_j, g'(z_j) and the incoming activation."""
        prev = self.net.previous_activation(layer, self.s.k)
        if form is Form.CLASSIC or (layer == self.L and self.vector_output):
            return _mul(self.delta(layer, self.s.j, layer, form), prev)
        return _mul(
            self.dC_da(layer, self.s.j, layer, Form.CHAIN),
            self.gprime(layer, self.s.j, Form.CHAIN),
            prev,
        )

    # In terms of the layer below (constant size: what the blocks hold) ------------------------
    def local_dC_da(self, layer: int) -> sp.Expr:
        """dC_0/da_j^{(layer)}: the cost's derivative at L, the errors of layer + 1 otherwise."""
        if layer == self.L:
            return self.cost_factor(self.s.j)
        return self.downstream_sum(layer, self.s.j, layer, lambda i: self.s.delta[layer + 1, i])

    def local_gradient(self, layer: int) -> sp.Expr:
        """dC_0/dw_{jk}^{(layer)} with dC_0/da_j in terms of delta^{(layer+1)}: the "combine" step."""
        return _mul(
            self.local_dC_da(layer),
            self.gprime(layer, self.s.j, Form.CHAIN),
            self.net.previous_activation(layer, self.s.k),
        )

    def delta_recursive(self, layer: int, node: sp.Expr) -> sp.Expr:
        s = self.s
        if layer == self.L:
            return self.output_delta(node, Form.CHAIN)
        i = self.letter(layer + 1, layer)
        total = IndexSum(
            _mul(s.w[layer + 1, i, node], s.delta[layer + 1, i]),
            (i, 0, self.net.size(layer + 1) - 1),
        )
        return _mul(total, self.gprime(layer, node, Form.CHAIN))

    def only_weight_term(self) -> Reason:
        """Why dz_j/dw_jk is a_k: of the sum over k' only the term k' = k has the weight."""
        return because(
            R.ONLY_TERM_HAS_WEIGHT,
            term=sp.Eq(self.s.k_sum, self.s.k, evaluate=False),
            node=self.s.k,
        )

    # Blocks ---------------------------------------------------------------------------
    def forward_block(self) -> Block:
        s, net = self.s, self.net
        steps = []
        for layer in range(1, self.L + 1):
            steps.append(
                Step(
                    s.z[layer, s.j],
                    net.z_definition(layer, s.j),
                    Rule.DEFINITION,
                    because(R.WEIGHTED_INPUT, node=s.j, layer=LayerRef(layer)),
                )
            )
            steps.append(
                Step(
                    s.a[layer, s.j],
                    net.a_definition(layer, s.j),
                    Rule.DEFINITION,
                    because(R.ACTIVATION_OF_NODE, node=s.j, layer=LayerRef(layer)),
                )
            )
        steps.append(
            Step(
                s.cost,
                net.cost_definition(),
                Rule.DEFINITION,
                because(R.SINGLE_SAMPLE_COST, cost=net.cost.title),
            )
        )
        return Block(FORWARD, "Forward equations and cost", tuple(steps))

    def cost_block(self) -> Block:
        s, L = self.s, self.L
        a, y = s.a[L, s.j], s.y[s.j]
        lhs = sp.Derivative(s.cost, a)
        steps = [
            Step(s.cost, self.net.cost_definition(), Rule.DEFINITION, because(R.START_FROM_COST)),
            Step(
                lhs,
                sp.Derivative(self.net.cost.term_at(a, y), a),
                Rule.SUM_RULE,
                because(R.ONLY_TERM_HAS_OUTPUT, term=sp.Eq(s.j_sum, s.j, evaluate=False)),
            ),
        ]
        for stage in self.net.cost.derivative_chain:
            steps.append(
                Step(
                    lhs,
                    instantiate(stage.expr, {A: a, Y: y}),
                    stage.rule,
                    as_reason(stage.reason).instantiated({A: a, Y: y}),
                )
            )
        return Block(
            COST,
            f"Derivative of the {self.net.cost.title}",
            tuple(steps),
            results=(NamedResult(Result.DC_DA, steps[-1].rhs),),
        )

    def activation_block(self, layer: int) -> Block:
        act = self.net.activation(layer)
        if act.vector:
            return self.softmax_activation_block()
        lhs = act.prime(Z)
        steps = [
            Step(
                act(Z),
                act.definition(Z),
                Rule.DEFINITION,
                because(R.ACTIVATION_DEFINITION, description=act.description),
            )
        ]
        steps += [Step(lhs, stage.expr, stage.rule, stage.reason) for stage in act.derivative_chain]
        return Block(
            self.act_key(layer),
            f"Derivative of the {act.description}",
            tuple(steps),
            results=(NamedResult(Result.CLASSIC, steps[-1].rhs),),
        )

    def softmax_activation_block(self) -> Block:
        """da_i/dz_j = a_i (delta_ij - a_j) by the quotient rule, in the output layer's own indices."""
        s, L = self.s, self.L
        i, j, p = self.letter(L + 1, L), s.j, s.j_sum
        z, a = (lambda n: s.z[L, n]), (lambda n: s.a[L, n])
        total = IndexSum(sp.exp(z(p)), (p, 0, self.net.size(L) - 1))
        lhs = sp.Derivative(a(i), z(j))
        d_top, d_total = sp.Derivative(sp.exp(z(i)), z(j)), sp.Derivative(total, z(j))
        kd = sp.KroneckerDelta(i, j)
        quotient = lambda top, bottom: _mul(top, sp.Pow(bottom, -1, evaluate=False))  # noqa: E731
        steps = [
            Step(a(i), self.net.a_definition(L, i), Rule.DEFINITION, because(R.SOFTMAX_DEFINITION)),
            Step(
                lhs,
                sp.Derivative(self.net.a_definition(L, i), z(j)),
                Rule.DEFINITION,
                because(R.SOFTMAX_DEPENDS_ON_ALL),
            ),
            Step(
                lhs,
                quotient(_mul(d_top, total) - _mul(sp.exp(z(i)), d_total), power(total, 2)),
                Rule.QUOTIENT_RULE,
                because(R.QUOTIENT_RULE),
            ),
            Step(
                d_top,
                _mul(kd, sp.exp(z(i))),
                Rule.EXPONENTIAL_RULE,
                because(R.KRONECKER_NUMERATOR, input=z(j), same=sp.Eq(i, j, evaluate=False)),
            ),
            Step(
                d_total,
                sp.exp(z(j)),
                Rule.SUM_RULE,
                because(R.ONLY_TERM_HAS_INPUT, term=sp.Eq(p, j, evaluate=False), input=z(j)),
            ),
            Step(
                lhs,
                quotient(
                    _mul(kd, sp.exp(z(i)), total) - _mul(sp.exp(z(i)), sp.exp(z(j))),
                    power(total, 2),
                ),
                Rule.SUBSTITUTION,
                because(R.INSERT_BOTH),
            ),
            Step(
                lhs,
                _mul(quotient(sp.exp(z(i)), total), kd - quotient(sp.exp(z(j)), total)),
                Rule.SIMPLIFICATION,
                because(R.TAKE_OUT_FACTOR),
            ),
            Step(lhs, self.jacobian(i, j), Rule.SUBSTITUTION, because(R.QUOTIENT_IS_OUTPUT)),
        ]
        return Block(
            self.act_key(L),
            "Derivative of the softmax",
            tuple(steps),
            results=(NamedResult(Result.CLASSIC, steps[-1].rhs),),
        )

    def softmax_layer_block(self) -> Block:
        """The output layer under softmax: z_j reaches the cost through every output a_i."""
        s, net, L = self.s, self.net, self.L
        j, k, C = s.j, s.k, s.cost
        i = self.letter(L + 1, L)
        delta, prev = s.delta[L, j], net.previous_activation(L, k)
        dw, dz = sp.Derivative(C, s.w[L, j, k]), sp.Derivative(C, s.z[L, j])
        dzdw = sp.Derivative(s.z[L, j], s.w[L, j, k])
        da_i, dadz = sp.Derivative(C, s.a[L, i]), sp.Derivative(s.a[L, i], s.z[L, j])
        n_out = net.size(L) - 1
        chain = self.softmax_delta(j)
        steps = [
            Step(dw, _mul(dz, dzdw), Rule.CHAIN_RULE, because(R.WEIGHT_THROUGH_INPUT)),
            Step(
                dzdw,
                sp.Derivative(net.z_definition(L, j), s.w[L, j, k]),
                Rule.DEFINITION,
                because(R.WRITE_OUT_INPUT),
            ),
            Step(dzdw, prev, Rule.SUM_RULE, self.only_weight_term()),
            Step(delta, dz, Rule.DEFINITION, because(R.NAME_ERROR, node=j)),
            Step(
                delta,
                IndexSum(_mul(da_i, dadz), (i, 0, n_out)),
                Rule.CHAIN_RULE,
                because(R.SOFTMAX_PATHS, output=s.a[L, i]),
            ),
            Step(
                da_i,
                self.cost_factor(i),
                Rule.COST_DERIVATIVE,
                because(R.COST_BY_OUTPUT, output=i),
                (COST,),
            ),
            Step(
                dadz,
                self.jacobian(i, j),
                Rule.ACTIVATION_DERIVATIVE,
                because(R.SOFTMAX_JACOBIAN),
                (self.act_key(L),),
            ),
            Step(delta, chain, Rule.SUBSTITUTION, because(R.INSERT_BOTH)),
        ]
        steps += [Step(delta, c.expr, c.rule, c.reason) for c in self.collapsed(chain, j)[1:]]
        steps.append(
            Step(dw, _mul(delta, prev), Rule.SUBSTITUTION, because(R.ERROR_TIMES_ACTIVATION))
        )
        steps += self.written_out_steps(L)
        if net.bias:
            steps += self.bias_steps(L)
        results = [
            NamedResult(Result.DC_DA, self.local_dC_da(L)),
            NamedResult(Result.DELTA_RECURSIVE, chain),
            NamedResult(Result.WEIGHT_FROM_DELTA, _mul(delta, prev)),
            NamedResult(Result.DELTA_CLASSIC, self.output_delta(j, Form.CLASSIC)),
        ]
        return Block(
            BlockKey.layer(L),
            f"Weights into the output layer: layer {L}",
            tuple(steps),
            tuple(results),
        )

    def layer_block(self, layer: int) -> Block:
        s, net, L = self.s, self.net, self.L
        if layer == L and self.vector_output:
            return self.softmax_layer_block()
        j, k, C = s.j, s.k, s.cost
        act_ref = (self.act_key(layer),)
        dw = sp.Derivative(C, s.w[layer, j, k])
        da = sp.Derivative(C, s.a[layer, j])
        dadz = sp.Derivative(s.a[layer, j], s.z[layer, j])
        dzdw = sp.Derivative(s.z[layer, j], s.w[layer, j, k])
        prev = net.previous_activation(layer, k)
        where = "the output layer" if layer == L else f"hidden layer {self.name(layer)}"
        steps = [
            Step(
                dw,
                _mul(da, dadz, dzdw),
                Rule.CHAIN_RULE,
                because(R.WEIGHT_THROUGH_INPUT_AND_ACTIVATION),
            )
        ]
        steps += self.dC_da_steps(layer)
        steps.append(
            Step(
                dadz,
                self.gprime(layer, j, Form.CHAIN),
                Rule.ACTIVATION_DERIVATIVE,
                because(R.ACTIVATION_DERIVATIVE_AT_NODE),
                act_ref,
            )
        )
        steps.append(
            Step(
                dzdw,
                sp.Derivative(net.z_definition(layer, j), s.w[layer, j, k]),
                Rule.DEFINITION,
                because(R.WRITE_OUT_INPUT),
            )
        )
        steps.append(Step(dzdw, prev, Rule.SUM_RULE, self.only_weight_term()))
        steps.append(
            Step(dw, self.local_gradient(layer), Rule.SUBSTITUTION, because(R.COMBINE_FACTORS))
        )
        steps += self.delta_steps(layer)
        steps += self.written_out_steps(layer)
        if net.bias:
            steps += self.bias_steps(layer)
        results = [
            NamedResult(Result.DC_DA, self.local_dC_da(layer)),
            NamedResult(Result.DELTA_RECURSIVE, self.delta_recursive(layer, j)),
            NamedResult(Result.WEIGHT_FROM_DELTA, _mul(s.delta[layer, j], prev)),
        ]
        if layer == L:
            results.append(NamedResult(Result.DELTA_CLASSIC, self.output_delta(j, Form.CLASSIC)))
        return Block(
            BlockKey.layer(layer),
            f"Weights into {where}: layer {self.name(layer)}",
            tuple(steps),
            tuple(results),
        )

    def written_out_steps(self, layer: int) -> list[Step]:
        """The gradient written out to the output layer, when at most WRITTEN_OUT weight layers deep
        (the two key equations of a network with one hidden layer, and one more); deeper, the
        written-out form repeats every downstream sum and the recursion says the same in one line."""
        s, L = self.s, self.L
        if L - layer > WRITTEN_OUT:
            return []
        dw = sp.Derivative(s.cost, s.w[layer, s.j, s.k])
        classic_refs = tuple(dict.fromkeys(self.act_key(m) for m in range(layer, L + 1)))
        steps = []
        if layer < L:
            steps.append(
                Step(
                    dw,
                    self.weight_gradient(layer, Form.CHAIN),
                    Rule.SUBSTITUTION,
                    because(R.WRITTEN_OUT_ERRORS),
                    tuple(BlockKey.layer(m) for m in range(layer + 1, L + 1)),
                )
            )
        steps.append(
            Step(
                dw,
                self.weight_gradient(layer, Form.CLASSIC),
                Rule.SUBSTITUTION,
                because(R.CLASSIC_FORMS),
                classic_refs,
            )
        )
        return steps

    def dC_da_steps(self, layer: int) -> list[Step]:
        """How dC_0/da_j^{(layer)} is obtained: from the cost at L, from the errors of layer + 1 otherwise."""
        s, net = self.s, self.net
        j, C = s.j, s.cost
        da = sp.Derivative(C, s.a[layer, j])
        if layer == self.L:
            return [
                Step(
                    da,
                    self.cost_factor(j),
                    Rule.COST_DERIVATIVE,
                    because(R.COST_BY_THIS_OUTPUT),
                    (COST,),
                )
            ]
        i = self.letter(layer + 1, layer)
        nxt = layer + 1
        n_next = net.size(nxt) - 1
        dz_da = sp.Derivative(s.z[nxt, i], s.a[layer, j])
        paths = _mul(sp.Derivative(C, s.z[nxt, i]), dz_da)
        return [
            Step(
                da,
                IndexSum(paths, (i, 0, n_next)),
                Rule.CHAIN_RULE,
                because(R.FEEDS_EVERY_NODE, node=i, layer=LayerRef(nxt)),
            ),
            Step(
                dz_da,
                sp.Derivative(net.z_definition(nxt, i), s.a[layer, j]),
                Rule.DEFINITION,
                because(R.WRITE_OUT_DOWNSTREAM_INPUT),
            ),
            Step(
                dz_da,
                s.w[nxt, i, j],
                Rule.SUM_RULE,
                because(R.ONLY_TERM_HAS_ACTIVATION, term=sp.Eq(s.k_sum, j, evaluate=False)),
            ),
            Step(
                da,
                self.local_dC_da(layer),
                Rule.SUBSTITUTION,
                because(R.ERROR_DERIVED_ABOVE, layer=LayerRef(nxt)),
                (BlockKey.layer(nxt),),
            ),
        ]

    def delta_steps(self, layer: int) -> list[Step]:
        """Name the repeated factor delta_j^{(l)} = dC_0/dz_j^{(l)} and give its recursion."""
        s = self.s
        j, k, C = s.j, s.k, s.cost
        delta = s.delta[layer, j]
        prev = self.net.previous_activation(layer, k)
        steps = [
            Step(
                delta,
                sp.Derivative(C, s.z[layer, j]),
                Rule.DEFINITION,
                because(R.NAME_ERROR, node=j),
            ),
            Step(
                delta,
                _mul(sp.Derivative(C, s.a[layer, j]), sp.Derivative(s.a[layer, j], s.z[layer, j])),
                Rule.CHAIN_RULE,
                because(R.INPUT_THROUGH_ACTIVATION),
            ),
        ]
        if layer == self.L:
            steps.append(
                Step(
                    delta,
                    self.output_delta(j, Form.CHAIN),
                    Rule.SUBSTITUTION,
                    because(R.INSERT_BOTH),
                    (COST, self.act_key(layer)),
                )
            )
        else:
            steps.append(
                Step(
                    delta,
                    self.delta_recursive(layer, j),
                    Rule.SUBSTITUTION,
                    because(R.DELTA_RECURSION, layer=LayerRef(layer + 1)),
                    (BlockKey.layer(layer + 1),),
                )
            )
        steps.append(
            Step(
                sp.Derivative(C, s.w[layer, j, k]),
                _mul(delta, prev),
                Rule.SUBSTITUTION,
                because(R.ERROR_TIMES_ACTIVATION),
            )
        )
        if layer == self.L:
            steps += self.output_classic_steps()
        return steps

    def output_classic_steps(self) -> list[Step]:
        """delta^{(L)} with the activation's classic derivative, simplified when something cancels."""
        s, L = self.s, self.L
        j = s.j
        delta = s.delta[L, j]
        act = self.net.activation(L)
        product = _mul(self.cost_factor(j), self.gprime(L, j, Form.CLASSIC))
        steps = [
            Step(
                act.prime(s.z[L, j]),
                self.gprime(L, j, Form.CLASSIC),
                Rule.ACTIVATION_DERIVATIVE,
                because(R.CLASSIC_WITH_OUTPUT),
                (self.act_key(L),),
            ),
            Step(delta, product, Rule.SUBSTITUTION, because(R.INTO_OUTPUT_ERROR)),
        ]
        simpler = _simpler(product)
        if simpler is not None:
            steps.append(Step(delta, simpler, Rule.SIMPLIFICATION, because(R.DERIVATIVES_CANCEL)))
        return steps

    def update_block(self) -> Block:
        """The weight changes of gradient descent, Delta w = -eta dC_0/dw, for every layer from the
        output back (the hidden-to-output weights first, the input-to-hidden weights last)."""
        s, L, eta = self.s, self.L, self.s.eta
        j, k, C = s.j, s.k, s.cost
        steps = []
        for layer in range(L, 0, -1):
            named = (
                "hidden-to-output"
                if layer == L and L > 1
                else "input-to-hidden"
                if layer == 1 and L > 1
                else "input-to-output"
                if L == 1
                else ""
            )
            dw, prev, ref = (
                s.dw[layer, j, k],
                self.net.previous_activation(layer, k),
                (BlockKey.layer(layer),),
            )
            steps.append(
                Step(
                    dw,
                    _descent(eta, sp.Derivative(C, s.w[layer, j, k])),
                    Rule.DEFINITION,
                    because(R.DESCENT, weights=named, layer=LayerRef(layer)),
                )
            )
            steps.append(
                Step(
                    dw,
                    _descent(eta, s.delta[layer, j], prev),
                    Rule.SUBSTITUTION,
                    because(R.GRADIENT_IS_ERROR_TIMES_ACTIVATION),
                    ref,
                )
            )
            if L - layer <= WRITTEN_OUT:
                steps.append(
                    Step(
                        dw,
                        _descent(eta, self.weight_gradient(layer, Form.CLASSIC)),
                        Rule.SUBSTITUTION,
                        because(R.WRITTEN_OUT_CHANGE),
                        ref,
                    )
                )
            if self.net.bias:
                db = s.db[layer, j]
                steps.append(
                    Step(
                        db,
                        _descent(eta, sp.Derivative(C, s.b[layer, j])),
                        Rule.DEFINITION,
                        because(R.BIASES_MOVE),
                    )
                )
                steps.append(
                    Step(
                        db,
                        _descent(eta, s.delta[layer, j]),
                        Rule.SUBSTITUTION,
                        because(R.BIAS_GRADIENT_IS_THE_ERROR),
                        ref,
                    )
                )
        return Block(UPDATE, "Weight changes: gradient descent", tuple(steps))

    def penalty(self) -> sp.Expr:
        """sum_l sum_j sum_k (w_jk^{(l)})^2 over every weight of the network (biases are not in it)."""
        s, net = self.s, self.net
        l, j, k = (
            sp.Symbol(f"{s.l.name}'", integer=True, positive=True),
            s.j_sum,
            s.k_sum,
        )  # bound: primed
        square = power(s.w[l, j, k], 2)
        return IndexSum(
            IndexSum(IndexSum(square, (k, 0, s.n[l - 1] - 1)), (j, 0, s.n[l] - 1)), (l, 1, net.L)
        )

    def step_of(self, mean: sp.Expr) -> sp.Expr:
        """eta times an average (1/n) sum_x ..., written (eta/n) sum_x ..."""
        s = self.s
        return _mul(
            sp.UnevaluatedExpr(s.eta / s.samples), *[f for f in mean.args if isinstance(f, sp.Sum)]
        )

    def average_block(self) -> Block:
        """The cost over n samples, C = (1/n) sum_x C_x (+ (lambda/2n) sum w^2): its gradient is the
        average of the single-sample gradients derived above (+ (lambda/n) w), and one step of gradient
        descent on it shrinks each weight by 1 - eta lambda/n first (weight decay)."""
        s, net = self.s, self.net
        l, j, k, x, n, lam, eta = s.l, s.j, s.k, s.sample, s.samples, s.l2, s.eta
        C, w = s.total_cost, s.w[l, j, k]
        mean = lambda body: _mul(sp.UnevaluatedExpr(1 / n), IndexSum(body, (x, 0, n - 1)))  # noqa: E731
        regularised = net.l2 is not None
        half = sp.UnevaluatedExpr(lam / (2 * n))
        definition = mean(s.sample_cost[x]) + (_mul(half, self.penalty()) if regularised else 0)
        dw, per_sample = sp.Derivative(C, w), mean(sp.Derivative(s.sample_cost[x], w))
        steps = [
            Step(
                C,
                definition,
                Rule.DEFINITION,
                because(R.AVERAGE_COST, samples=n, cost=s.cost, regularised=regularised),
            )
        ]
        if regularised:
            decay = _mul(sp.UnevaluatedExpr(lam / n), w)
            d_penalty = sp.Derivative(self.penalty(), w)
            steps += [
                Step(
                    dw,
                    per_sample + _mul(half, d_penalty),
                    Rule.SUM_RULE,
                    because(R.SUM_OF_DERIVATIVES_CONSTANTS),
                ),
                Step(d_penalty, _mul(2, w), Rule.POWER_RULE, because(R.ONLY_SQUARE_HAS_WEIGHT)),
                Step(dw, per_sample + decay, Rule.SUBSTITUTION, because(R.AVERAGE_PLUS_DECAY)),
                Step(
                    w - _mul(eta, dw),
                    _mul(sp.UnevaluatedExpr(1 - eta * lam / n), w) - self.step_of(per_sample),
                    Rule.SUBSTITUTION,
                    because(R.WEIGHT_DECAY),
                ),
            ]
        else:
            steps += [
                Step(dw, per_sample, Rule.SUM_RULE, because(R.SUM_OF_DERIVATIVES)),
                Step(
                    w - _mul(eta, dw),
                    w - self.step_of(per_sample),
                    Rule.SUBSTITUTION,
                    because(R.AGAINST_AVERAGE),
                ),
            ]
        if net.bias:
            b = s.b[l, j]
            steps.append(
                Step(
                    sp.Derivative(C, b),
                    mean(sp.Derivative(s.sample_cost[x], b)),
                    Rule.SUM_RULE,
                    because(R.BIAS_AVERAGE, regularised=regularised),
                )
            )
        title = "The cost over n samples" + (", with L2 regularisation" if regularised else "")
        return Block(AVERAGE, title, tuple(steps))

    def bias_steps(self, layer: int) -> list[Step]:
        s = self.s
        j, C = s.j, s.cost
        db = sp.Derivative(C, s.b[layer, j])
        dzdb = sp.Derivative(s.z[layer, j], s.b[layer, j])
        steps = [
            Step(
                db,
                _mul(sp.Derivative(C, s.z[layer, j]), dzdb),
                Rule.CHAIN_RULE,
                because(R.BIAS_THROUGH_INPUT),
            ),
            Step(dzdb, sp.Integer(1), Rule.SUM_RULE, because(R.BIAS_COEFFICIENT)),
            Step(db, s.delta[layer, j], Rule.SUBSTITUTION, because(R.BIAS_GRADIENT_IS_ERROR)),
        ]
        if self.L - layer <= WRITTEN_OUT:
            steps.append(
                Step(
                    db,
                    self.delta(layer, j, layer, Form.CHAIN),
                    Rule.SUBSTITUTION,
                    because(R.WRITTEN_OUT),
                )
            )
        return steps


def matrix_summary(net: "Network", layer: int | None = None) -> Block:
    """The four backpropagation equations in vector form (the general case of every layer block).

    With ``layer`` the general l is replaced by that layer (the checks use this).
    """
    s = net.symbols
    l, L = (s.l if layer is None else sp.Integer(layer)), sp.Integer(net.L)
    n = lambda layer: s.n[layer]  # noqa: E731
    M = MatrixKind
    delta = lambda layer: layer_matrix(MatrixKind.DELTA, layer, n(layer))  # noqa: E731
    gprime = lambda layer: layer_matrix(MatrixKind.GPRIME, layer, n(layer))  # noqa: E731
    output_error = Step(
        delta(L),
        sp.HadamardProduct(layer_matrix(MatrixKind.GRAD_C, L, n(L)), gprime(L)),
        Rule.CHAIN_RULE,
        because(R.OUTPUT_ERROR),
        equation=Equation.OUTPUT_ERROR,
    )
    if net.activation(net.L).vector:
        output_error = Step(
            delta(L),
            layer_matrix(M.JACOBIAN, L, n(L), n(L)).T * layer_matrix(MatrixKind.GRAD_C, L, n(L)),
            Rule.CHAIN_RULE,
            because(R.OUTPUT_ERROR_JACOBIAN),
            equation=Equation.OUTPUT_ERROR,
        )
    steps = (
        output_error,
        Step(
            delta(l),
            sp.HadamardProduct(
                layer_matrix(M.W, l + 1, n(l + 1), n(l)).T * delta(l + 1), gprime(l)
            ),
            Rule.CHAIN_RULE,
            because(R.ERROR_RECURSION, layer=LayerRef(l + 1)),
            equation=Equation.ERROR_RECURSION,
        ),
        Step(
            layer_matrix(MatrixKind.DC_DB, l, n(l)),
            delta(l),
            Rule.SUBSTITUTION,
            because(R.BIAS_GRADIENT),
            equation=Equation.BIAS_GRADIENT,
        ),
        Step(
            layer_matrix(M.DC_DW, l, n(l), n(l - 1)),
            delta(l) * layer_matrix(M.A, l - 1, n(l - 1)).T,
            Rule.SUBSTITUTION,
            because(R.WEIGHT_GRADIENT),
            equation=Equation.WEIGHT_GRADIENT,
        ),
    )
    return Block(SUMMARY, "Summary in matrix form", steps if net.bias else steps[:2] + steps[3:])


def weight_gradient(net: "Network", layer: int, form: Form | str = Form.CHAIN) -> sp.Expr:
    """One layer's dC_0/dw_{jk}^{(layer)} without the steps: equal to ``derive(net).gradient(layer, form)``
    (the same method computes both), for callers that need only the formula (a homework key)."""
    _check_layer(layer, net.L)
    return _Deriver(net).weight_gradient(layer, _form(form))


def derive(net: "Network") -> Derivation:
    """Build the full derivation of a network (index form; cost independent of layer widths)."""
    d = _Deriver(net)
    blocks = [d.forward_block(), d.cost_block()]
    seen: set[BlockKey] = set()
    for layer in range(1, net.L + 1):
        if d.act_key(layer) not in seen:
            seen.add(d.act_key(layer))
            blocks.append(d.activation_block(layer))
    blocks += [d.layer_block(layer) for layer in range(net.L, 0, -1)]
    blocks.append(d.update_block())
    blocks.append(d.average_block())
    blocks.append(matrix_summary(net))
    return Derivation(net, tuple(blocks))
