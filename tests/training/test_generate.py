"""The synthetic generator: deterministic, sized, and consistent with its catalog."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from decision.sources.catalog import Catalog
from training.generate import World, write
from training.io import Inputs
from training.truth import CONTENT_VOCAB, PLACEMENTS, content_vocab


def test_same_seed_same_log(tmp_path: Path) -> None:
    a, b, c = World(11), World(11), World(12)
    for world in (a, b, c):
        world.run(2_000)
    assert a.events == b.events
    assert a.truths == b.truths
    assert a.events != c.events


def test_sizes_and_files(world_dir: Path, inputs: Inputs) -> None:
    assert 6_000 <= len(inputs.events) < 6_500
    catalog = Catalog.load(world_dir / "catalog.json")
    assert catalog.content_ids == CONTENT_VOCAB
    for placement in PLACEMENTS:
        assert any(placement in item.placements for item in catalog.items)
    assert any(item.regions for item in catalog.items)
    assert any(item.active_from for item in catalog.items)
    assert set(inputs.events["event_type"]) == {
        "view",
        "click",
        "add_to_cart",
        "remove_from_cart",
        "purchase",
    }
    assert inputs.ground_truth is not None
    assert len(inputs.ground_truth) == int((inputs.events["event_type"] == "click").sum())
    assert inputs.users is not None
    assert set(inputs.users["segment"]) >= {"new", "loyal"}


def test_csv_output(tmp_path: Path) -> None:
    world = World(5)
    world.run(1_000)
    paths = write(tmp_path, world, "csv")
    assert len(pd.read_csv(paths["events"])) == len(world.events)


def test_a_larger_catalog_keeps_the_default_world_for_five_per_category(tmp_path: Path) -> None:
    """--items-per-category scales the catalog; the default of five is the 40-item world."""
    large = World(5, per_category=125)
    large.run(1_500)
    assert large.catalog.content_ids == content_vocab(125)
    assert len(large.catalog) == 1_000
    clicked = {row[3] for row in large.events if row[2] == "click"}
    assert clicked <= set(large.catalog.content_ids)
    assert World(5).catalog.content_ids == CONTENT_VOCAB
