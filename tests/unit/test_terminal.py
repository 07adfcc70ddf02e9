"""Unit tests for derive/render/terminal.py: the plain-text steps (header, numbering per block, continued
lines aligned under the equals sign, reasons with references by block title, wrapping), the JSON-ready
dict of ``derive steps --json``, and the bash completion script generated from the parser."""

import json
import re
import shutil
import subprocess

import pytest
import sympy as sp

from derive import Network
from derive.cli import build_parser
from derive.model.steps import COST, Block, BlockKey, Rule, Step
from derive.notation.printing import text
from derive.render.terminal import bash_completion, render_blocks, render_steps, steps_data

NUMBERED = re.compile(r"^\((\d+)\) ")


@pytest.fixture(scope="module")
def derivation():
    return Network([2, 2, 1], activation="identity").derivation()


def sections(rendered: str) -> dict[str, list[str]]:
    """Block title -> its non-empty lines, from the rendered text (a title is a line underlined by dashes)."""
    lines = rendered.splitlines()
    out: dict[str, list[str]] = {}
    title, i = None, 0
    while i < len(lines):
        below = lines[i + 1] if i + 1 < len(lines) else ""
        if below and set(below) == {"-"} and len(below) == len(lines[i]):
            title, i = lines[i], i + 2
            out[title] = []
            continue
        if title is not None and lines[i]:
            out[title].append(lines[i])
        i += 1
    return out


# render_blocks on a block made here: exact expected text --------------------------------------------
def test_a_hand_made_block_renders_exactly(derivation):
    s = derivation.network.symbols
    block = Block(
        BlockKey.layer(1),
        "A block",
        (
            Step(
                s.cost, s.a[1, 0], Rule.DEFINITION, "first"
            ),  # a free index on the right only is refused
            Step(s.cost, s.z[1, 0], Rule.SUBSTITUTION, "second", (COST,)),
            Step(s.a[1, s.j], sp.Integer(2), Rule.SIMPLIFICATION, "third"),
        ),
    )
    assert (
        render_blocks([block], derivation)
        == "\n".join(
            [
                "A block",
                "-------",
                "(1) C_0 = a_0^(1)",
                "      definition: first",
                "(2)     = z_0^(1)",  # same left-hand side: only "= rhs", the equals sign in the same column
                "      substitution: second (see: Derivative of the quadratic cost)",  # the reference by its title
                "(3) a_j^(1) = 2",
                "      simplification: third",
            ]
        )
    )


def test_long_reasons_wrap_at_the_width_with_an_indent(derivation):
    s = derivation.network.symbols
    sentence = " ".join(["word"] * 60)
    block = Block(
        BlockKey.layer(1), "Wrapped", (Step(s.cost, s.a[1, 0], Rule.DEFINITION, sentence),)
    )
    reason = render_blocks([block], derivation, width=50).splitlines()[3:]
    assert len(reason) > 1
    assert all(line.startswith("      ") and len(line) <= 50 for line in reason)
    assert " ".join(line.strip() for line in reason) == f"definition: {sentence}"


def test_a_reference_outside_the_derivation_is_shown_by_its_key(derivation):
    s = derivation.network.symbols
    block = Block(
        BlockKey.layer(1),
        "T",
        (Step(s.cost, s.a[1, 0], Rule.DEFINITION, "x", (BlockKey.activation("tanh"),)),),
    )
    assert "(see: activation:tanh)" in render_blocks([block], derivation)


# render_steps on a real derivation ----------------------------------------------------------------
def test_header_names_the_network(derivation):
    first = render_steps(derivation).splitlines()[0]
    assert first == (
        "Network [2, 2, 1] identity, quadratic cost, no biases: L = 2, "
        "j in layer l, k in layer l-1, i in layer l+1"
    )


def test_every_block_is_titled_and_numbered_from_one(derivation):
    parts = sections(render_steps(derivation))
    assert list(parts) == [b.title for b in derivation.blocks]
    for block in derivation.blocks:
        numbers = [int(m.group(1)) for line in parts[block.title] if (m := NUMBERED.match(line))]
        assert numbers == list(range(1, len(block.steps) + 1)), block.title


def test_continued_lines_omit_the_left_hand_side_and_align_the_equals_sign(derivation):
    notation = derivation.network.notation
    parts = sections(render_steps(derivation))
    continued = 0
    for block in derivation.blocks:
        lines = [line for line in parts[block.title] if NUMBERED.match(line)]
        previous = None
        for number, (step, line) in enumerate(zip(block.steps, lines), 1):
            lhs, rhs = text(step.lhs, notation), text(step.rhs, notation)
            column = len(f"({number}) {lhs}")
            assert line[column:] == f" = {rhs}", line
            if step.lhs == previous:
                continued += 1
                assert (
                    line[len(f"({number})") : column].strip() == ""
                )  # the left-hand side is not repeated
            else:
                assert line.startswith(f"({number}) {lhs} = ")
            previous = step.lhs
    assert (
        continued >= 5
    )  # the identity's derivative, the cost's, delta's chain: several continuations


