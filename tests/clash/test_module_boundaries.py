"""Module boundaries (DESIGN §8): a module imports only what another module exports in `__all__`."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import clash

ROOT = Path(clash.__file__).parent
PACKAGES = sorted(p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file())


def owner(path: Path) -> str | None:
    """The product package a file belongs to; None for the composition root (clash/*.py)."""
    parts = path.relative_to(ROOT).parts
    return parts[0] if len(parts) > 1 else None


def imported_names(path: Path) -> list[tuple[int, str, str]]:
    """(line, module, name) for every `clash.*` import in a file, relative ones resolved."""
    tree = ast.parse(path.read_text(), str(path))
    here = ".".join(("clash", *path.relative_to(ROOT).with_suffix("").parts))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = here.split(".")[: -node.level]
                module = ".".join([*base, module] if module else base)
            found += [(node.lineno, module, a.name) for a in node.names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name, "") for a in node.names]
    return [(line, m, n) for line, m, n in found if m == "clash" or m.startswith("clash.")]


def violations() -> list[str]:
    exports = {name: set(importlib.import_module(f"clash.{name}").__all__) for name in PACKAGES}
    out = []
    for path in sorted(ROOT.rglob("*.py")):
        mine = owner(path)
        for line, module, name in imported_names(path):
            parts = module.split(".")
            if module == "clash" and name in exports:
                target, inner, name = name, [], ""
            else:
                target, inner = (parts[1], parts[2:]) if len(parts) > 1 else ("", [])
            if target not in exports or target == mine:
                continue
            where = f"{path.relative_to(ROOT.parent)}:{line}"
            if inner:
                out.append(f"{where} imports the internal module {module}")
            elif name and name not in exports[target]:
                out.append(f"{where} imports {name!r}, which clash.{target} does not export")
    return out


def test_every_product_package_publishes_its_api() -> None:
    for name in PACKAGES:
        package = importlib.import_module(f"clash.{name}")
        assert isinstance(getattr(package, "__all__", None), list), f"clash.{name} has no __all__"
        missing = [n for n in package.__all__ if not hasattr(package, n)]
        assert not missing, f"clash.{name}.__all__ names what it lacks: {missing}"


def test_no_module_imports_another_modules_internals() -> None:
    found = violations()
    assert not found, "\n".join([f"{len(found)} cross-module internal imports:", *found])


@pytest.mark.anyio
async def test_a_boot_hands_out_its_modules_by_class(runtime) -> None:
    from clash.market import MarketModule
    from clash.ops import OpsModule

    ops = runtime.module(OpsModule)
    assert isinstance(ops, OpsModule) and ops.db is runtime.db
    assert runtime.find(MarketModule) is None  # this boot has only ops
    with pytest.raises(LookupError, match="MarketModule"):
        runtime.module(MarketModule)
