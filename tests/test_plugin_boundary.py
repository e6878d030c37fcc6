"""The `ai` app is a plug-in: no module under ai/ may import the host shop (it uses the adapter instead)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
AI_DIR = ROOT / "ai"
FORBIDDEN = "shop"
DYNAMIC_IMPORTERS = {"import_module", "import_string", "__import__"}


def _is_forbidden(module: str) -> bool:
    return module == FORBIDDEN or module.startswith(FORBIDDEN + ".")


def _package_of(path: Path) -> list[str]:
    """The package a module's relative imports start from: ai/x/y.py and ai/x/__init__.py are both in ai.x."""
    return list(path.relative_to(ROOT).parent.parts)


def shop_imports(source: str, path: Path) -> list[str]:
    """`file:line: statement` for every import of the shop in `source` (static, relative or dynamic)."""
    found = []
    package = _package_of(path)
    for node in ast.walk(ast.parse(source, filename=str(path))):
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
            if name in DYNAMIC_IMPORTERS and node.args and isinstance(node.args[0], ast.Constant):
                if isinstance(node.args[0].value, str):
                    modules = [node.args[0].value]
        if any(_is_forbidden(module) for module in modules):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_module_under_ai_imports_the_shop():
    files = sorted(AI_DIR.rglob("*.py"))
    assert len(files) > 10, "the ai package was not found"
    violations = [v for path in files for v in shop_imports(path.read_text(encoding="utf-8"), path)]
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
        ("import shopify", False),
        ("from ai.conf import ai_settings\nadapter = ai_settings.adapter()", False),
        ("from . import shop_helpers", False),
        ("from .models import Event", False),
        ("x = 'shop.models'", False),
    ],
)
def test_the_checker_catches_every_way_of_importing_the_shop(source, forbidden):
    assert bool(shop_imports(source, AI_DIR / "module.py")) is forbidden
