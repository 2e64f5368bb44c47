"""Arm click rates per segment from the traffic simulator's ground truth, for the regret report.

Each arm is a catalog item shown at rank 1 on one placement; its rate in a segment is the mean
true click probability of that item over the segment's simulated users (training/traffic).
So the regret report runs on the same segments and behaviour the end-to-end tests drive the
server with, not on made-up numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from training.traffic.ground_truth import GroundTruth
from training.traffic.moment import Moment
from training.traffic.population import SIMULATION_START, draw_population


def segment_arm_rates(
    content_ids: Sequence[str], placement: str = "home_banner", users: int = 4000, seed: int = 0, world_seed: int = 7
) -> dict[str, tuple[float, ...]]:
    """segment -> the mean true click probability of each content id (in the given order)."""
    truth = GroundTruth(world_seed)
    moment = Moment(placement, SIMULATION_START)
    rates: dict[str, list[tuple[float, ...]]] = {}
    for user in draw_population(users, seed):
        rates.setdefault(user.segment, []).append(truth.click_probabilities(user, content_ids, moment))
    return {segment: tuple(np.mean(np.asarray(rows), axis=0).tolist()) for segment, rows in sorted(rates.items())}
