"""The page's confidential module (web/js/confidential.js) called from Python: node runs
tests/js/confidential.mjs with the page's vendored imports resolved (tests/js/vendor.mjs)."""

from __future__ import annotations

import json
import subprocess

from backend.settings import ROOT


class PageModuleRefused(Exception):
    """The page's module refused the input with a ConfidentialError (its message)."""


def run_page_module(op: str, **request) -> dict:
    """One call of the page's module: the answer, or PageModuleRefused with its message."""
    run = subprocess.run(
        ["node", "--import", "./tests/js/vendor.mjs", "tests/js/confidential.mjs"],
        input=json.dumps({"op": op, **request}),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    if run.returncode == 1 and run.stdout.startswith('{"error"'):
        raise PageModuleRefused(json.loads(run.stdout)["error"])
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads(run.stdout)
