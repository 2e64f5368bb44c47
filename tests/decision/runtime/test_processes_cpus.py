"""Which CPU each child of `decision serve --processes N` is pinned to."""

from __future__ import annotations

import pytest

from decision.runtime.supervisor import child_cpus


@pytest.mark.parametrize(
    ("allowed", "expected"),
    [
        ({0, 1}, [0, 1]),
        ({7, 1, 3}, [1, 3, 7]),  # in CPU order, whatever the set's order
        ({5}, [5]),
    ],
)
def test_one_child_per_allowed_cpu_pins_each_to_its_own(allowed: set[int], expected: list[int]) -> None:
    assert child_cpus(len(allowed), allowed) == expected


@pytest.mark.parametrize(
    ("processes", "allowed"),
    [
        (3, {0, 1}),  # more children than CPUs: pinning would stack two on one CPU
        (2, set(range(64))),  # fewer: the CPUs are likely shared (CPU quota), not ours to claim
    ],
)
def test_no_child_is_pinned_unless_there_is_one_per_allowed_cpu(processes: int, allowed: set[int]) -> None:
    assert child_cpus(processes, allowed) == [None] * processes
