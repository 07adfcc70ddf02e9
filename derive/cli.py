"""The `derive` command: a thin layer over the library.

Exit status: 0 success (a correct answer), 1 a verdict against the input (a wrong answer, a
failed check), 2 bad input or usage (one line), 3 an internal error (one line, please report).
Each command imports what it needs when it runs, so that `derive --help` and `derive
check-answer` load neither NumPy nor Jinja2, rich or the sheet renderer.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from . import __version__
from .errors import DeriveError

if TYPE_CHECKING:
    from .network import Network

EXAMPLES = Path(__file__).resolve().parent / "examples"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, no usage dump
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _network_options(parser: argparse.ArgumentParser, required: bool = True) -> None:
    from .notation import PRESETS  # loaded with the package anyway

    parser.add_argument("--layers", nargs="+", required=required, metavar="N",
                        help="layer sizes, input first, e.g. --layers 2 3 1")
    parser.add_argument("--activation", nargs="+", default=None, metavar="NAME",
                        help="one activation for every layer or one per weight layer: sigmoid, tanh, relu, "
                             "leaky-relu, softplus, identity; parameters as sigmoid(gain=2)")
    parser.add_argument("--cost", default=None, help="quadratic (default), half-quadratic, cross-entropy")
    parser.add_argument("--bias", action=argparse.BooleanOptionalAction, default=False, help="include biases")
    parser.add_argument("--notation", default="default", choices=sorted(PRESETS), help="notation preset")


def network_from(args: argparse.Namespace) -> "Network":
    from .network import Network

    activation = args.activation if args.activation is None or len(args.activation) > 1 else args.activation[0]
    return Network(args.layers, activation=activation, cost=args.cost, bias=args.bias, notation=args.notation)


def _cmd_steps(args: argparse.Namespace) -> int:
    from .terminal import render_steps

    net = network_from(args)
    derivation = net.derivation()
    layer = args.layer
    if layer is not None:
        derivation.steps(layer)  # validates the layer number
    print(render_steps(derivation, layer))
    if args.check:
        from .expansion import check_steps

        failures = check_steps(net)
        count = len(derivation.steps())
        if failures:
            for failure in failures:
                print(f"FAILED {failure}", file=sys.stderr)
            return 1
        print(f"\nchecked: all {count} steps agree with SymPy's own derivatives at random points")
    return 0


def _cmd_sheet(args: argparse.Namespace) -> int:
    from .sheet import write_sheet
    from .spec import load_spec

    if args.spec is not None:
        given = [f"--{name}" for name in ("layers", "activation", "cost") if getattr(args, name) is not None]
        if given:
            raise DeriveError(f"give either a SPEC file or {', '.join(given)}, not both")
        spec = load_spec(args.spec)
        net, title, values = spec.network(), args.title or spec.title, spec.values
    elif args.layers is None:
        raise DeriveError("give a SPEC file or --layers (e.g. derive sheet --layers 2 3 1)")
    else:
        net, title, values = network_from(args), args.title, None
    files = write_sheet(net, Path(args.out_dir), name=args.out, title=title, values=values,
                        templates=args.templates, tex_only=args.tex_only)
    print(f"wrote {files.tex}")
    if files.pdf is not None:
        print(f"wrote {files.pdf}")
    if files.note:
        print(f"derive: {files.note}", file=sys.stderr)
    return 0


def _cmd_examples(args: argparse.Namespace) -> int:
    from .sheet import write_sheet
    from .spec import load_spec

    for path in sorted(EXAMPLES.glob("*.toml")):
        spec = load_spec(path)
        files = write_sheet(spec.network(), Path(args.out_dir), name=path.stem, title=spec.title,
                            values=spec.values, tex_only=args.tex_only)
        print(f"wrote {files.tex}" + (f" and {files.pdf}" if files.pdf else ""))
        if files.note:
            print(f"derive: {files.note}", file=sys.stderr)
            return 1
    return 0


def _network_from_spec_or_options(args: argparse.Namespace) -> tuple["Network", object]:
    from .spec import load_spec

    if getattr(args, "spec", None) is not None:
        spec = load_spec(args.spec)
        return spec.network(), spec
    if args.layers is None:
        raise DeriveError("give a SPEC file or --layers")
    return network_from(args), None


def _cmd_code(args: argparse.Namespace) -> int:
    from .codegen import generate_source
    from .sheet import write_atomic

    net, _ = _network_from_spec_or_options(args)
    source = generate_source(net)
    if args.out is None:
        print(source, end="")
    else:
        write_atomic(Path(args.out), source)
        print(f"wrote {args.out}")
    return 0


def _cmd_grad(args: argparse.Namespace) -> int:
    import json

    from .spec import load_spec

    spec = load_spec(args.spec)
    net = spec.network()
    weights, biases, X, Y = spec.arrays()
    numeric = net.numeric()
    grad_w, grad_b = numeric.gradient(weights, biases, X, Y)
    result = {"cost": float(numeric.cost(weights, biases, X, Y)),
              "weights": [g.tolist() for g in grad_w],
              "biases": [g.tolist() for g in grad_b] if grad_b is not None else None}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"cost {result['cost']:.12g}")
        for layer, g in enumerate(grad_w, start=1):
            print(f"dC/dw^({layer}) =\n{g}")
        for layer, g in enumerate(grad_b or [], start=1):
            print(f"dC/db^({layer}) = {g}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from .gradcheck import check_gradient
    from .spec import load_spec

    spec = load_spec(args.spec)
    net = spec.network()
    report = check_gradient(net, *spec.arrays())
    print(report.table())
    return 0 if report.passed else 1


def _cmd_homework(args: argparse.Namespace) -> int:
    from .homework import KINDS
    from .homework_sheet import generate

    kinds = tuple(args.kinds) if args.kinds else KINDS
    results = generate(args.seed, args.count, Path(args.out), kinds, args.questions, args.title, args.tex_only,
                       args.jobs, progress=True)
    for result in results:
        print(f"version {result.number}: " + ", ".join(str(f) for f in result.files))
    print(f"Moodle quiz: {Path(args.out) / 'moodle.xml'}")
    notes = {r.note for r in results if r.note}
    for note in notes:
        print(note, file=sys.stderr)
    return 0


def _cmd_check_answer(args: argparse.Namespace) -> int:
    from .answers import judge
    from .homework import load_key

    questions = load_key(args.key)
    if args.question not in questions:
        wanted = f"q{args.question}" if args.question.isdigit() else args.question
        if wanted not in questions:
            raise DeriveError(f"no question {args.question!r} in {args.key}; it has {', '.join(questions)}")
        args.question = wanted
    verdict = judge(args.latex, questions[args.question].expected())
    status = getattr(verdict.status, "value", verdict.status)
    print(verdict.message, file=sys.stdout if status in ("correct", "wrong") else sys.stderr)
    return verdict.exit_code


def _cmd_grade(args: argparse.Namespace) -> int:
    from .grading import main_grade

    return main_grade(args.key, args.answers, args.out, args.jobs, args.quiet)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="derive", description="Step-by-step backpropagation derivations.")
    parser.add_argument("--version", action="version", version=f"derive {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    steps = sub.add_parser("steps", help="print the chain-rule steps for every weight layer")
    _network_options(steps)
    steps.add_argument("--layer", type=int, default=None, help="only the steps leading to this weight layer")
    steps.add_argument("--check", action="store_true", help="also verify every step against SymPy")
    steps.set_defaults(run=_cmd_steps)

    sheet = sub.add_parser("sheet", help="write a LaTeX derivation sheet and typeset it to PDF",
                           description="Write OUT_DIR/NAME.tex and OUT_DIR/NAME.pdf for a network given by "
                                       "options or by a SPEC file (TOML or JSON, may carry numbers for a "
                                       "worked example).")
    sheet.add_argument("spec", nargs="?", default=None, metavar="SPEC", help="network spec file (.toml or .json)")
    _network_options(sheet, required=False)
    sheet.add_argument("--out", default=None, metavar="NAME", help="file name without extension "
                                                                    "(default: derived from the network)")
    sheet.add_argument("--out-dir", default="outputs", metavar="DIR", help="where to write (default: outputs)")
    sheet.add_argument("--title", default=None, help="the sheet's title")
    sheet.add_argument("--templates", default=None, metavar="DIR", help="use your own templates from DIR first")
    sheet.add_argument("--tex-only", action="store_true", help="write the .tex only, do not run TeX")
    sheet.set_defaults(run=_cmd_sheet)

    code = sub.add_parser("code", help="write the generated NumPy forward/cost/gradient code")
    code.add_argument("spec", nargs="?", default=None, metavar="SPEC", help="network spec file (or use --layers)")
    _network_options(code, required=False)
    code.add_argument("--out", default=None, metavar="FILE", help="write to FILE (default: print)")
    code.set_defaults(run=_cmd_code)

    grad = sub.add_parser("grad", help="cost and every gradient for the numbers in a spec file")
    grad.add_argument("spec", metavar="SPEC")
    grad.add_argument("--json", action="store_true", help='print {"cost": ..., "weights": [...], "biases": [...]}')
    grad.set_defaults(run=_cmd_grad)

    check = sub.add_parser("check", help="check every generated gradient against finite differences")
    check.add_argument("spec", metavar="SPEC")
    check.set_defaults(run=_cmd_check)

    homework = sub.add_parser("homework", help="write exercise and solution sheets, answer keys and a Moodle quiz",
                              description="Write OUT/version-N/{exercises,solutions}.{tex,pdf} and key.json for "
                                          "each version, and OUT/moodle.xml. The same seed gives the same versions.")
    homework.add_argument("--seed", type=int, required=True)
    homework.add_argument("--count", type=int, default=1, help="how many versions (default 1)")
    homework.add_argument("--out", default="outputs/homework", metavar="DIR")
    homework.add_argument("--kinds", nargs="+", default=None, metavar="KIND",
                          help="exercise kinds (default: one of each): activation-derivative, weight-gradient, "
                               "numeric-gradient, missing-factor")
    homework.add_argument("--questions", type=int, default=None, metavar="N",
                          help="questions per version, cycling through the kinds (default: one per kind)")
    homework.add_argument("--title", default="Backpropagation homework")
    homework.add_argument("--tex-only", action="store_true", help="write the .tex only, do not run TeX")
    homework.add_argument("--jobs", type=int, default=None, help="parallel processes (default: all cores)")
    homework.set_defaults(run=_cmd_homework)

    answer = sub.add_parser("check-answer", help="check a LaTeX answer against a homework key",
                            description="Exit 0 when the answer is correct, 1 when it is wrong, 2 when it "
                                        "cannot be read.")
    answer.add_argument("key", metavar="KEY", help="a version's key.json")
    answer.add_argument("question", metavar="QUESTION", help="question id (q2, or just 2)")
    answer.add_argument("latex", metavar="LATEX", help="the answer in LaTeX, e.g. '2(a_j^{(L)} - y_j) a_k^{(L-1)}'")
    answer.set_defaults(run=_cmd_check_answer)

    grade = sub.add_parser("grade", help="grade a class's answers (CSV) against the homework keys, in parallel",
                           description="Judge every row of ANSWERS (CSV with a header row naming the columns "
                                       "student, version, question, answer) against KEY_OR_DIR (one key.json, "
                                       "or the directory `derive homework` wrote) and write OUT with the columns "
                                       "student, version, question, answer, verdict, feedback, score. Exit 0 "
                                       "when every row got a verdict, 2 when the files cannot be read, 3 when "
                                       "a row hit an internal error.")
    grade.add_argument("key", metavar="KEY_OR_DIR", help="a key.json, or a homework directory with version-N/key.json")
    grade.add_argument("answers", metavar="ANSWERS", help="the answers, CSV: student,version,question,answer")
    grade.add_argument("--out", required=True, metavar="FILE", help="where to write the grades (CSV)")
    grade.add_argument("--jobs", type=int, default=None, metavar="N",
                       help="answers judged at once, one process each (default: all cores)")
    grade.add_argument("--quiet", action="store_true", help="no progress bar and no summary line")
    grade.set_defaults(run=_cmd_grade)

    examples = sub.add_parser("examples", help="regenerate the canonical example sheets")
    examples.add_argument("--out-dir", default="outputs", metavar="DIR")
    examples.add_argument("--tex-only", action="store_true")
    examples.set_defaults(run=_cmd_examples)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
        argv = sys.argv[1:] if argv is None else list(argv)
        if not argv:
            parser.print_help()
            return 2
        args = parser.parse_args(argv)
        return args.run(args)
    except DeriveError as error:
        print(f"derive: error: {_one_line(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("derive: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `derive steps ... | head`: the reader left; not an error of ours
        _silence_stdout()
        return 141
    except Exception as error:  # noqa: BLE001 - a bug: one line, never a traceback
        from .limits import InternalError

        what = _one_line(error) if isinstance(error, InternalError) else f"{type(error).__name__}: {_one_line(error)}"
        print(f"derive: internal error: {what} (please report)", file=sys.stderr)
        return 3


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _silence_stdout() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
