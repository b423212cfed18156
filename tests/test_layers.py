"""The package's import graph reads as its data flows: every package imports only packages below it, and no
module imports one that imports it back (function-level imports included)."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

SRC = Path(__file__).resolve().parents[1] / "src"

LAYERS = (
    ("base",),  # nettwin's own modules: errors, files, JSON, validation, checkpoints, metrics, the estimator contract
    ("scenario",),
    ("sim",),
    ("data",),
    ("twin",),
    ("te",),
    ("manage", "telemetry", "gen", "verify"),
    ("testing",),
    ("service",),
    ("cli",),
)
"""Packages from the bottom up; a package may import its own layer's modules and those of layers below."""

LEVEL = {package: level for level, names in enumerate(LAYERS) for package in names}


def _modules() -> dict[str, Path]:
    modules = {}
    for path in (SRC / "nettwin").rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _imported(module: str, path: Path, node: ast.Import | ast.ImportFrom, modules: dict[str, Path]) -> list[str]:
    """The nettwin modules an import statement loads (a submodule named in ``from pkg import sub`` counts, not
    ``pkg`` itself when every name imported is a submodule)."""
    if isinstance(node, ast.Import):
        targets = [alias.name for alias in node.names]
    else:
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        if node.level:
            package = package[: len(package) - (node.level - 1)]
            base = ".".join([*package, *([node.module] if node.module else [])])
        else:
            base = node.module or ""
        subs = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in modules]
        targets = subs if len(subs) == len(node.names) else [base, *subs]
    found = []
    for target in targets:
        while target not in modules and "." in target:
            target = target.rsplit(".", 1)[0]
        if target in modules and target != module and target.startswith("nettwin"):
            found.append(target)
    return found


def _graph() -> nx.DiGraph:
    modules = _modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for module, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                graph.add_edges_from((module, target) for target in _imported(module, path, node, modules))
    return graph


def _package(module: str) -> str:
    parts = module.split(".")
    if module == "nettwin.__main__":
        return "cli"
    return parts[1] if len(parts) > 1 and (SRC / "nettwin" / parts[1]).is_dir() else "base"


def test_every_package_has_a_layer():
    assert {_package(m) for m in _modules()} <= set(LEVEL)


def test_no_package_imports_one_above_it():
    upward = sorted(
        f"{a} imports {b} ({_package(a)} sits below {_package(b)})"
        for a, b in _graph().edges
        if LEVEL[_package(a)] < LEVEL[_package(b)]
    )
    assert not upward, "\n".join(upward)


def test_no_module_imports_one_that_imports_it_back():
    cycles = [sorted(c) for c in nx.strongly_connected_components(_graph()) if len(c) > 1]
    assert not cycles, cycles


def test_packages_of_one_layer_do_not_import_each_other_in_a_circle():
    packages = nx.DiGraph((_package(a), _package(b)) for a, b in _graph().edges if _package(a) != _package(b))
    assert not list(nx.simple_cycles(packages))
