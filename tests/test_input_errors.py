import pytest

from derive import DeriveError, Network


@pytest.mark.parametrize("layers, message", [
    ([2, 0, 1], "layer size 1 must be a positive integer, got 0"),
    ([2, -3, 1], "layer size 1 must be a positive integer, got -3"),
    ([2, 1.5, 1], "layer size 1 must be a positive integer, got 1.5"),
    ([2, "x", 1], "layer size 1 must be a positive integer, got 'x'"),
    ([3], "at least two layers"),
    ([], "at least two layers"),
    ([True, 2], "layer size 0 must be a positive integer"),
])
def test_bad_layer_sizes(layers, message):
    with pytest.raises(DeriveError, match=message):
        Network(layers)


def test_unknown_activation_suggests_closest_name():
    with pytest.raises(DeriveError, match="did you mean 'sigmoid'"):
        Network([2, 1], activation="sigmiod")


def test_unknown_cost_suggests_closest_name():
    with pytest.raises(DeriveError, match="did you mean 'quadratic'"):
        Network([2, 1], cost="quadratik")


def test_per_layer_activation_list_of_wrong_length():
    with pytest.raises(DeriveError, match="got 3 activations for 2 weight layers"):
        Network([2, 3, 1], activation=["tanh", "relu", "sigmoid"])


def test_activation_parameters_are_parsed_not_evaluated():
    with pytest.raises(DeriveError, match="cannot read activation"):
        Network([2, 1], activation="sigmoid(gain=__import__('os'))")
    with pytest.raises(DeriveError, match="number or a name"):
        Network([2, 1], activation="sigmoid(gain=1+os)")
    with pytest.raises(DeriveError, match="no parameter 'slope'"):
        Network([2, 1], activation="sigmoid(slope=2)")


def test_bad_layer_number_for_gradient():
    d = Network([2, 2, 1]).derivation()
    with pytest.raises(DeriveError, match="weight layer 1..2"):
        d.gradient(3)
    with pytest.raises(DeriveError, match="weight layer 1..2"):
        d.gradient(0)


@pytest.mark.parametrize("args, message", [
    (["--layers", "2", "0", "1"], "layer size 1 must be a positive integer, got 0"),
    (["--layers", "2", "two", "1"], "got 'two'"),
    (["--layers", "2"], "at least two layers"),
    (["--layers", "2", "1", "--activation", "sigmod"], "did you mean 'sigmoid'"),
    (["--layers", "2", "3", "1", "--activation", "tanh", "relu", "sigmoid"], "got 3 activations"),
    (["--layers", "2", "1", "--cost", "hinge"], "unknown cost"),
    (["--layers", "2", "1", "--layer", "5"], "weight layer 1..1"),
    (["--layers"], "expected at least one argument"),
])
def test_cli_errors_are_one_line_without_traceback(cli, args, message):
    result = cli("steps", *args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr
