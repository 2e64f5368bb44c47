"""p-value adjustment over the family, against worked examples."""

from __future__ import annotations

import numpy as np
import pytest

from training.stats.multiple import adjust_p_values


def test_benjamini_hochberg_reproduces_the_worked_example_in_input_order() -> None:
    adjusted = adjust_p_values([0.898, 0.138, 0.007, 0.964, 0.538, 0.006, 0.138], "bh")
    assert adjusted == pytest.approx([0.964, 0.2415, 0.0245, 0.964, 0.7532, 0.0245, 0.2415], abs=5e-5)


def test_holm_reproduces_the_worked_example_in_input_order() -> None:
    adjusted = adjust_p_values([0.01, 0.04, 0.03, 0.005, 0.55, 0.6], "holm")
    assert adjusted == pytest.approx([0.05, 0.12, 0.12, 0.03, 1.0, 1.0])


def test_bonferroni_multiplies_by_the_family_size_and_caps_at_one() -> None:
    assert adjust_p_values([0.01, 0.2, 0.5], "bonferroni") == pytest.approx([0.03, 0.6, 1.0])


def test_missing_comparisons_stay_missing_and_do_not_count() -> None:
    adjusted = adjust_p_values([0.01, np.nan, 0.02], "bonferroni")
    assert adjusted[0] == pytest.approx(0.02)
    assert np.isnan(adjusted[1])
    assert adjust_p_values([0.01, 0.2], "none") == pytest.approx([0.01, 0.2])


def test_an_unknown_correction_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="unknown correction 'fdr'; choose one of holm, bh, bonferroni, none"):
        adjust_p_values([0.1], "fdr")
