"""tools/check_structure.py (run by `make lint`) on small trees made for each test: it finds
import cycles in Python and in ES modules, and files over the size limit, and passes a clean
tree."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[1] / "tools" / "check_structure.py"
_spec = importlib.util.spec_from_file_location("check_structure", TOOL)
assert _spec and _spec.loader
check_structure = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_structure)


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for folder in ("backend", "scripts", "web/js"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    return root


CLEAN = {
    "backend/__init__.py": "",
    "backend/terms.py": "X = 1\n",
    "backend/chain.py": "from backend.terms import X\nimport backend.terms\n",
    "backend/routers/__init__.py": "",
    "backend/routers/deals.py": "from .. import chain\nfrom backend import terms\n",
    "scripts/demo.py": "from backend.routers import deals\n",
    "web/js/ui.js": "export const x = 1;\n",
    "web/js/app.js": 'import { x } from "./ui.js";\nimport { ethers } from "./vendor/ethers.js";\n',
}


def test_clean_tree_passes(tmp_path, capsys):
    root = tree(tmp_path, CLEAN)
    assert check_structure.check(root)[0] == []
    assert check_structure.main(["check_structure.py", str(root)]) == 0
    assert "no import cycle" in capsys.readouterr().out


def test_python_cycle_is_found_with_its_path(tmp_path, capsys):
    root = tree(
        tmp_path,
        {
            **CLEAN,
            # terms -> chain (lazily, inside a function) -> terms
            "backend/terms.py": "def f():\n    from backend import chain\n",
        },
    )
    findings, _ = check_structure.check(root)
    assert findings == ["import cycle in backend/: backend.chain -> backend.terms -> backend.chain"]
    assert check_structure.main(["check_structure.py", str(root)]) == 1
    assert "backend.chain -> backend.terms -> backend.chain" in capsys.readouterr().out


def test_relative_import_cycle_is_found(tmp_path):
    root = tree(
        tmp_path,
        {
            **CLEAN,
            "backend/routers/offers.py": "from .deals import f\n",
            "backend/routers/deals.py": "from . import offers\n",
        },
    )
    cycles = check_structure.find_cycles(check_structure.python_graph(root))
    assert cycles == [["backend.routers.deals", "backend.routers.offers", "backend.routers.deals"]]


def test_imports_for_type_checking_only_are_no_cycle(tmp_path):
    root = tree(
        tmp_path,
        {
            **CLEAN,
            "backend/terms.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from backend.chain import Chain\n"
            ),
        },
    )
    assert check_structure.check(root)[0] == []


@pytest.mark.parametrize(
    "b_js",
    [
        'import {\n  a,\n  b,\n} from "./a.js";\n',  # over several lines
        'export { a } from "./a.js";\n',
        'import "./a.js";\n',
        'const m = await import("./a.js");\n',
    ],
)
def test_js_cycle_is_found(tmp_path, b_js):
    root = tree(
        tmp_path,
        {**CLEAN, "web/js/a.js": "import { b } from './b.js';\n", "web/js/b.js": b_js},
    )
    assert check_structure.check(root)[0] == [
        "import cycle in web/js/: web/js/a.js -> web/js/b.js -> web/js/a.js"
    ]


def test_commented_out_js_import_is_no_cycle(tmp_path):
    root = tree(
        tmp_path,
        {
            **CLEAN,
            "web/js/a.js": 'import { b } from "./b.js";\n',
            "web/js/b.js": '// import { a } from "./a.js";\n/* import "./a.js"; */\n',
        },
    )
    assert check_structure.check(root)[0] == []


def test_files_over_the_limit_are_named_with_their_length(tmp_path):
    limit = check_structure.MAX_LINES
    root = tree(
        tmp_path,
        {
            **CLEAN,
            "backend/long.py": "x = 1\n" * (limit + 1),
            "scripts/at_limit.py": "x = 1\n" * limit,
            "web/js/long.js": "let x;\n" * (limit + 5),
        },
    )
    assert check_structure.check(root)[0] == [
        f"backend/long.py: {limit + 1} lines (limit {limit})",
        f"web/js/long.js: {limit + 5} lines (limit {limit})",
    ]


def test_a_longer_cycle_is_printed_in_order(tmp_path):
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert check_structure.find_cycles(graph) == [["a", "b", "c", "a"]]
