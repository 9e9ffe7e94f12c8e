"""The cyclic garbage collector paused while an analysis makes its objects."""

from __future__ import annotations

import gc
from contextlib import contextmanager


@contextmanager
def collector_paused():
    """The cyclic garbage collector off for a while, then as it was. An analysis makes
    thousands of small objects, none of them in a cycle, and the collector walking them
    again and again was a fifth of an analysis of densenet201 and a quarter of a 253-size
    sweep of resnet50 (issue 11). Reference counting frees as usual meanwhile; a cycle, if
    any, waits for the collector's next run."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
