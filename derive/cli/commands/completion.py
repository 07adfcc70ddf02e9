"""derive completion: a shell completion script, generated from the parser (never stale)."""

from __future__ import annotations

import argparse

DESCRIPTION = (
    'Print a completion script for the shell. Bash: eval "$(derive completion bash)" in ~/.bashrc, '
    "or save it as ~/.local/share/bash-completion/completions/derive."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("shell", choices=["bash"], help="the shell (bash)")


def run(args: argparse.Namespace) -> int:
    from derive.cli.entry import build_parser
    from derive.homework.kinds import KINDS
    from derive.model.activations import NAMES, OUTPUT_NAMES
    from derive.model.costs import COSTS
    from derive.notation.letters import PRESETS
    from derive.render.terminal import bash_completion
    from derive.training.datasets import BUILT_IN

    words = {
        "--activation": NAMES + OUTPUT_NAMES,
        "--cost": COSTS,
        "--kinds": KINDS,
        "--notation": PRESETS,
        "--data": BUILT_IN,
    }
    print(bash_completion(build_parser(), words, or_files=["--data"]), end="")
    return 0
