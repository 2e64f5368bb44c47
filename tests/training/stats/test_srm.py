"""Sample-ratio mismatch: balanced splits pass, skewed or dead arms are flagged."""

from __future__ import annotations

import pytest

from training.stats.srm import check_sample_ratio


def test_a_split_close_to_the_weights_passes() -> None:
    check = check_sample_ratio({"control": 10_030, "b": 9_970}, {"control": 0.5, "b": 0.5})
    assert check.p_value > 0.5
    assert not check.mismatch


def test_a_skewed_split_is_flagged_with_the_textbook_statistic() -> None:
    check = check_sample_ratio({"control": 10_000, "b": 10_500}, {"control": 1, "b": 1})
    assert check.statistic == pytest.approx(2 * 250**2 / 10_250)
    assert check.p_value < 0.001
    assert check.mismatch


def test_uneven_weights_are_respected() -> None:
    check = check_sample_ratio({"control": 8_000, "b": 2_000}, {"control": 0.8, "b": 0.2})
    assert check.expected == pytest.approx({"control": 8_000, "b": 2_000})
    assert not check.mismatch


def test_a_dead_arm_and_an_arm_declared_off_are_mismatches() -> None:
    assert check_sample_ratio({"control": 5_000}, {"control": 0.5, "b": 0.5}).mismatch
    assert check_sample_ratio({"control": 5_000, "b": 40}, {"control": 1.0, "b": 0.0}).mismatch


def test_exposures_in_an_undeclared_arm_are_refused() -> None:
    with pytest.raises(ValueError, match=r"arms \['c'\] have exposures but no declared weight"):
        check_sample_ratio({"control": 10, "c": 3}, {"control": 1.0})