def test_references_name_the_block_title(derivation):
    parts = sections(render_steps(derivation))
    output = " ".join(line.strip() for line in parts["Weights into the output layer: layer 2"])
    assert "(see: Derivative of the quadratic cost)" in output
    hidden = " ".join(line.strip() for line in parts["Weights into hidden layer 1: layer 1"])
    assert "(see: Weights into the output layer: layer 2)" in hidden
    assert "layer:2" not in hidden  # titles, not keys


def test_one_layer_shows_only_the_blocks_it_needs(derivation):
    parts = sections(render_steps(derivation, layer=2))
    assert list(parts) == [
        "Forward equations and cost",
        "Derivative of the quadratic cost",
        "Derivative of the identity",
        "Weights into the output layer: layer 2",
    ]


# steps_data ---------------------------------------------------------------------------------------
def test_steps_data_has_the_network_and_string_keys():
    net = Network([2, 3, 1], activation=["tanh", "sigmoid"], bias=True)
    data = steps_data(net.derivation())
    assert (
        data["network"] == net.describe()
        and data["layers"] == [2, 3, 1]
        and data["weight_layers"] == 2
    )
    assert [b["key"] for b in data["blocks"]] == [
        "forward",
        "cost",
        "activation:tanh",
        "activation:sigmoid",
        "layer:2",
        "layer:1",
        "update",
        "average",
        "summary",
    ]
    assert json.loads(json.dumps(data)) == data  # plain JSON types only


def test_every_step_has_both_sides_as_latex_and_text_and_string_refs():
    net = Network([2, 3, 1], activation=["tanh", "sigmoid"], bias=True)
    d = net.derivation()
    data = steps_data(d)
    keys = {b["key"] for b in data["blocks"]}
    for block, shown in zip(d.blocks, data["blocks"]):
        assert shown["title"] == block.title
        assert [st["number"] for st in shown["steps"]] == list(range(1, len(block.steps) + 1))
        for step, st in zip(block.steps, shown["steps"]):
            assert set(st) == {"number", "lhs", "rhs", "rule", "sentence", "refs"}
            for side, expr in (("lhs", step.lhs), ("rhs", step.rhs)):
                assert set(st[side]) == {"latex", "text"} and st[side]["latex"] and st[side]["text"]
                assert st[side]["text"] == text(expr, net.notation)
            assert st["rule"] == step.rule.title and st["sentence"] == step.text
            assert st["refs"] == [str(r) for r in step.refs] and all(
                isinstance(r, str) for r in st["refs"]
            )
            assert set(st["refs"]) <= keys  # every reference names a block that is there
            assert all(
                BlockKey.parse(r) in step.refs for r in st["refs"]
            )  # and reads back as the key


def test_steps_data_for_one_layer_has_every_referenced_block():
    d = Network([2, 2, 2, 1], activation="sigmoid").derivation()
    data = steps_data(d, layer=1)
    keys = [b["key"] for b in data["blocks"]]
    assert "layer:1" in keys and "layer:3" in keys and "summary" not in keys
    assert {r for b in data["blocks"] for st in b["steps"] for r in st["refs"]} <= set(keys)


# bash_completion ----------------------------------------------------------------------------------
VALUES = {"--cost": ["quadratic", "made-up-cost"], "--activation": ["relu", "another-one"]}


@pytest.fixture(scope="module")
def script():
    return bash_completion(build_parser(), VALUES)


def test_completion_lists_every_command_of_the_parser(script):
    import argparse

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    commands = list(sub.choices)
    assert {"steps", "sheet", "check-answer", "completion"} <= set(commands)
    top = re.search(r'compgen -W "([^"]*) --help --version"', script)
    assert top and top.group(1).split() == commands
    for name, command in sub.choices.items():
        case = re.search(rf'^\s+{re.escape(name)}\) opts="([^"]*)"', script, re.MULTILINE)
        assert case, name
        assert set(case.group(1).split()) == {
            o for a in command._actions for o in a.option_strings
        }, name


def test_completion_offers_the_given_option_values(script):
    for option, words in VALUES.items():
        assert (
            f'{option}) COMPREPLY=($(compgen -W "{" ".join(words)}" -- "$cur")); return ;;'
            in script
        )
    assert "completion) opts=" in script and 'words="bash"' in script  # a positional's choices


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_completion_script_completes_in_bash(script, tmp_path):
    path = tmp_path / "derive.bash"
    path.write_text(script)

    def complete(*words: str) -> list[str]:
        quoted = " ".join(f"'{w}'" for w in words)
        command = (
            f"source '{path}'; COMP_WORDS=(derive {quoted}); COMP_CWORD={len(words)}; _derive; "
            'printf "%s\\n" "${COMPREPLY[@]}"'
        )
        done = subprocess.run(
            ["bash", "--norc", "--noprofile", "-c", command],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert complete("steps", "--cost", "made") == ["made-up-cost"]
    assert complete("sheet", "--activation", "") == ["relu", "another-one"]
    assert complete("gr") == ["grad", "grade"]
    assert complete("examples", "--out-") == ["--out-dir"]
