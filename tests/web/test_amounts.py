"""The page's amount parsing and formatting (web/js/format.js), run in Node: a unit test of pure
functions; the browser tests show the same functions on real deals."""

import subprocess

from backend.settings import ROOT


def test_amounts_are_formatted_and_parsed_exactly():
    run = subprocess.run(
        ["node", "--test", str(ROOT / "tests" / "js" / "amounts.test.mjs")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "# pass 4" in run.stdout and "# fail 0" in run.stdout
