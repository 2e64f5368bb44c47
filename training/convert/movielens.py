"""MovieLens ratings as an event log: every rating a click on `m<movie id>`, on one placement.

The conversion the issue describes (a data scientist's first try): each rating becomes a
`click` by `u<user id>` on content `m<movie id>` at the rating's time, in placement
`home_banner`; the category is the movie's first genre; the catalog is the `catalog_size`
movies with the most ratings, shown in that placement everywhere. The catalog says
nothing about repeatability: training learns it from the log (nobody rates a movie twice).

Sources, read as they are shipped:
- RecBole's atomic files `<name>.inter` (user_id, item_id, rating, timestamp) and `<name>.item`
  (item_id, …, class: space-separated genres), in a folder or inside the `recbole` wheel
  from PyPI, which bundles MovieLens 100k (`pip download recbole==1.2.1 --no-deps`);
- GroupLens' `ratings.csv` (userId, movieId, rating, timestamp) and `movies.csv` (movieId,
  title, genres separated by `|`), e.g. MovieLens latest-small, in a folder.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

PLACEMENT = "home_banner"
UNKNOWN_GENRE = "unknown"
#: Where the recbole wheel keeps MovieLens 100k.
WHEEL_FOLDER = "recbole/dataset_example/ml-100k/"


class SourceError(ValueError):  # a ValueError: the commands print it as one line
    """The source is not a MovieLens log this converter reads; the message says what was expected."""


@dataclass(frozen=True)
class Ratings:
    """user, movie, unix time per rating; first genre per movie."""

    ratings: pd.DataFrame  # columns user, movie, seconds
    genres: pd.Series  # movie -> first genre


def read(source: Path) -> Ratings:
    """Ratings from a recbole wheel, a folder of RecBole atomic files, or a GroupLens folder."""
    if source.is_file() and source.suffix == ".whl":
        with zipfile.ZipFile(source) as wheel:
            names = set(wheel.namelist())
            inter, item = WHEEL_FOLDER + "ml-100k.inter", WHEEL_FOLDER + "ml-100k.item"
            if inter not in names or item not in names:
                raise SourceError(f"{source}: no {inter} and {item} in this wheel (is it recbole 1.2.x?)")
            return _atomic(io.BytesIO(wheel.read(inter)), io.BytesIO(wheel.read(item)), str(source))
    if source.is_dir():
        inter_files = sorted(source.glob("*.inter"))
        if inter_files:
            item_file = inter_files[0].with_suffix(".item")
            if not item_file.exists():
                raise SourceError(f"{source}: {inter_files[0].name} has no {item_file.name} beside it")
            return _atomic(io.BytesIO(inter_files[0].read_bytes()), io.BytesIO(item_file.read_bytes()), str(source))
        if (source / "ratings.csv").exists() and (source / "movies.csv").exists():
            return _grouplens(source)
    raise SourceError(
        f"{source}: expected the recbole wheel (pip download recbole==1.2.1 --no-deps), a folder with "
        "RecBole's <name>.inter and <name>.item, or a folder with GroupLens' ratings.csv and movies.csv"
    )


def _atomic(inter: io.BytesIO, item: io.BytesIO, where: str) -> Ratings:
    ratings = pd.read_csv(inter, sep="\t", dtype=str)
    movies = pd.read_csv(item, sep="\t", dtype=str, keep_default_na=False)
    ratings.columns = [c.split(":")[0] for c in ratings.columns]
    movies.columns = [c.split(":")[0] for c in movies.columns]
    for frame, needed, name in (
        (ratings, ("user_id", "item_id", "timestamp"), "inter"),
        (movies, ("item_id", "class"), "item"),
    ):
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise SourceError(f"{where}: the .{name} file lacks column(s) {', '.join(missing)}")
    frame = pd.DataFrame(
        {
            "user": ratings["user_id"],
            "movie": ratings["item_id"],
            "seconds": pd.to_numeric(ratings["timestamp"]).astype("int64"),
        }
    )
    genres = movies.set_index("item_id")["class"].str.split().str[0].fillna(UNKNOWN_GENRE)
    return Ratings(frame, genres)


def _grouplens(folder: Path) -> Ratings:
    ratings = pd.read_csv(folder / "ratings.csv", dtype=str)
    movies = pd.read_csv(folder / "movies.csv", dtype=str, keep_default_na=False)
    frame = pd.DataFrame(
        {
            "user": ratings["userId"],
            "movie": ratings["movieId"],
            "seconds": pd.to_numeric(ratings["timestamp"]).astype("int64"),
        }
    )
    first = movies.set_index("movieId")["genres"].str.split("|").str[0]
    return Ratings(frame, first.where(~first.isin(["", "(no genres listed)"]), UNKNOWN_GENRE))


def convert(source: Path, out: Path, catalog_size: int = 30) -> dict[str, Path]:
    """Write `events.csv` and `catalog.json` for `training train --data OUT`; return the paths."""
    data = read(source)
    ratings = data.ratings.sort_values(["seconds", "user", "movie"], kind="stable")
    genre = ratings["movie"].map(data.genres).fillna(UNKNOWN_GENRE)
    events = pd.DataFrame(
        {
            "user_id": "u" + ratings["user"],
            "timestamp": pd.to_datetime(ratings["seconds"], unit="s", utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "event_type": "click",
            "content_id": "m" + ratings["movie"],
            "category": genre,
            "placement": PLACEMENT,
        }
    )
    counts = ratings.groupby("movie").size().reset_index(name="ratings")
    counts["number"] = pd.to_numeric(counts["movie"], errors="coerce")  # ties: the lower movie id first
    ordered = counts.sort_values(["ratings", "number", "movie"], ascending=[False, True, True])
    items = [
        {"content_id": f"m{movie}", "category": data.genres.get(movie, UNKNOWN_GENRE), "placements": [PLACEMENT]}
        for movie in ordered["movie"].head(catalog_size)
    ]
    out.mkdir(parents=True, exist_ok=True)
    paths = {"events": out / "events.csv", "catalog": out / "catalog.json"}
    events.to_csv(paths["events"], index=False)
    paths["catalog"].write_text(json.dumps({"items": items}, indent=1) + "\n", encoding="utf-8")
    return paths
