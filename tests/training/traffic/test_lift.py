"""Lift specs: read as written, refused with the spec quoted when they cannot be."""

from __future__ import annotations

import pytest

from training.generate import SEGMENTS
from training.traffic.lift import ALL_SEGMENTS, Lift, LiftError, lift_table, parse_lift


def test_a_spec_is_read_as_written() -> None:
    assert parse_lift("content=home-3,segment=loyal,lift=0.10") == Lift("home-3", "loyal", 0.10)
    assert parse_lift(" content = cart_reminder , lift = -0.25 ") == Lift("cart_reminder", ALL_SEGMENTS, -0.25)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("content=home-3,segment=loyal", "needs content= and lift="),
        ("content=home-3,lift=0.1,segment=vip", "unknown segment 'vip'"),
        ("content=home-3,lift=ten", "lift 'ten' is not a number"),
        ("content=home-3,lift=-1", "finite number above -1"),
        ("content=home-3,lift=inf", "finite number above -1"),
        ("content=home-3,lift=0.1,lift=0.2", "unexpected or repeated key 'lift'"),
        ("content=home-3,colour=red,lift=0.1", "unexpected or repeated key 'colour'"),
        ("home-3,lift=0.1", "'home-3' is not key=value"),
    ],
)
def test_a_bad_spec_is_quoted_with_what_to_write(spec: str, message: str) -> None:
    with pytest.raises(LiftError, match=message) as refused:
        parse_lift(spec)
    assert repr(spec) in str(refused.value)


def test_a_table_expands_all_segments_and_refuses_a_double_plant() -> None:
    table = lift_table([Lift("home-3", "loyal", 0.1), Lift("cart_reminder", ALL_SEGMENTS, 0.5)])
    assert table[("home-3", "loyal")] == pytest.approx(1.1)
    assert {s for (c, s) in table if c == "cart_reminder"} == set(SEGMENTS)
    with pytest.raises(LiftError, match="home-3 in segment loyal is planted twice"):
        lift_table([Lift("home-3", "loyal", 0.1), Lift("home-3", ALL_SEGMENTS, 0.2)])
