"""Evidence store tests touch no contract (the `ipfs_node` fixture is in tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolation():
    """No chain snapshot: the evidence stores touch no contract (overrides tests/conftest.py)."""
