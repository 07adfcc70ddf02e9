"""Plain-text renderer: a derivation's blocks and steps, readable in a terminal."""

from __future__ import annotations

import contextlib
import os
import sys
import textwrap
from typing import Callable, Iterable, Iterator, Mapping

from derive.engine.derivation import Derivation
from derive.notation.letters import Notation
from derive.notation.printing import latex, text
from derive.model.steps import Block, BlockKey
from derive.render.lines import Line, block_lines


def render_blocks(blocks: Iterable[Block], derivation: Derivation, width: int = 100) -> str:
    """Each block as a titled list of numbered equalities with rule and reason under each."""
    return "\n\n".join(
        block_text(block, derivation.network.notation, derivation.titles, width) for block in blocks
    )


def block_text(
    block: Block, notation: Notation, titles: Mapping[BlockKey, str] | None = None, width: int = 100
) -> str:
    """One block as the terminal prints it: its title underlined, then each line and, indented under
    it, its rule and reason (and the blocks it uses, by ``titles``)."""
    out = [block.title, "-" * len(block.title)]
    for line in block_lines(block, notation, titles, text):
        out.append(_equality(line))
        reason = f"{line.rule}: {line.text}"
        if line.refs:
            reason += " (see: " + "; ".join(ref.title for ref in line.refs) + ")"
        out += textwrap.wrap(
            reason, width=width, initial_indent="      ", subsequent_indent="      "
        )
    return "\n".join(out)


def _equality(line: Line) -> str:
    """``(n) lhs = rhs``; a continued line keeps its left side as space, so that the "=" lines up; the
    equation's label on the right, as a book prints it: (BP1)."""
    head = f"({line.number}) "
    lhs = " " * len(line.lhs) if line.continued else line.lhs
    out = f"{head}{lhs} = {line.rhs}"
    return out if line.tag is None else out + f"    ({line.tag})"


def render_steps(derivation: Derivation, layer: int | None = None, width: int = 100) -> str:
    """The steps leading to one layer's gradient (or every layer's), with a header line."""
    blocks = derivation.blocks_for(layer) if layer is not None else derivation.blocks
    return index_header(derivation) + "\n" + render_blocks(blocks, derivation, width)


def index_header(derivation: Derivation) -> str:
    """The first line: the network, and which layer each index letter runs over (j in layer l, ...)."""
    net = derivation.network
    s, nt = net.symbols, net.notation
    l, (j, k, i) = text(s.l, nt), (text(letter, nt) for letter in (s.j, s.k, s.downstream[0]))
    letters = f"{j} in layer {l}, {k} in layer {l}-1, {i} in layer {l}+1"
    return f"Network {net.describe()}: L = {net.L}, {letters}"


def steps_data(derivation: Derivation, layer: int | None = None) -> dict:
    """The steps as data for ``derive steps --json``: each side as LaTeX and as text, the rule, the sentence."""
    net = derivation.network
    blocks = derivation.blocks_for(layer) if layer is not None else derivation.blocks
    return {
        "network": net.describe(),
        "layers": list(net.sizes),
        "weight_layers": net.L,
        "blocks": [
            {"key": str(block.key), "title": block.title, "steps": _steps_data(block, net.notation)}
            for block in blocks
        ],
    }


def _steps_data(block: Block, notation: Notation) -> list[dict]:
    """A block's steps for the JSON: its lines printed as LaTeX and as text, the keys of the blocks they use."""
    rows = zip(
        block.steps,
        block_lines(block, notation, printer=latex),
        block_lines(block, notation, printer=text),
    )
    return [
        {
            "number": tex.number,
            "lhs": {"latex": tex.lhs, "text": plain.lhs},
            "rhs": {"latex": tex.rhs, "text": plain.rhs},
            "rule": tex.rule,
            "sentence": tex.text,
            "refs": [str(ref) for ref in step.refs],
            **({"tag": tex.tag} if tex.tag is not None else {}),
        }
        for step, tex, plain in rows
    ]


