"""The layers and their one-way imports, checked on every module of the tree.

Layers, lowest first (docs/architecture.md):

0. `hardware` — the simulator; the standard library only.
1. `amed_opt.samplers` — the Metropolis-Hastings sampler; optuna and numpy, no torch.
2. `amed_opt.study` — the study contract (spec, storage, names, metrics, Pareto, reports);
   no torch.
3. `amed_opt.evaluation` — data, models, baseline, quantization, evaluators; torch.
4. `amed_opt.app` — the composition root.
5. the command lines: every other module of `amed_opt` (`run`, `compare`, `finetune`, ...).

A module may import its own layer and the layers below, never above; so the composition root
is imported only by the command lines. Every import statement counts, at module level or
inside a function; only blocks under `if TYPE_CHECKING:` are exempt (they never run). The
module list is read from the tree, so a new module is checked without editing this file.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("hardware", "amed_opt")
MAX_LINES = 450

LAYER_NAMES = ("hardware", "samplers", "study", "evaluation", "composition root", "command lines")
_PREFIXES = (
    ("hardware", 0),
    ("amed_opt.samplers", 1),
    ("amed_opt.study", 2),
    ("amed_opt.evaluation", 3),
    ("amed_opt.app", 4),
)
_TORCH = {"torch", "torchvision"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


MODULES = _modules()


def layer_of(module: str) -> int | None:
    """The layer of a project module; None for `amed_opt` itself (the lazy public facade)."""
    if module == "amed_opt":
        return None
    for prefix, layer in _PREFIXES:
        if module == prefix or module.startswith(prefix + "."):
            return layer
    if module.startswith("amed_opt."):
        return 5
    raise AssertionError(f"{module} belongs to no layer")


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """`(line, imported module)` for every import that can run."""
    package = module if is_package else module.rpartition(".")[0]
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield node.lineno, base
            for alias in node.names:
                # `from pkg import submodule` imports the submodule.
                if f"{base}.{alias.name}" in MODULES:
                    yield node.lineno, f"{base}.{alias.name}"
        stack.extend(ast.iter_child_nodes(node))


def _project_target(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _violations(module: str, path: Path) -> list[str]:
    layer = layer_of(module)
    found: list[str] = []
    tree = ast.parse(path.read_text(), filename=str(path))
    for line, imported in _imports(tree, module, path.name == "__init__.py"):
        top = imported.split(".")[0]
        where = f"{path.relative_to(ROOT)}:{line} imports {imported}"
        if top in PACKAGES:
            target = _project_target(imported)
            target_layer = None if target is None else layer_of(target)
            if layer is not None and target_layer is not None and target_layer > layer:
                found.append(
                    f"{where}: {LAYER_NAMES[layer]} must not import {LAYER_NAMES[target_layer]}"
                )
        elif layer == 0 and top not in sys.stdlib_module_names:
            found.append(f"{where}: hardware imports only the standard library")
        elif layer is not None and layer <= 2 and top in _TORCH:
            found.append(f"{where}: {LAYER_NAMES[layer]} must not import torch")
        elif layer is None and top not in sys.stdlib_module_names:
            found.append(f"{where}: the amed_opt facade imports lazily, by name")
    return found


def test_the_tree_has_every_layer() -> None:
    layers = {layer_of(module) for module in MODULES}
    assert layers >= set(range(len(LAYER_NAMES)))


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down_the_layers(module: str) -> None:
    assert _violations(module, MODULES[module]) == []


def test_the_boundary_check_catches_an_upward_import_inside_a_function() -> None:
    source = "def f():\n    from amed_opt.app import run_study\n"
    tree = ast.parse(source)
    imported = {name for _, name in _imports(tree, "amed_opt.study.objective", False)}
    assert "amed_opt.app" in imported
    guarded = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import torch\n"
    assert {name for _, name in _imports(ast.parse(guarded), "x.y", False)} == {"typing"}


def test_there_is_no_import_cycle() -> None:
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text())
        targets = (
            _project_target(name) for _, name in _imports(tree, module, path.name == "__init__.py")
        )
        graph[module] = {
            target
            for target in targets
            if target is not None and target != module and not module.startswith(target + ".")
        }
    state: dict[str, int] = {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycle = trail[trail.index(target) :] if target in trail else trail
                raise AssertionError(f"import cycle: {' -> '.join([*cycle, target])}")
            if target not in state:
                visit(target, [*trail, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_exceeds_the_line_limit(module: str) -> None:
    lines = len(MODULES[module].read_text().splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines (limit {MAX_LINES}); split it"


def _modules_after_import(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return {line.split(".")[0] for line in result.stdout.splitlines()}


@pytest.mark.parametrize(
    ("statement", "forbidden"),
    [
        ("import hardware", {"torch", "optuna", "torchvision", "numpy"}),
        ("import amed_opt.study.bits, amed_opt.study.spec", {"torch", "torchvision", "optuna"}),
        ("import amed_opt", {"torch", "torchvision"}),
        ("import amed_opt.samplers", {"torch", "torchvision"}),
        ("import amed_opt.study.storage, amed_opt.study.front", {"torch", "torchvision"}),
    ],
)
def test_import_pulls_in_no_forbidden_package(statement: str, forbidden: set[str]) -> None:
    # In a fresh interpreter, so that modules other tests imported cannot hide a violation.
    loaded = _modules_after_import(statement)
    assert not loaded & forbidden, f"{statement!r} imported {sorted(loaded & forbidden)}"
