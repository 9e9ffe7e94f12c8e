"""How often the hypothesis strategies of the PyTorch comparisons draw a layer that is refused.

    PYTHONPATH=.:tests python scripts/refusal_rate.py [EXAMPLES]

tests/test_shapes_vs_torch.py: the share of single-layer draws PyTorch refuses (its
messages, as the test reads them). tests/test_executor_graphs.py: the share of drawn
layers and joins the calculator refuses and the strategy drops (the shape tests show the
calculator and PyTorch refuse the same configurations). Issue 8 measured 62–76 % refused
for the single layers when the strategies filtered into the valid region; built inside it,
about one draw in ten lies just past its edge on purpose.
"""

from __future__ import annotations

import sys

import test_executor_graphs as graphs
import test_shapes_vs_torch as shapes
from hypothesis import HealthCheck, Phase, given, settings


def draws(strategy, examples: int) -> list:
    """``examples`` values of a strategy, generated as a test run would (no shrinking)."""
    seen = []

    @settings(
        max_examples=examples,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value):
        seen.append(value)

    collect()
    return seen


def main(examples: int) -> None:
    for name, strategy, layer in [
        ("conv", shapes.conv_case(), shapes.conv_layer),
        ("pool", shapes.pool_case(), shapes.pool_layer),
        ("deconv", shapes.deconv_case(), shapes.deconv_layer),
    ]:
        cases = draws(strategy, examples)
        refused = sum(shapes.actual(layer(case)[2]) is None for case in cases)
        print(f"test_shapes_vs_torch {name}: {refused / len(cases):.1%} of {len(cases)} refused")
    tried: list[bool] = []
    try_add = graphs.Net.try_add

    def counted(net, item) -> bool:
        tried.append(try_add(net, item))
        return tried[-1]

    graphs.Net.try_add = counted
    networks = len(draws(graphs.networks(), examples))
    dropped = tried.count(False)
    print(
        f"test_executor_graphs: {dropped / len(tried):.1%} of {len(tried)} drawn items "
        f"refused and dropped, in {networks} networks"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 400)
