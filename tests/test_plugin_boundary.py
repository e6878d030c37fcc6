"""The `ai` app is a plug-in: no module under ai/ imports the host project (neither the shop nor its
`config` package: it reaches them through the adapter and its own settings), and the modules of ai/
do not import each other in a circle."""
from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
AI_DIR = ROOT / "ai"
FORBIDDEN = ("shop", "config")
DYNAMIC_IMPORTERS = {"import_module", "import_string", "__import__"}


def _is_forbidden(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in FORBIDDEN)


def _package_of(path: Path, root: Path) -> list[str]:
    """The package a module's relative imports start from: ai/x/y.py and ai/x/__init__.py are both in ai.x."""
    return list(path.relative_to(root).parent.parts)


def _type_checking_only(tree: ast.AST) -> set[int]:
    """The ids of the nodes inside `if TYPE_CHECKING:` blocks (imports for annotations, never executed)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in {"TYPE_CHECKING", "typing.TYPE_CHECKING"}:
            skipped.update(id(inner) for statement in node.body for inner in ast.walk(statement))
    return skipped


def imported_modules(
    source: str, path: Path, root: Path = ROOT, *, runtime_only: bool = False
) -> Iterator[tuple[ast.AST, list[str]]]:
    """(node, module names) for every import in `source`: static, relative (resolved) or dynamic with a
    literal name. For `from m import x` both `m` and `m.x` are named (x may be a submodule).
    `runtime_only` leaves out the imports under `if TYPE_CHECKING:`."""
    package = _package_of(path, root)
    tree = ast.parse(source, filename=str(path))
    skipped = _type_checking_only(tree) if runtime_only else set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level - 1 <= len(package) else []
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            modules = [module] + [f"{module}.{alias.name}" if module else alias.name for alias in node.names]
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0] if node.args else None
            if name in DYNAMIC_IMPORTERS and isinstance(first, ast.Constant) and isinstance(first.value, str):
                modules = [first.value]
        if modules:
            yield node, modules


def host_imports(source: str, path: Path) -> list[str]:
    """`file:line: statement` for every import of the host project (`shop`, `config`) in `source`."""
    return [
        f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}"
        for node, modules in imported_modules(source, path)
        if any(_is_forbidden(module) for module in modules)
    ]


def test_no_module_under_ai_imports_the_host_project():
    files = sorted(AI_DIR.rglob("*.py"))
    assert len(files) > 10, "the ai package was not found"
    violations = [v for path in files for v in host_imports(path.read_text(encoding="utf-8"), path)]
    assert violations == [], "ai/ must reach the shop through the adapter only:\n" + "\n".join(violations)


@pytest.mark.parametrize(
    "source, forbidden",
    [
        ("import shop", True),
        ("import shop.models as m", True),
        ("from shop.models import Product", True),
        ("from shop import services", True),
        ("def f():\n    from shop.services.basket import get_basket", True),
        ("from .. import shop", True),  # from ai/module.py, `..` is the project root
        ("from ..shop.models import Order", True),
        ("import importlib\nimportlib.import_module('shop.models')", True),
        ("from django.utils.module_loading import import_string\nimport_string('shop.ai_adapter.ShopAdapter')", True),
        ("__import__('shop')", True),
        ("import config", True),
        ("from config.celery import app", True),
        ("def handle():\n    from config import settings", True),
        ("from .. import config", True),
        ("import_string('config.settings.DEBUG')", True),
        ("import shopify", False),
        ("import configparser", False),
        ("from django.conf import settings", False),
        ("from ai.conf import ai_settings\nadapter = ai_settings.adapter()", False),
        ("from . import shop_helpers", False),
        ("from . import config", False),  # ai.config, a module of the app itself
        ("from .models import Event", False),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from shop.models import Product", True),
        ("x = 'shop.models'", False),
    ],
)
def test_the_checker_catches_every_way_of_importing_the_host(source, forbidden):
    assert bool(host_imports(source, AI_DIR / "module.py")) is forbidden


# --- import cycles among ai/ modules ---------------------------------------------------------------------


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path, package: str = "ai") -> dict[str, dict[str, int]]:
    """module -> {imported module of the same package: first line}. Imports anywhere in a module count
    (a function-level import still closes a circle at run time) except under `if TYPE_CHECKING:`.
    `from p import x` is an edge to p.x when that is a module, else to p; implicit imports of parent
    packages are not edges."""
    files = {_module_name(path, root): path for path in sorted((root / package).rglob("*.py"))}
    graph: dict[str, dict[str, int]] = {}
    for name, path in files.items():
        edges: dict[str, int] = {}
        for node, modules in imported_modules(path.read_text(encoding="utf-8"), path, root, runtime_only=True):
            target = next((m for m in reversed(modules) if m in files), None) if isinstance(node, ast.ImportFrom) else None
            for module in [target] if target else modules:
                while module not in files and "." in module:
                    module = module.rpartition(".")[0]
                if module in files and module != name:
                    edges.setdefault(module, node.lineno)
        graph[name] = edges
    return graph


def import_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted, sorted."""
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = lowlink[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in graph.get(module, {}):
            if target not in index:
                visit(target)
                lowlink[module] = min(lowlink[module], lowlink[target])
            elif target in on_stack:
                lowlink[module] = min(lowlink[module], index[target])
        if lowlink[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(groups)


# Cycles that issue 12 removes (engineers `recs` and `plugin`): delete an entry when its cycle is gone.
# The test fails both on a new cycle and on an entry that no longer is one, so the list only shrinks.
KNOWN_CYCLES: list[list[str]] = []


def test_no_import_cycles_among_ai_modules():
    graph = import_graph(ROOT)
    assert len(graph) > 10 and any(graph.values()), "the ai package was not found"
    cycles = import_cycles(graph)

    def describe(group: list[str]) -> str:
        return "\n".join(
            f"  {module} -> {target} (line {line})" for module in group for target, line in graph[module].items()
            if target in group
        )

    new = [group for group in cycles if group not in KNOWN_CYCLES]
    assert new == [], "import cycles among ai/ modules:\n" + "\n\n".join(describe(group) for group in new)
    gone = [group for group in KNOWN_CYCLES if group not in cycles]
    assert gone == [], f"these cycles are gone: remove them from KNOWN_CYCLES: {gone}"


def _write(root: Path, files: dict[str, str]) -> None:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)


@pytest.mark.parametrize(
    "files, cycles",
    [
        ({"ai/__init__.py": "", "ai/a.py": "from ai import b", "ai/b.py": "import ai.a"}, [["ai.a", "ai.b"]]),
        # deferred (function-level) and relative imports still close a circle
        ({"ai/__init__.py": "", "ai/a.py": "def f():\n    from .b import x", "ai/b.py": "from . import a"}, [["ai.a", "ai.b"]]),
        (
            {"ai/__init__.py": "", "ai/x/__init__.py": "", "ai/x/a.py": "from ..c import z", "ai/x/b.py": "from .a import y",
             "ai/c.py": "from ai.x.b import q"},
            [["ai.c", "ai.x.a", "ai.x.b"]],
        ),
        ({"ai/__init__.py": "", "ai/a.py": "import importlib\nimportlib.import_module('ai.b')", "ai/b.py": "import ai.a"},
         [["ai.a", "ai.b"]]),
        # annotations-only imports do not run
        ({"ai/__init__.py": "", "ai/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ai.b import B",
          "ai/b.py": "import ai.a"}, []),
        # a package importing its own submodule, which imports a sibling: no circle
        ({"ai/__init__.py": "", "ai/p/__init__.py": "from .a import x", "ai/p/a.py": "from ai.p.b import y", "ai/p/b.py": ""}, []),
        ({"ai/__init__.py": "", "ai/a.py": "import ai.b", "ai/b.py": "import ai.c", "ai/c.py": "import os"}, []),
    ],
)
def test_the_cycle_finder(tmp_path, files, cycles):
    _write(tmp_path, files)
    assert import_cycles(import_graph(tmp_path)) == cycles
