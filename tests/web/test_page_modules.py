"""The page's modules (web/js/) stay small and import one way: no file over 400 lines, every
relative import names a file that exists, and no module imports itself back through others
(pages get `nav` from the router instead of importing it). Reads the import lines; runs
nothing."""

import re
from pathlib import Path

from backend.settings import ROOT

WEB_JS = ROOT / "web" / "js"
MAX_LINES = 400
# import ... from "./x.js", export ... from "../x.js", import "./x.js" (one line or several)
RELATIVE_IMPORT = re.compile(r"""\b(?:from|import)\s*["'](\.\.?/[^"']+)["']""")
# Served by the service from node_modules (backend/routers/web.py), not a file under web/.
VENDOR = ROOT / "web" / "vendor"


def modules() -> dict[Path, list[Path]]:
    """Each module under web/js and the modules it imports."""
    graph = {}
    for path in sorted(WEB_JS.rglob("*.js")):
        targets = (path.parent / spec for spec in RELATIVE_IMPORT.findall(path.read_text()))
        graph[path] = [t.resolve() for t in targets if VENDOR not in t.resolve().parents]
    return graph


def cycle(graph: dict[Path, list[Path]]) -> list[Path] | None:
    """One import cycle of `graph` as the path that closes it, or None."""
    done: set[Path] = set()
    path: list[Path] = []

    def visit(node: Path) -> list[Path] | None:
        if node in path:
            return path[path.index(node) :] + [node]
        if node in done:
            return None
        path.append(node)
        for target in graph.get(node, []):
            if found := visit(target):
                return found
        path.pop()
        done.add(node)
        return None

    for node in graph:
        if found := visit(node):
            return found
    return None


def test_every_module_is_under_the_line_limit():
    sizes = {p.relative_to(ROOT): len(p.read_text().splitlines()) for p in modules()}
    assert len(sizes) > 10, sizes
    assert {p: n for p, n in sizes.items() if n > MAX_LINES} == {}


def test_every_relative_import_names_a_module():
    graph = modules()
    missing = {(p.name, t.name) for p, targets in graph.items() for t in targets if t not in graph}
    assert missing == set()


def test_no_import_cycle():
    graph = modules()
    assert sum(map(len, graph.values())) > 20  # the imports were read
    found = cycle(graph)
    assert found is None, " -> ".join(str(p.relative_to(WEB_JS)) for p in found)


def test_a_cycle_would_be_found():
    a, b, c = (WEB_JS / f"{name}.js" for name in "abc")
    assert cycle({a: [b], b: [c], c: [a]}) == [a, b, c, a]
    assert cycle({a: [b, c], b: [c], c: []}) is None
    assert RELATIVE_IMPORT.findall('import {\n  x,\n} from "../x.js";\nimport "./y.js";') == [
        "../x.js",
        "./y.js",
    ]
