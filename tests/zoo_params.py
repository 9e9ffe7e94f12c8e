"""Every built-in network as pytest parameters: a study gives one per variant."""

from __future__ import annotations

import pytest

from cnncalc.analysis.pipeline import load
from cnncalc.model.zoo import zoo_names


def zoo_specs() -> list:
    """One ``pytest.param`` per network (id: its name) or per variant (``name:variant``)."""
    params = []
    for name in zoo_names():
        spec = load(name)
        if spec.variants is None:
            params.append(pytest.param(spec, id=name))
        else:
            params += [
                pytest.param(variant, id=f"{name}:{key}") for key, variant in spec.variants.items()
            ]
    return params
