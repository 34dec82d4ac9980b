#!/usr/bin/env python3
"""The code's shape, checked by `make lint` (standard library only):

- no Python file under backend/ or scripts/, nor JavaScript file under web/js/, over 400
  lines (a file that long has more than one job; tests are not held to it);
- no import cycle among backend/'s modules (`import backend.x`, `from backend.x import y`,
  `from backend import x`, relative imports; anywhere in a module, lazy imports inside
  functions too, except under `if TYPE_CHECKING:`), nor among web/js/'s ES modules
  (`import ... from "./x.js"`, `export ... from "./x.js"`, `import "./x.js"`, `import("./x.js")`).

Prints each finding (the file and its length; the cycle as a path of modules) and exits 1 on
any; otherwise one line of what it checked.

    python3 tools/check_structure.py [ROOT]      (ROOT: the repository, by default this one's)
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

MAX_LINES = 400
PYTHON_DIRS = ("backend", "scripts")
PYTHON_PACKAGE = "backend"  # whose modules must not import each other in a circle
JS_DIR = "web/js"

Graph = Mapping[str, Iterable[str]]


def line_count(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def oversized(root: Path, files: Iterable[Path], limit: int = MAX_LINES) -> list[str]:
    """'path: N lines' for each file over `limit` lines."""
    found = []
    for path in sorted(files):
        n = line_count(path)
        if n > limit:
            found.append(f"{path.relative_to(root)}: {n} lines (limit {limit})")
    return found


# --- Python ---------------------------------------------------------------------------------


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterable[ast.Import | ast.ImportFrom]:
    """Every import statement in `tree` but those under `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                yield from _imports_in(child)
            continue
        yield from _imports_in(node)


def _imports_in(node: ast.AST) -> Iterable[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    else:
        yield from _imports(node)


def python_graph(root: Path, package: str = PYTHON_PACKAGE) -> dict[str, set[str]]:
    """Module -> the modules of `package` it imports, from the files under root/package."""
    files = {module_name(root, p): p for p in sorted((root / package).rglob("*.py"))}
    graph: dict[str, set[str]] = {name: set() for name in files}

    def resolve(name: str) -> str | None:
        """The module of ours that importing `name` runs last (the most specific one)."""
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    for name, path in files.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in _imports(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = name.split(".")
                    # `from . import x` in a package's __init__ is relative to the package
                    drop = node.level - 1 if is_package else node.level
                    anchor = anchor[: len(anchor) - drop] if drop else anchor
                    base = ".".join([*anchor, base] if base else anchor)
                # `from a import b`: b is a module of ours, or a name defined in a
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base
                    for alias in node.names
                ]
            for target in targets:
                module = resolve(target) if target.split(".")[0] == package else None
                if module is not None and module != name:
                    graph[name].add(module)
    return graph


# --- JavaScript -----------------------------------------------------------------------------

_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_LINE_COMMENT = re.compile(r"^\s*//.*$", re.MULTILINE)
_SPECIFIERS = (
    re.compile(r"\b(?:import|export)\b[^;\"'`]*?\bfrom\s*[\"']([^\"']+)[\"']", re.DOTALL),
    re.compile(r"\bimport\s*[\"']([^\"']+)[\"']"),
    re.compile(r"\bimport\s*\(\s*[\"']([^\"']+)[\"']\s*\)"),
)


def js_imports(source: str) -> set[str]:
    """The module specifiers `source` imports or re-exports from."""
    code = _LINE_COMMENT.sub("", _BLOCK_COMMENT.sub("", source))
    return {m.group(1) for pattern in _SPECIFIERS for m in pattern.finditer(code)}


def js_graph(root: Path, folder: str = JS_DIR) -> dict[str, set[str]]:
    """Module (path from root) -> the modules under root/folder it imports by relative path."""
    base = root / folder
    files = {p.resolve(): p for p in sorted(base.rglob("*.js")) + sorted(base.rglob("*.mjs"))}
    graph: dict[str, set[str]] = {str(p.relative_to(root)): set() for p in files.values()}
    for path in files.values():
        for spec in js_imports(path.read_text(encoding="utf-8")):
            if not spec.startswith("."):
                continue  # a bare or absolute specifier: a library, not one of ours
            target = (path.parent / spec).resolve()
            if target in files and target != path.resolve():
                graph[str(path.relative_to(root))].add(str(files[target].relative_to(root)))
    return graph


# --- cycles ---------------------------------------------------------------------------------


def find_cycles(graph: Graph) -> list[list[str]]:
    """One cycle (a path that ends where it starts) per strongly connected component of more
    than one node (Tarjan's algorithm, iterative)."""
    edges = {node: sorted(targets) for node, targets in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(edges[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in edges:
                    continue
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
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
                    components.append(sorted(component))
    return [_cycle_in(edges, set(c)) for c in components]


def _cycle_in(edges: Mapping[str, list[str]], component: set[str]) -> list[str]:
    """A shortest cycle through the component's first node (breadth-first)."""
    start = min(component)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in edges[node]:
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [*reversed(path), start]
                if child in component and child not in came_from:
                    came_from[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle in the component {sorted(component)}")


# --- the check ------------------------------------------------------------------------------


def check(root: Path) -> tuple[list[str], str]:
    """(findings, a line of what was checked)."""
    python_files = [p for d in PYTHON_DIRS for p in sorted((root / d).rglob("*.py"))]
    js_files = sorted((root / JS_DIR).rglob("*.js")) + sorted((root / JS_DIR).rglob("*.mjs"))
    findings = oversized(root, [*python_files, *js_files])
    for label, graph in (
        (f"{PYTHON_PACKAGE}/", python_graph(root)),
        (f"{JS_DIR}/", js_graph(root)),
    ):
        for cycle in find_cycles(graph):
            findings.append(f"import cycle in {label}: {' -> '.join(cycle)}")
    summary = (
        f"structure: {len(python_files)} Python files ({', '.join(PYTHON_DIRS)}) and "
        f"{len(js_files)} JS files ({JS_DIR}) at most {MAX_LINES} lines; "
        f"no import cycle in {PYTHON_PACKAGE}/ or {JS_DIR}/"
    )
    return findings, summary


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[1]
    findings, summary = check(root)
    for finding in findings:
        print(finding)
    if findings:
        print(f"structure: {len(findings)} finding(s)", file=sys.stderr)
        return 1
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
