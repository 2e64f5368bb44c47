"""Shared fixtures: one small generated world per test session (a few thousand events)."""

from __future__ import annotations

from pathlib import Path

import pytest

from decision.privacy import Pseudonymizer
from tests.conftest import TEST_USER_KEY
from training.generate import World, write
from training.io import DataPaths, Inputs, load

SMALL_EVENTS = 6_000
#: A fixed secret, so tests never create or read the checkout's var/user.key.
TEST_KEYS = Pseudonymizer(bytes.fromhex(TEST_USER_KEY))


@pytest.fixture(scope="session")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    world = World(seed=3)
    world.run(SMALL_EVENTS)
    write(out, world)
    return out


@pytest.fixture(scope="session")
def inputs(world_dir: Path) -> Inputs:
    return load(DataPaths.in_dir(world_dir), TEST_KEYS)
