"""Model-tier exploration: the logged probabilities are the ones the items were really drawn with."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest
from scipy import stats

from decision.tiers.model.explore import Exploration, explorations

RANKED = [("a", 0.40), ("b", 0.25), ("c", 0.20), ("d", 0.10), ("e", 0.05)]
DRAWS = 20_000


def _first_slot(exploration: Exploration, seed: int = 7) -> tuple[Counter[str], dict[str, float]]:
    rng = random.Random(seed)
    counts: Counter[str] = Counter()
    logged: dict[str, float] = {}
    for _ in range(DRAWS):
        content_id, _score, probability = exploration.choose(RANKED, 3, rng)[0]
        counts[content_id] += 1
        assert logged.setdefault(content_id, probability) == pytest.approx(probability)
    return counts, logged


@pytest.mark.parametrize("text", ["epsilon:0.2", "softmax:0.1"])
def test_first_slot_frequencies_match_the_logged_probabilities(text: str) -> None:
    counts, logged = _first_slot(Exploration.parse(text, "test"))
    assert sum(logged.values()) == pytest.approx(1.0)  # every item was drawn at least once here
    observed = [counts[c] for c, _ in RANKED]
    expected = [logged[c] * DRAWS for c, _ in RANKED]
    assert stats.chisquare(observed, expected).pvalue > 0.01


def test_epsilon_gives_the_best_item_one_minus_epsilon_plus_its_uniform_share() -> None:
    _, logged = _first_slot(Exploration.parse("epsilon:0.2", "test"))
    assert logged["a"] == pytest.approx(0.8 + 0.2 / 5)
    assert logged["e"] == pytest.approx(0.2 / 5)


def test_softmax_probabilities_are_the_normalized_exponentials_of_the_scores() -> None:
    _, logged = _first_slot(Exploration.parse("softmax:0.1", "test"))
    weights = {c: math.exp(s / 0.1) for c, s in RANKED}
    total = sum(weights.values())
    for content_id, weight in weights.items():
        assert logged[content_id] == pytest.approx(weight / total)


@pytest.mark.parametrize("text", ["epsilon:1", "softmax:0.001", "softmax:1000"])
def test_a_slate_never_repeats_an_item_and_stops_at_what_is_eligible(text: str) -> None:
    rng = random.Random(1)
    for _ in range(200):
        slate = Exploration.parse(text, "test").choose(RANKED, 10, rng)
        assert sorted(c for c, _, _ in slate) == sorted(c for c, _ in RANKED)
        assert all(0.0 < p <= 1.0 for _, _, p in slate)
    assert Exploration.parse(text, "test").choose([], 3, rng) == []


def test_a_tiny_temperature_is_greedy_and_says_so() -> None:
    slate = Exploration.parse("softmax:0.0001", "test").choose(RANKED, 3, random.Random(0))
    assert [(c, p) for c, _, p in slate] == [("a", 1.0), ("b", 1.0), ("c", 1.0)]


def test_ips_on_explored_logs_recovers_another_policys_value() -> None:
    """The point of exploring: 'always show c' is valued from traffic that mostly showed a."""
    click_rate = {"a": 0.05, "b": 0.08, "c": 0.12, "d": 0.02, "e": 0.01}
    rng, clicks = random.Random(3), random.Random(4)
    exploration = Exploration.parse("epsilon:0.2", "test")
    weighted = []
    for _ in range(100_000):
        content_id, _, probability = exploration.choose(RANKED, 1, rng)[0]
        reward = float(clicks.random() < click_rate[content_id])
        weighted.append(reward / probability if content_id == "c" else 0.0)
    estimate = sum(weighted) / len(weighted)
    assert estimate == pytest.approx(0.12, rel=0.1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("greedy", "not an exploration; use epsilon"),
        ("epsilon:x", "not an exploration"),
        ("epsilon:0", "epsilon must be in (0, 1]"),
        ("epsilon:1.5", "epsilon must be in (0, 1]"),
        ("softmax:0", "temperature must be > 0"),
        ("softmax:nan", "not an exploration"),
    ],
)
def test_a_bad_exploration_is_refused_naming_the_setting_and_placement(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"model_exploration\['home_banner'\]") as error:
        explorations({"home_banner": text}, "model_exploration")
    assert message in str(error.value)


def test_explorations_are_parsed_per_placement() -> None:
    parsed = explorations({"home_banner": "epsilon:0.05", "email": "softmax:0.2"}, "model_exploration")
    assert parsed == {"home_banner": Exploration("epsilon", 0.05), "email": Exploration("softmax", 0.2)}
    assert str(parsed["email"]) == "softmax:0.2"
