"""One discovery over the session's small generated world (about 150 users)."""

from __future__ import annotations

import pytest

from training.io import Inputs
from training.segments.discovery import SegmentDiscovery, discover


@pytest.fixture(scope="session")
def discovery(inputs: Inputs) -> SegmentDiscovery:
    return discover(inputs.events, inputs.users, k_range=range(2, 6), min_size=10, bootstrap=3, seed=1)
