"""Intervals answer "above / below a value" and say no when undefined."""

from __future__ import annotations

from training.stats.comparison import Interval


def test_an_interval_is_above_or_below_zero_only_when_entirely_so() -> None:
    assert Interval(0.1, 0.3).is_above()
    assert not Interval(-0.1, 0.3).is_above()
    assert Interval(-0.3, -0.1).is_below()
    assert not Interval(-0.3, 0.0).is_below()


def test_an_undefined_interval_is_neither_above_nor_below() -> None:
    undefined = Interval.undefined()
    assert not undefined.is_above()
    assert not undefined.is_below()
