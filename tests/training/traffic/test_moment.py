"""The stream of questions a run asks: fixed by the seed, whatever the batch size; carts where the rules look."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from scipy.stats import chisquare

from training.traffic.moment import PLACEMENT_SHARES, MomentStream
from training.traffic.population import SIMULATION_START, draw_population

USERS = draw_population(300, 4)


def test_the_questions_do_not_depend_on_how_they_are_taken() -> None:
    whole = MomentStream(USERS, 4, SIMULATION_START, 7.0).take(3_000)
    pieces = MomentStream(USERS, 4, SIMULATION_START, 7.0)
    taken = [*pieces.take(7), *pieces.take(1_500), *pieces.take(1_493)]
    assert [(u.user_id, m) for u, m in whole] == [(u.user_id, m) for u, m in taken]
    other = MomentStream(USERS, 5, SIMULATION_START, 7.0).take(100)
    assert [m for _, m in other] != [m for _, m in whole[:100]]


def test_placements_times_and_carts_follow_the_documented_mix() -> None:
    moments = [m for _, m in MomentStream(USERS, 4, SIMULATION_START, 3.0).take(20_000)]
    counts = [sum(m.placement == p for m in moments) for p in PLACEMENT_SHARES]
    assert chisquare(counts, np.asarray(list(PLACEMENT_SHARES.values())) * len(moments)).pvalue > 0.001
    assert all(SIMULATION_START <= m.at < SIMULATION_START + timedelta(days=3) for m in moments)
    assert all(m.cart_items > 0 and m.cart_idle_minutes is not None for m in moments if m.placement == "cart_page")
    assert all(m.channel == "email" for m in moments if m.placement == "email")
    elsewhere = [m for m in moments if m.placement != "cart_page"]
    assert 0.12 < np.mean([m.cart_items > 0 for m in elsewhere]) < 0.18
    assert any(m.cart_value >= 200 for m in moments)  # the premium reminder's threshold is reached
