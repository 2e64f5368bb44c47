"""Shared fixtures: one small generated world per test session (a few thousand events)."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.generate import World, write
from training.io import DataPaths, Inputs, load

SMALL_EVENTS = 6_000


@pytest.fixture(scope="session")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    world = World(seed=3)
    world.run(SMALL_EVENTS)
    write(out, world)
    return out


@pytest.fixture(scope="session")
def inputs(world_dir: Path) -> Inputs:
    return load(DataPaths.in_dir(world_dir))
