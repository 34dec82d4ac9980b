"""The page's rules (web/js/rules.js: who may do what, when; what a form may hold), run in Node
against the statuses and change actions this service serves the page: a unit test of pure
functions; the browser tests show the same rules on real deals."""

import json
import os
import subprocess

from backend.routers.web import CHANGE_ACTIONS, STATUSES
from backend.settings import ROOT


def test_the_rules_decide_who_may_do_what_when():
    vocabulary = {"statuses": STATUSES.model_dump(), "change_actions": CHANGE_ACTIONS}
    run = subprocess.run(
        ["node", "--test", str(ROOT / "tests" / "js" / "rules.test.mjs")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PAGE_VOCABULARY": json.dumps(vocabulary)},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "# pass 10" in run.stdout and "# fail 0" in run.stdout
