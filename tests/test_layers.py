"""The package's layering: the folder tree is the data flow, and nothing imports upwards except at
the documented seams.

* import-linter's layers contract (pyproject.toml) holds, run the way CI runs it;
* the contract's ignored imports are exactly the imports marked ``# seam`` in the code (a seam is
  declared where it stands, and nothing upward hides in the ignore list);
* counting function-local imports, the modules import each other without a cycle once the seams
  are set aside;
* ``derive --help`` loads no SymPy (the notation's letters are plain data).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "derive"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[str, int, bool]]:
    """(imported module, line, marked as a seam) for every derive import outside TYPE_CHECKING blocks,
    at any depth (function-local imports included)."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    typing_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for node in ast.walk(block)
    }
    found = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("derive"):
            targets = [node.module]
            if node.module in ("derive",):
                targets = [f"derive.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names if a.name.startswith("derive")]
        else:
            continue
        end = node.end_lineno or node.lineno
        seam = any("# seam" in lines[n - 1] for n in range(node.lineno, end + 1))
        found += [(target, node.lineno, seam) for target in targets]
    return found


def graph() -> dict[str, list[tuple[str, int, bool]]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    out = {}
    for name, path in modules.items():
        edges = []
        for target, line, seam in imports(path):
            while (
                target not in modules and "." in target
            ):  # `from derive.x import name` of a module's name
                target = target.rsplit(".", 1)[0]
            if target != name:
                edges.append((target, line, seam))
        out[name] = edges
    return out


def test_the_layers_contract_holds():
    done = subprocess.run(["lint-imports"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "Contracts: 1 kept, 0 broken." in done.stdout


def test_the_ignored_imports_are_exactly_the_seams_marked_in_the_code():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "importlinter"
    ]
    (contract,) = config["contracts"]
    ignored = {
        tuple(part.strip() for part in entry.split("->")) for entry in contract["ignore_imports"]
    }
    marked = {
        (name, target) for name, edges in graph().items() for target, _, seam in edges if seam
    }
    assert marked == ignored
    # and a seam really goes upwards (otherwise it needs no mark)
    layers = [layer.strip() for layer in contract["layers"]][::-1]  # bottom first

    def rank(module: str) -> int:
        return next(
            i for i, layer in enumerate(layers) if module == layer or module.startswith(layer + ".")
        )

    assert all(rank(target) > rank(source) for source, target in ignored)


def test_no_import_cycle_once_the_seams_are_set_aside():
    edges = {name: sorted({t for t, _, seam in out if not seam}) for name, out in graph().items()}
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in edges.get(node, []):
            if state.get(nxt) == 1:
                raise AssertionError(
                    "import cycle: " + " -> ".join(path[path.index(nxt) :] + [nxt])
                )
            if nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    # the graph is not trivially empty: the engine does import the model
    assert "derive.model.network" in edges["derive.engine.derivation"] or any(
        t.startswith("derive.model") for t in edges["derive.engine.derivation"]
    )


def test_help_loads_no_sympy():
    code = (
        "import sys, runpy\nsys.argv = ['derive', '--help']\n"
        "try:\n    runpy.run_module('derive', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "print('SYMPY', 'sympy' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip().endswith("SYMPY False"), done