# Progress on a terminal -------------------------------------------------------------------------
def _interactive(enabled: bool) -> bool:
    return enabled and sys.stderr.isatty() and os.environ.get("TERM") != "dumb"


@contextlib.contextmanager
def progress_bar(total: int, label: str, enabled: bool = True) -> Iterator[Callable[..., None]]:
    """A rich progress bar on stderr (only on a terminal, and only when ``enabled``); yields advance(),
    which also takes a short note shown after the bar (``advance("loss 0.12")``)."""
    if not _interactive(enabled) or total <= 0:
        yield lambda note=None: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[note]}"),
        console=Console(stderr=True),
        transient=True,
    )
    task = bar.add_task(label, total=total, note="")

    def advance(note: str | None = None) -> None:
        if note is None:
            bar.update(task, advance=1)
        else:
            bar.update(task, advance=1, note=note)

    with bar:
        yield advance


@contextlib.contextmanager
def status(label: str, enabled: bool = True) -> Iterator[Callable[[str], None]]:
    """A rich spinner with a changing message on stderr (terminal only); yields update(message)."""
    if not _interactive(enabled):
        yield lambda message: None
        return
    from rich.console import Console

    with Console(stderr=True).status(label) as spinner:
        yield lambda message: spinner.update(message)


# Shell completion -------------------------------------------------------------------------------
def bash_completion(
    parser, values: Mapping[str, Iterable[str]], or_files: Iterable[str] = ()
) -> str:
    """A bash completion script for ``derive``, generated from the argument parser (never stale);
    ``values``: the words each option takes (``{"--cost": COSTS, ...}``), given by the command line;
    ``or_files``: the options among them that also take a file name (``--data digits`` or ``--data x.csv``)."""
    import argparse

    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    commands = list(sub.choices)
    cases = []
    for name, command in sub.choices.items():
        options = sorted(s for a in command._actions for s in a.option_strings)
        positional = [a for a in command._actions if not a.option_strings and a.dest != "help"]
        files = "1" if any(a.dest in ("spec", "key", "answers") for a in positional) else "0"
        choices = next((" ".join(a.choices) for a in positional if a.choices), "")
        cases.append(
            f'        {name}) opts="{" ".join(options)}"; files={files}; words="{choices}" ;;'
        )
    words = {option: " ".join(choices) for option, choices in values.items()}
    either, files_too = set(or_files), ' $(compgen -f -- "$cur")'
    value_cases = "\n".join(
        f'        {option}) COMPREPLY=($(compgen -W "{values}" -- "$cur")'
        f"{files_too if option in either else ''}); return ;;"
        for option, values in words.items()
    )
    return f"""# bash completion for derive; generated by `derive completion bash`.
# Use: eval "$(derive completion bash)" in ~/.bashrc, or save the output as
# ~/.local/share/bash-completion/completions/derive
_derive() {{
    local cur prev cmd i opts files words
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    cmd=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${{COMP_WORDS[i]}}" in
            -*) ;;
            *) cmd="${{COMP_WORDS[i]}}"; break ;;
        esac
    done
    if [[ -z "$cmd" ]]; then
        COMPREPLY=($(compgen -W "{" ".join(commands)} --help --version" -- "$cur"))
        return
    fi
    case "$prev" in
{value_cases}
        --out-dir|--templates) COMPREPLY=($(compgen -d -- "$cur")); return ;;
        --out) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --layers|--layer|--seed|--count|--questions|--jobs|--title|--epochs|--batch-size|--learning-rate|--l2) return ;;
    esac
    case "$cmd" in
{chr(10).join(cases)}
        *) return ;;
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$opts --help" -- "$cur"))
    elif [[ -n "$words" ]]; then
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
    elif [[ "$files" == 1 ]]; then
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}}
complete -o filenames -o bashdefault -F _derive derive
"""
