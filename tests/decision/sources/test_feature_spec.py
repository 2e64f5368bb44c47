"""The feature spec: a versioned artifact that round-trips, and refuses what it cannot use."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from decision.sources.feature_spec import FeatureSpec, FeatureSpecError, ItemStats
from tests.decision.sources.test_features import make_spec


def test_save_and_load_give_the_same_spec_and_statistics(tmp_path: Path) -> None:
    spec = make_spec()
    spec.save(tmp_path / "spec.json")
    again = FeatureSpec.load(tmp_path / "spec.json")
    assert again == spec
    assert (again.version, again.layout) == (spec.version, spec.layout)
    for name in ("clicks", "recent", "engaged_users", "order_sum", "successors", "near_out", "follows", "next", "near"):
        assert (getattr(again.stats, name) == getattr(spec.stats, name)).all(), name
    assert again.stats.clicks_total == spec.stats.clicks_total
    assert again.item_category_codes.tolist() == [1, 1, 2, 0]
    assert again.not_repeatable == frozenset({2, 3})


def test_new_statistics_change_the_version_but_not_the_layout() -> None:
    spec = make_spec()
    stats = ItemStats(4, 5)
    newer = dataclasses.replace(spec, stats=stats)
    assert newer.version != spec.version
    assert newer.layout == spec.layout
    assert dataclasses.replace(spec, regions=("X",)).layout != spec.layout
    assert dataclasses.replace(spec, repeatable=(True,) * 4).version != spec.version


def test_an_edited_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "spec.json"
    make_spec().save(path)
    doc = json.loads(path.read_text())
    doc["regions"] = ["X", "Y", "Z"]
    path.write_text(json.dumps(doc))
    with pytest.raises(FeatureSpecError, match=r"spec\.json: content does not match its version"):
        FeatureSpec.load(path)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.pop("regions"), "missing field 'regions'"),
        (lambda d: d.update(format="other"), "not a feature spec"),
        (lambda d: d.update(format_version=99), "format_version 99, expected 1"),
        (lambda d: d["stats"].update(clicks=[1, 2]), r"stats\.clicks: expected 4 finite counts"),
        (lambda d: d["stats"].update(follows=[[0], [9], [1]]), r"stats\.follows: expected \[rows, columns, counts\]"),
        (lambda d: d.update(candidate_limit=0), "candidate_limit: expected a positive integer"),
        (lambda d: d.update(context_items=["a1"]), "context_items: expected content ids that are not catalog items"),
    ],
)
def test_bad_content_is_named(tmp_path: Path, edit: object, message: str) -> None:
    path = tmp_path / "spec.json"
    make_spec().save(path)
    doc = json.loads(path.read_text())
    doc.pop("version")
    edit(doc)  # type: ignore[operator]
    path.write_text(json.dumps(doc))
    with pytest.raises(FeatureSpecError, match=message):
        FeatureSpec.load(path)


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "spec.json").write_text("{")
    with pytest.raises(FeatureSpecError, match=r"spec\.json: cannot read the feature spec \(JSONDecodeError\)"):
        FeatureSpec.load(tmp_path / "spec.json")
