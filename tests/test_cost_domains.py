"""A cost whose domain the output layer cannot meet is refused when the network is built."""

import re

import pytest

from derive import DeriveError, Network
from derive.model.activations import NAMES

OUTSIDE = {
    "tanh": r"\(-1, 1\)",
    "identity": "any real value",
    "relu": r"\[0, inf\)",
    "leaky-relu": "any real value",
    "leaky-relu(slope=1/10)": "any real value",
    "softplus": r"\(0, inf\)",
    "elu": r"\(-alpha, inf\)",
    "silu": "from about -0.28 up",
    "gelu": "from about -0.17 up",
}


def test_every_builtin_activation_is_classified():
    assert set(NAMES) - {"sigmoid"} <= {name.split("(")[0] for name in OUTSIDE}


@pytest.mark.parametrize("output", sorted(OUTSIDE))
def test_cross_entropy_on_an_output_outside_0_1_is_refused(output):
    name = re.escape(output)
    with pytest.raises(
        DeriveError,
        match=rf"cross-entropy needs outputs in \(0, 1\), but the output activation "
        rf"{name} .*{OUTSIDE[output]}.*sigmoid",
    ):
        Network([2, 3, 1], activation=["sigmoid", output], cost="cross-entropy")


@pytest.mark.parametrize("alias", ["bce", "binary-cross-entropy", "cross_entropy"])
def test_aliases_are_refused_too(alias):
    with pytest.raises(DeriveError, match="needs outputs in"):
        Network([2, 1], activation="tanh", cost=alias)


@pytest.mark.parametrize(
    "output",
    [
        "sigmoid",
        "sigmoid(gain=2)",
        "sigmoid(gain=1/10)",
        "sigmoid(gain=-3/2)",
        "sigmoid(gain=alpha)",
        "logistic",
    ],
)
def test_sigmoid_type_outputs_are_accepted_whatever_the_hidden_layers(output):
    net = Network(
        [2, 3, 3, 1], activation=["relu", "tanh", output], cost="cross-entropy", bias=True
    )
    assert net.derivation().gradient(layer=1) is not None


@pytest.mark.parametrize("hidden", ["tanh", "relu", "identity", "softplus"])
def test_only_the_output_layer_matters(hidden):
    Network([2, 2, 1], activation=[hidden, "sigmoid"], cost="cross-entropy")
    with pytest.raises(DeriveError, match=f"output activation {hidden}"):
        Network([2, 2, 1], activation=["sigmoid", hidden], cost="cross-entropy")


@pytest.mark.parametrize(
    "definition", [r"g(z) = \frac{z}{1+|z|}", r"g(z) = \frac{1}{1+e^{-2z}}", r"h(z) = \sigma(z)"]
)
def test_user_defined_output_with_cross_entropy_is_refused_with_a_reason(definition):
    with pytest.raises(
        DeriveError, match="cannot confirm .* defined by the user; use a softmax or sigmoid output"
    ):
        Network([2, 1], activation=definition, cost="cross-entropy")
    # as a hidden layer, or with another cost, it is fine
    Network([2, 2, 1], activation=[definition, "sigmoid"], cost="cross-entropy")
    Network([2, 1], activation=definition, cost="quadratic")


@pytest.mark.parametrize("output", ["tanh", "identity", "relu", "leaky-relu", "softplus"])
def test_other_costs_accept_every_output(output):
    for cost in ("quadratic", "half-quadratic", r"C_0 = \sum_j (a_j^{(L)} - y_j)^4"):
        Network([2, 1], activation=output, cost=cost)


def test_cli_prints_one_line_and_exits_2(cli):
    result = cli("steps", "--layers", "2", "1", "--activation", "tanh", "--cost", "cross-entropy")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "tanh" in result.stderr and "sigmoid" in result.stderr and "(0, 1)" in result.stderr


@pytest.mark.parametrize("command", ["sheet", "grad", "check", "code"])
def test_spec_files_are_refused_before_anything_is_written(cli, tmp_path, command):
    spec = tmp_path / "ce.toml"
    spec.write_text(
        'layers = [2, 1]\nactivation = "identity"\ncost = "cross-entropy"\n'
        "[values]\nx = [1, 2]\ny = [0.5]\nweights = [[[0.1, 0.2]]]\n"
    )
    result = cli(command, str(spec), cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "output activation identity" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ce.toml"]
