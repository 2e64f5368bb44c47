"""Target policies and the checks that keep a broken one out of the estimates."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from training.ope.policies import (
    ChosenActionPolicy,
    FixedActionPolicy,
    PolicyError,
    TablePolicy,
    UniformPolicy,
    checked_probabilities,
    policy_from_spec,
)

CONTEXTS = pd.DataFrame({"placement": ["home", "cart", "home"], "device": ["mobile", "mobile", "desktop"]})
ACTIONS = ("a", "b", "c")


def test_uniform_and_fixed_policies() -> None:
    assert checked_probabilities(UniformPolicy(), CONTEXTS, ACTIONS) == pytest.approx(np.full((3, 3), 1 / 3))
    fixed = checked_probabilities(FixedActionPolicy("b"), CONTEXTS, ACTIONS)
    assert fixed.tolist() == [[0.0, 1.0, 0.0]] * 3
    with pytest.raises(PolicyError, match="action 'z' was never logged; logged actions: a, b, c"):
        FixedActionPolicy("z").probabilities(CONTEXTS, ACTIONS)


def test_a_table_policy_is_looked_up_per_context_and_missing_actions_get_zero() -> None:
    table = pd.DataFrame(
        {
            "placement": ["home", "home", "cart"],
            "device": ["mobile", "desktop", "mobile"],
            "a": [1.0, 0.2, 0.0],
            "c": [0.0, 0.8, 1.0],
        }
    )
    policy = TablePolicy(table, ("placement", "device"), "candidate")
    assert checked_probabilities(policy, CONTEXTS, ACTIONS).tolist() == [[1.0, 0, 0], [0, 0, 1.0], [0.2, 0, 0.8]]
    one_key = TablePolicy(pd.DataFrame({"placement": ["home", "cart"], "b": [1.0, 1.0]}), ("placement",))
    assert checked_probabilities(one_key, CONTEXTS, ACTIONS)[:, 1].tolist() == [1.0, 1.0, 1.0]
    everywhere = TablePolicy(pd.DataFrame({"a": [0.5], "b": [0.5]}), ())
    assert checked_probabilities(everywhere, CONTEXTS, ACTIONS).tolist() == [[0.5, 0.5, 0.0]] * 3


def test_a_table_policy_refuses_unknown_contexts_columns_and_duplicates() -> None:
    partial = TablePolicy(
        pd.DataFrame({"placement": ["home"], "device": ["mobile"], "a": [1.0]}), ("placement", "device")
    )
    with pytest.raises(PolicyError, match=r"no probabilities for context \('cart', 'mobile'\)"):
        partial.probabilities(CONTEXTS, ACTIONS)
    with pytest.raises(PolicyError, match="no context column"):
        TablePolicy(pd.DataFrame({"segment": ["x"], "a": [1.0]}), ("segment",)).probabilities(CONTEXTS, ACTIONS)
    twice = pd.DataFrame({"placement": ["home", "home", "cart"], "a": [1.0, 1.0, 1.0]})
    with pytest.raises(PolicyError, match="appears twice"):
        TablePolicy(twice, ("placement",)).probabilities(CONTEXTS, ACTIONS)


class BrokenPolicy:
    name = "broken"

    def __init__(self, matrix: np.ndarray) -> None:
        self.matrix = matrix

    def probabilities(self, contexts: pd.DataFrame, actions: Sequence[str]) -> np.ndarray:
        return self.matrix


def test_a_matrix_that_is_not_a_distribution_per_context_is_refused_with_the_context() -> None:
    with pytest.raises(PolicyError, match=r"shape \(3, 2\), expected \(3, 3\)"):
        checked_probabilities(BrokenPolicy(np.full((3, 2), 0.5)), CONTEXTS, ACTIONS)
    bad = np.full((3, 3), 1 / 3)
    bad[1] = [0.5, 0.5, 0.5]
    with pytest.raises(
        PolicyError, match=r"context \{'placement': 'cart', 'device': 'mobile'\} are not a distribution \(sum 1.5"
    ):
        checked_probabilities(BrokenPolicy(bad), CONTEXTS, ACTIONS)


def test_policies_from_the_command_line() -> None:
    assert isinstance(policy_from_spec("uniform"), UniformPolicy)
    assert policy_from_spec("fixed:B") == FixedActionPolicy("B")
    assert policy_from_spec("fixed:B").name == "always B"
    with pytest.raises(PolicyError, match="use 'uniform', 'fixed:<action>'"):
        policy_from_spec("fixed:")


def test_a_split_from_the_command_line_is_normalized_and_zero_elsewhere() -> None:
    split = policy_from_spec("weights:a=1,c=3")
    assert split.name == "split a 25%, c 75%"
    assert checked_probabilities(split, CONTEXTS, ACTIONS) == pytest.approx(np.tile([0.25, 0.0, 0.75], (3, 1)))
    for bad in ("weights:a=x", "weights:=1", "weights:a=-1", "weights:a=0"):
        with pytest.raises(PolicyError, match="weights:"):
            policy_from_spec(bad)


def test_a_chosen_action_policy_takes_its_columns_action() -> None:
    contexts = CONTEXTS.assign(choice=["c", "a", "c"])
    matrix = checked_probabilities(ChosenActionPolicy("choice"), contexts, ACTIONS)
    assert matrix.tolist() == [[0, 0, 1], [1, 0, 0], [0, 0, 1]]
    with pytest.raises(PolicyError, match="chooses z, not in the action set"):
        ChosenActionPolicy("choice").probabilities(CONTEXTS.assign(choice="z"), ACTIONS)
    with pytest.raises(PolicyError, match="no context column choice"):
        ChosenActionPolicy("choice").probabilities(CONTEXTS, ACTIONS)
