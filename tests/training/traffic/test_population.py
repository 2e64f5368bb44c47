"""Simulated users: reproducible from the seed, distributed like the generator's users."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy.stats import chisquare
from statsmodels.stats.proportion import proportion_confint

from training.generate import DEVICE_SHARES, REGION_SHARES, SEGMENTS
from training.traffic.population import SIMULATION_START, SimUser, draw_population, user_id
from training.truth import CONTENT_VOCAB, DEVICES, REGIONS


def as_tuple(user: SimUser) -> tuple[object, ...]:
    return (
        user.user_id,
        user.segment,
        user.region,
        user.device,
        user.consent,
        user.taste.tolist(),
        user.clicks.tolist(),
        user.sessions,
        user.spend,
        user.last_seen,
    )


def test_the_same_seed_draws_the_same_users_and_another_seed_others() -> None:
    first, again, other = draw_population(500, 11), draw_population(500, 11), draw_population(500, 12)
    assert [as_tuple(u) for u in first] == [as_tuple(u) for u in again]
    assert [u.segment for u in first] != [u.segment for u in other]


def test_ids_are_stable_and_pseudonymous() -> None:
    users = draw_population(200, 1)
    assert user_id(123) == "sim-u000123"
    assert [u.user_id for u in users] == [f"sim-u{i:06d}" for i in range(200)]
    assert all(re.fullmatch(r"sim-u\d{6}", u.user_id) for u in users)


@pytest.mark.parametrize(
    ("attribute", "names", "shares"),
    [
        ("segment", list(SEGMENTS), [s[0] for s in SEGMENTS.values()]),
        ("region", list(REGIONS), list(REGION_SHARES)),
        ("device", list(DEVICES), list(DEVICE_SHARES)),
    ],
)
def test_users_are_spread_like_the_generators(attribute: str, names: list[str], shares: list[float]) -> None:
    users = draw_population(20_000, 5)
    counts = [sum(getattr(u, attribute) == name for u in users) for name in names]
    assert chisquare(counts, np.asarray(shares) * len(users)).pvalue > 0.001


def test_the_consent_share_is_honoured() -> None:
    users = draw_population(20_000, 5, consent_share=0.9)
    low, high = proportion_confint(sum(u.consent for u in users), len(users), alpha=0.01, method="wilson")
    assert low <= 0.9 <= high
    assert not any(u.consent for u in draw_population(300, 5, consent_share=0.0))


def test_histories_follow_the_segment() -> None:
    users = draw_population(20_000, 6)
    sessions = {s: np.mean([u.sessions for u in users if u.segment == s]) for s in SEGMENTS}
    for segment, (_, mean_sessions, _) in SEGMENTS.items():
        assert sessions[segment] == pytest.approx(mean_sessions, rel=0.05)
    assert all(u.last_seen is not None for u in users)
    days_away = {
        s: [(SIMULATION_START - u.last_seen).days for u in users if u.segment == s and u.last_seen] for s in SEGMENTS
    }
    assert min(days_away["lapsed"]) >= 45
    assert max(days_away["new"]) <= 27
    assert all(u.taste.sum() == pytest.approx(1.0) and u.clicks.shape == (len(CONTENT_VOCAB),) for u in users[:100])


@pytest.mark.parametrize(
    ("n", "share", "message"),
    [(0, 0.9, "need at least 1 user"), (10, 1.5, "consent share 1.5 is not a share")],
)
def test_bad_arguments_are_named(n: int, share: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        draw_population(n, 1, consent_share=share)
