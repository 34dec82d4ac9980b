"""Fixtures of the confidential evidence tests: the page's module (page_module.py) and
Debian's `age` CLI."""

from __future__ import annotations

import os
import shutil

import pytest
from page_module import run_page_module


@pytest.fixture(scope="session")
def page_module():
    return run_page_module


@pytest.fixture(scope="session")
def age_cli() -> str:
    """The reference implementation's CLI (`make setup` installs Debian's `age`)."""
    path = os.environ.get("AGE") or shutil.which("age")
    assert path and os.path.exists(path), "Debian's age is missing: run `make setup`"
    return path
