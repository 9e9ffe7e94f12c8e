"""Optional test tools (torch, the peer FLOP counters): imported when installed, else None.

A test that needs one carries ``@pytest.mark.requires("torch")`` (tests/conftest.py), so a
missing tool skips that test alone and never the torch-free tests of the same module.
"""

from __future__ import annotations

import importlib
import importlib.util


def optional_module(name: str):
    """The module ``name``, or None when it is not installed."""
    if importlib.util.find_spec(name) is None:
        return None
    return importlib.import_module(name)
