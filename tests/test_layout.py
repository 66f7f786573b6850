"""The layout the architecture promises (docs/architecture.md): no import cycle in automl/,
every module's ``__all__`` equal to what it defines in public, only pages at the top of
pages/, and no test file importing another (shared objects are fixtures in
tests/conftest.py, shared helpers live in modules of tests/ that are not test files)."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "automl"
TEST_FILES = sorted((ROOT / "tests").glob("test_*.py"))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(ENGINE.rglob("*.py"))}


def import_graph() -> dict[str, set[str]]:
    """Module -> the automl modules it imports, at any depth of the code (an import inside a
    function is still a dependency). ``from pkg import sub`` points at the submodule only."""
    graph = {}
    for name, path in MODULES.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name in MODULES}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([node.module] if node.module else []))
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    if sub in MODULES:
                        deps.add(sub)
                    elif base in MODULES:
                        deps.add(base)
        deps.discard(name)
        graph[name] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_automl_imports_have_no_cycle():
    assert cycles(import_graph()) == []


def _public_definitions(module) -> set[str]:
    """Public classes and functions written in this module (not imported into it)."""
    return {name for name, obj in vars(module).items()
            if not name.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj))
            and getattr(obj, "__module__", None) == module.__name__}


@pytest.mark.parametrize("name", [n for n, p in MODULES.items() if "__all__" in p.read_text()])
def test_all_lists_exactly_the_public_names(name):
    module = importlib.import_module(name)
    listed = list(module.__all__)
    assert len(listed) == len(set(listed)), f"{name}.__all__ repeats a name"
    for item in listed:
        assert getattr(module, item, None) is not None, f"{name}.__all__ lists {item!r}"
    missing = _public_definitions(module) - set(listed)
    assert not missing, f"{name} defines {sorted(missing)} in public but leaves them out of __all__"


def test_the_public_names_check_can_fail():
    import types

    fake = types.ModuleType("fake")
    exec("def shown(): pass\ndef _hidden(): pass\n__all__ = []", fake.__dict__)
    assert _public_definitions(fake) == {"shown"}


def test_pages_top_level_holds_only_pages():
    routed = set(re.findall(r'st\.Page\("pages/(\w+)\.py"', (ROOT / "app.py").read_text()))
    on_disk = {p.stem for p in (ROOT / "pages").glob("*.py") if p.stem != "__init__"}
    assert routed and on_disk == routed


def imported_test_modules(source: str) -> set[str]:
    """The test modules (``tests.test_*``) that ``source``, a file of tests/, imports, at any
    depth of the code: ``import tests.test_a``, ``from tests.test_a import x``, ``from tests
    import test_a``, ``from .test_a import x``, ``from . import test_a``."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level == 1:  # relative to the tests package
                base = ".".join(["tests", *([node.module] if node.module else [])])
            names = [base, *(f"{base}.{a.name}" for a in node.names)]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "tests":
                parts = parts[1:]
            if parts and parts[0].startswith("test_"):
                found.add(f"tests.{parts[0]}")
    return found


def test_no_test_file_imports_another_test_file():
    found = {p.name: sorted(imported_test_modules(p.read_text())) for p in TEST_FILES}
    found = {name: modules for name, modules in found.items() if modules}
    assert not found, ("test files import test modules (a shared object belongs in a fixture "
                       f"of tests/conftest.py, a shared helper in a helper module): {found}")


def test_the_test_import_check_can_fail():
    source = """
import os
import tests.test_a
from tests.test_b import x
from tests import browser, test_c
from .test_d import y
from . import test_e
from tests.browser import VIEWPORT
from .apptest import app

def f():
    from tests.test_f import g
"""
    assert imported_test_modules(source) == {f"tests.test_{c}" for c in "abcdef"}
    assert imported_test_modules("from tests.apptest import app\nimport pytest\n") == set()
    assert len(TEST_FILES) > 40
