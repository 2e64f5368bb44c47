"""The shapes the tests return: an interval, and one arm's comparison with its control."""

from __future__ import annotations

import math
from dataclasses import dataclass

NAN = math.nan


@dataclass(frozen=True)
class Interval:
    """A two-sided interval; NaN bounds mean "not estimable from these data"."""

    low: float
    high: float

    @classmethod
    def undefined(cls) -> Interval:
        return cls(NAN, NAN)

    def is_above(self, value: float = 0.0) -> bool:
        """True when the whole interval lies above `value` (False when undefined)."""
        return self.low > value

    def is_below(self, value: float = 0.0) -> bool:
        """True when the whole interval lies below `value` (False when undefined)."""
        return self.high < value


@dataclass(frozen=True)
class Comparison:
    """An arm against control at a fixed horizon.

    `standard_error` is the unpooled standard error of the absolute difference: the
    sequential interval is built from it, so both views of one arm share their inputs.
    """

    absolute: float
    absolute_interval: Interval
    relative: float
    relative_interval: Interval
    p_value: float
    standard_error: float
