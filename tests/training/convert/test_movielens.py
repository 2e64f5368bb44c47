"""MovieLens ratings as an event log, and the issue's real-data target on MovieLens 100k.

The real log comes inside the recbole wheel on PyPI, which `make data` downloads to
var/cache/wheels (the repository does not redistribute it). Without it the real-data
test fails (it does not skip): the check is a target.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from decision.sources.catalog import Catalog
from training.convert.movielens import SourceError, convert
from training.io import DataPaths
from training.pipeline import TrainConfig, evaluate_booster, prepare
from training.train import fit

REPO = Path(__file__).resolve().parents[3]
WHEEL = REPO / "var" / "cache" / "wheels" / "recbole-1.2.1-py3-none-any.whl"
MISSING = f"{WHEEL} not found: run `make data` (pip download recbole==1.2.1 --no-deps --dest var/cache/wheels)"


def atomic(folder: Path) -> Path:
    """A tiny RecBole atomic data set: three users, three movies."""
    folder.mkdir()
    (folder / "tiny.inter").write_text(
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
        "1\t10\t4\t881250949\n2\t10\t3\t881250950\n2\t20\t5\t881250960\n3\t30\t1\t881250970\n3\t10\t2\t881250971\n"
    )
    (folder / "tiny.item").write_text(
        "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
        "10\tA\t1995\tAnimation Children's Comedy\n20\tB\t1995\tDrama\n30\tC\t1990\t\n"
    )
    return folder


def test_every_rating_becomes_a_click_on_m_id_in_one_placement(tmp_path: Path) -> None:
    paths = convert(atomic(tmp_path / "src"), tmp_path / "out", catalog_size=2)
    events = pd.read_csv(paths["events"])
    assert len(events) == 5
    assert set(events["event_type"]) == {"click"}
    assert set(events["placement"]) == {"home_banner"}
    first = events.iloc[0]
    assert (first["user_id"], first["content_id"], first["category"]) == ("u1", "m10", "Animation")
    assert first["timestamp"] == "1997-12-04T15:55:49Z"
    assert events.loc[events["content_id"] == "m30", "category"].iloc[0] == "unknown"
    catalog = Catalog.load(paths["catalog"])
    assert catalog.content_ids == ("m10", "m20")  # the most rated first, ties to the lower id
    assert [item.repeatable for item in catalog.items] == [None, None]  # training learns it


def test_grouplens_csv_files_are_read_too(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,5,4.0,964982703\n2,5,3.5,964982704\n")
    (src / "movies.csv").write_text("movieId,title,genres\n5,Heat (1995),Action|Crime\n")
    paths = convert(src, tmp_path / "out")
    assert json.loads(paths["catalog"].read_text())["items"][0] == {
        "content_id": "m5",
        "category": "Action",
        "placements": ["home_banner"],
    }


def test_an_unknown_source_says_what_it_expects(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"expected the recbole wheel \(pip download recbole==1\.2\.1"):
        convert(tmp_path, tmp_path / "out")


@pytest.mark.timeout(600)
def test_movielens_100k_reaches_the_issues_target(tmp_path: Path) -> None:
    """The issue's setup: top-30 catalog, --test-frac 0.2 --valid-frac 0.1, the default model.
    It scored top-3 0.189 before the learned spec; the target is 0.47."""
    assert WHEEL.is_file(), MISSING
    paths = convert(WHEEL, tmp_path / "ml", catalog_size=30)
    cfg = TrainConfig(
        paths=DataPaths(paths["events"], paths["catalog"]),
        profiles_out=None,
        valid=0.1,
        test=0.2,
        progress=False,
        user_key_path=tmp_path / "user.key",
    )
    prepared = prepare(cfg)
    assert not any(prepared.spec.repeatable)  # learned: nobody rates a movie twice
    booster, _ = fit(prepared.split.train, prepared.split.valid)
    overall = evaluate_booster(booster, prepared).overall
    assert overall["model"]["hr3"] >= 0.47, overall
    for baseline in ("popularity", "recent_popularity", "personal"):
        assert overall["model"]["hr3"] > overall[baseline]["hr3"] + 0.1, (baseline, overall)
