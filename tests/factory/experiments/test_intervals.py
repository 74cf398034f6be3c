"""The 95% interval over seeds."""

from __future__ import annotations

import math

import pytest

from factory.errors import FactoryError
from factory.experiments.intervals import t_interval

T_975_DF2 = 4.302652729911275  # Student t quantile, 0.975, 2 degrees of freedom (tables)


def test_three_seeds_give_the_t_interval() -> None:
    iv = t_interval([0.80, 0.82, 0.84])
    half = T_975_DF2 * 0.02 / math.sqrt(3)
    assert iv.n == 3
    assert iv.mean == pytest.approx(0.82)
    assert iv.low == pytest.approx(0.82 - half)
    assert iv.high == pytest.approx(0.82 + half)
    assert iv.describe() == "0.820 [0.770, 0.870]"


def test_more_seeds_and_equal_values() -> None:
    five = t_interval([0.1, 0.2, 0.3, 0.4, 0.5])
    sd = math.sqrt(0.025)
    assert five.high - five.mean == pytest.approx(2.7764451051977987 * sd / math.sqrt(5))
    flat = t_interval([0.5, 0.5])
    assert (flat.low, flat.high) == (0.5, 0.5)


def test_one_seed_has_no_interval_and_bad_input_is_refused() -> None:
    one = t_interval([0.7])
    assert (one.mean, one.low, one.high) == (0.7, None, None)
    assert one.describe() == "0.700"
    assert one.as_list() == [None, None]
    with pytest.raises(FactoryError, match="at least one"):
        t_interval([])
    with pytest.raises(FactoryError, match="finite"):
        t_interval([0.5, float("nan")])
    with pytest.raises(FactoryError, match="confidence"):
        t_interval([0.5, 0.6], confidence=1.5)


@pytest.mark.parametrize(
    "module",
    [
        "factory.experiments.config",
        "factory.experiments.intervals",
        "factory.experiments.report",
        "factory.experiments.utility",
    ],
)
def test_module_examples_run(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
