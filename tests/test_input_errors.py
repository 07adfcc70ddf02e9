import pytest

from derive import DeriveError, Network


@pytest.mark.parametrize(
    "layers, message",
    [
        ([2, 0, 1], "layer size 1 must be a positive integer, got 0"),
        ([2, -3, 1], "layer size 1 must be a positive integer, got -3"),
        ([2, 1.5, 1], "layer size 1 must be a positive integer, got 1.5"),
        ([2, "x", 1], "layer size 1 must be a positive integer, got 'x'"),
        ([3], "at least two layers"),
        ([], "at least two layers"),
        ([True, 2], "layer size 0 must be a positive integer"),
    ],
)
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


@pytest.mark.parametrize(
    "args, message",
    [
        (["--layers", "2", "0", "1"], "layer size 1 must be a positive integer, got 0"),
        (["--layers", "2", "two", "1"], "got 'two'"),
        (["--layers", "2"], "at least two layers"),
        (["--layers", "2", "1", "--activation", "sigmod"], "did you mean 'sigmoid'"),
        (
            ["--layers", "2", "3", "1", "--activation", "tanh", "relu", "sigmoid"],
            "got 3 activations",
        ),
        (["--layers", "2", "1", "--cost", "hinge"], "unknown cost"),
        (["--layers", "2", "1", "--layer", "5"], "weight layer 1..1"),
        (["--layers"], "expected at least one argument"),
    ],
)
def test_cli_errors_are_one_line_without_traceback(cli, args, message):
    result = cli("steps", *args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "activation, message",
    [
        ("sigmoid(gain=1/0)", "divides by zero"),
        ("sigmoid(gain=0/0)", "divides by zero"),
        ("sigmoid(gain=nan)", "finite number"),
        ("sigmoid(gain=inf)", "finite number"),
        ("leaky-relu(slope=oo)", "finite number"),
    ],
)
def test_activation_parameters_must_be_finite(activation, message):
    with pytest.raises(DeriveError, match=message):
        Network([2, 1], activation=activation)


def test_a_symbolic_parameter_is_still_a_name():
    assert Network([2, 1], activation="sigmoid(gain=alpha)").activations[0].name


def test_two_definitions_may_not_share_a_letter():
    with pytest.raises(DeriveError, match="both called g"):
        Network([2, 2, 1], activation=[r"g(z) = \frac{z}{1+|z|}", "g(z) = z^2"])
    Network([2, 2, 1], activation=[r"g(z) = \frac{z}{1+|z|}", "h(z) = z^2"])  # two letters: fine


def test_an_undefined_user_cost_is_refused():
    with pytest.raises(DeriveError, match="cost is undefined"):
        Network([2, 1], cost=r"C_0 = \frac{1}{0}\sum_j (a_j^{(L)} - y_j)^2")


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "is empty"),
        (b"\x00\x01layers", "binary file"),
        ('title = "\u00dc"\nlayers = [2, 1]\n'.encode("latin-1"), "not UTF-8 text"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"layers": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
        (b"layers = [2, 1\n", "invalid TOML"),
        (b'{"layers": [2, 1],}', "invalid JSON"),
        (b'{"layers": [2, ' + b"9" * 5000 + b"]}", "thousands of digits"),
        (b'{"layers": [2, 1e-1]}', "got 0.1"),
        (b'{"layers": [2, 1e400]}', r"got 1E\+400"),
        (b'{"layers": [2, 1], "title": "a\\u0007b"}', "control character"),
    ],
)
def test_spec_files_that_cannot_be_read(tmp_path, content, message):
    from derive.read.spec_file import load_spec

    path = tmp_path / (
        "spec.json" if content.lstrip(b"\xef\xbb\xbf").startswith((b"{", b"[")) else "spec.toml"
    )
    path.write_bytes(content)
    with pytest.raises(DeriveError, match=message):
        load_spec(path)


def test_spec_paths_that_are_not_files(tmp_path):
    from derive.read.spec_file import load_spec

    with pytest.raises(DeriveError, match="is a directory"):
        load_spec(tmp_path)
    with pytest.raises(DeriveError, match="not found"):
        load_spec(tmp_path / "missing.toml")
    with pytest.raises(DeriveError, match="empty"):
        load_spec("")
    with pytest.raises(DeriveError, match="not a regular file"):
        load_spec("/dev/null")


def test_a_byte_order_mark_and_integral_numbers_are_fine(tmp_path):
    from derive.read.spec_file import load_spec

    path = tmp_path / "spec.json"
    path.write_bytes(b'\xef\xbb\xbf{"layers": [2, 3.0, 1e0]}')
    assert load_spec(path).layers == (2, 3, 1)


@pytest.mark.parametrize(
    "text, message",
    [
        ("x" * 201, "at most 200"),
        ("a\x00b", "control character"),
        ("a\nb", "control character"),
        ("Heft \udcff", "not valid UTF-8"),
        (5, "must be a string"),
    ],
)
def test_titles_are_checked(text, message):
    from derive.read.spec_file import check_text

    with pytest.raises(DeriveError, match=message):
        check_text(text, "--title")
    assert check_text("Übung 3 — σ-Netze 反向传播 🧠", "--title")
