"""`training generate`: a seeded, deterministic synthetic e-commerce event log.

Users (region, device, lifecycle segment, taste) have sessions of product views, clicks on
catalog content in a placement, carts, abandonments and purchases. Every click is chosen
by the ground-truth model in training/truth.py; its true top 3 and the probability of the
actual choice go to ground_truth.parquet, so evaluation can say how close a model gets.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from decision.sources.catalog import Catalog, CatalogItem
from training.truth import (
    CATEGORIES,
    CHANNELS,
    DEVICES,
    ITEMS_PER_CATEGORY,
    PLACEMENTS,
    REGIONS,
    State,
    Truth,
    choose,
    content_vocab,
)

START = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = 90
SEGMENTS = {  # name: (probability, mean sessions, purchase probability of a full cart)
    "new": (0.20, 1.5, 0.35),
    "casual": (0.35, 3.0, 0.30),
    "regular": (0.25, 7.0, 0.45),
    "loyal": (0.10, 16.0, 0.60),
    "lapsed": (0.10, 4.0, 0.25),
}
#: Shares of users per region and device (REGIONS, DEVICES order) and relative traffic per hour of day.
REGION_SHARES = (0.40, 0.33, 0.17, 0.10)
DEVICE_SHARES = (0.55, 0.35, 0.10)
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 3, 5, 6, 6, 5, 5, 6, 6, 5, 5, 6, 7, 9, 10, 9, 7, 4, 2)


def catalog(seed: int, per_category: int = ITEMS_PER_CATEGORY) -> Catalog:
    """`per_category` items per category: placements vary, every fifth region-only, some dated."""
    rng = random.Random(seed)
    items = []
    for content_id in content_vocab(per_category):
        category, n = content_id.split("-")
        k = rng.choice((1, 2, 2, 3))
        placements = frozenset(rng.sample(PLACEMENTS, k))
        regions = frozenset({REGIONS[CATEGORIES.index(category) % 4]}) if int(n) % 5 == 0 else frozenset()
        start = end = None
        if int(n) % 5 == 4 and CATEGORIES.index(category) % 3 == 0:
            start = START + timedelta(days=rng.randrange(0, 30))
            end = start + timedelta(days=rng.randrange(40, 70))
        items.append(
            CatalogItem(
                content_id,
                category,
                placements,
                regions,
                start,
                end,
                {
                    "title": f"{category.title()} pick {n}",
                    "kind": rng.choice(("promo", "guide", "deal")),
                },
            )
        )
    return Catalog(items)


@dataclass
class _Session:
    t: datetime
    channel: str
    views: int = 0


@dataclass
class _User:
    user_id: str
    region: int
    device: int
    segment: str
    taste: np.ndarray
    taste_cum: list[float]
    clicks: np.ndarray
    sessions: int = 0
    spend: float = 0.0
    last_session_end: datetime | None = None
    cart: list[float] = field(default_factory=list)


class World:
    """The simulation; `run(target_events)` yields event rows and ground-truth rows."""

    def __init__(self, seed: int, per_category: int = ITEMS_PER_CATEGORY) -> None:
        self.rng = random.Random(seed)
        self.np_rng = np.random.default_rng(seed)
        self.vocab = content_vocab(per_category)
        self.truth = Truth(np.random.default_rng(seed + 1), self.vocab)
        self.catalog = catalog(seed, per_category)
        self.index = {c: i for i, c in enumerate(self.vocab)}
        self._indexes: dict[frozenset[str], np.ndarray] = {}
        self.events: list[tuple[object, ...]] = []
        self.truths: list[tuple[object, ...]] = []
        self.users: list[tuple[str, str, str, str]] = []

    def run(self, target_events: int, progress: Callable[[int], object] = lambda n: None) -> None:
        n = 0
        while len(self.events) < target_events:
            before = len(self.events)
            self._user(f"u{n:07d}")
            progress(len(self.events) - before)
            n += 1

    def _user(self, user_id: str) -> None:
        r = self.rng
        segment = r.choices(list(SEGMENTS), [s[0] for s in SEGMENTS.values()])[0]
        taste = self.np_rng.dirichlet(np.full(len(CATEGORIES), 0.3))
        user = _User(
            user_id,
            r.choices(range(4), REGION_SHARES)[0],
            r.choices(range(3), DEVICE_SHARES)[0],
            segment,
            taste,
            np.cumsum(taste).tolist(),
            np.zeros(len(self.vocab)),
        )
        self.users.append((user_id, REGIONS[user.region], DEVICES[user.device], segment))
        for start in self._session_starts(segment):
            self._session(user, start)

    def _session_starts(self, segment: str) -> list[datetime]:
        r = self.rng
        mean = SEGMENTS[segment][1]
        count = 1 + int(self.np_rng.poisson(mean - 1))
        lo, hi = {"new": (0.7, 1.0), "lapsed": (0.0, 0.5)}.get(segment, (0.0, 1.0))
        days = sorted(r.uniform(lo * DAYS, hi * DAYS) for _ in range(count))
        if segment == "lapsed" and r.random() < 0.5:
            days.append(r.uniform(0.8 * DAYS, DAYS))
        starts: list[datetime] = []
        for day in days:
            hour = r.choices(range(24), HOUR_WEIGHTS)[0]
            t = START + timedelta(days=int(day), hours=hour, seconds=r.randrange(3600))
            if not starts or t - starts[-1] > timedelta(hours=3):
                starts.append(t)
        return starts

    def _session(self, user: _User, t: datetime) -> None:
        r = self.rng
        channel = r.choices(CHANNELS, (0.5, 0.35 if user.device == 0 else 0.1, 0.15))[0]
        state = _Session(t, channel)
        if channel == "email":
            self._click(user, state, "email")
        if r.random() < 0.6:
            self._click(user, state, "home_banner")
        for _ in range(1 + int(self.np_rng.poisson(3))):
            category = r.choices(CATEGORIES, cum_weights=user.taste_cum)[0]
            if r.random() < 0.2:
                category = r.choice(CATEGORIES)
            price = round(r.lognormvariate(3.2, 0.6), 2)
            product = f"sku-{category}-{r.randrange(60):02d}"
            self._emit(user, state, "view", product, category, None, "")
            state.views += 1
            if r.random() < 0.25:
                self._click(user, state, "product_page")
            if r.random() < 0.3:
                user.cart.append(price)
                self._emit(user, state, "add_to_cart", product, category, price, "")
            elif user.cart and r.random() < 0.05:
                self._emit(user, state, "remove_from_cart", product, category, user.cart.pop(), "")
        if user.cart and r.random() < 0.5:
            self._click(user, state, "cart_page")
        if user.cart and r.random() < SEGMENTS[user.segment][2]:
            total = round(sum(user.cart), 2)
            self._emit(user, state, "purchase", None, None, total, "")
            user.spend += total
            user.cart.clear()
        user.sessions += 1
        user.last_session_end = state.t
        # a cart left full here is an abandonment: it is still there next session

    def _click(self, user: _User, state: _Session, placement: str) -> None:
        t = state.t
        allowed = self.catalog.eligible(placement, REGIONS[user.region], t)
        if not allowed:
            return
        eligible = self._indexes.get(allowed)
        if eligible is None:
            eligible = self._indexes[allowed] = np.array(sorted(self.index[c] for c in allowed))
        gap = (t - user.last_session_end).total_seconds() / 86400 if user.last_session_end else np.inf
        s = State(
            user.taste,
            user.clicks,
            user.region,
            user.device,
            PLACEMENTS.index(placement),
            t.hour,
            user.sessions,
            gap,
            user.spend,
            state.views,
            len(user.cart),
            sum(user.cart),
        )
        pick, top, p = choose(self.truth.utility(s), eligible, self.np_rng)
        content_id = self.vocab[pick]
        self._emit(user, state, "click", content_id, content_id.split("-")[0], None, placement)
        self.truths.append((user.user_id, state.t, content_id, *(self.vocab[i] for i in top), p))
        user.clicks[pick] += 1

    def _emit(
        self,
        user: _User,
        state: _Session,
        event_type: str,
        content_id: str | None,
        category: str | None,
        value: float | None,
        placement: str,
    ) -> None:
        state.t += timedelta(seconds=self.rng.randrange(20, 240))
        self.events.append(
            (
                user.user_id,
                state.t,
                event_type,
                content_id,
                category,
                value,
                REGIONS[user.region],
                DEVICES[user.device],
                state.channel,
                placement or None,
            )
        )


def write(out: Path, world: World, fmt: str = "parquet") -> dict[str, Path]:
    """Write events, users, catalog and ground truth into `out`; return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    columns = [
        "user_id",
        "timestamp",
        "event_type",
        "content_id",
        "category",
        "value",
        "region",
        "device",
        "channel",
        "placement",
    ]
    events = pd.DataFrame(world.events, columns=columns).sort_values(["timestamp", "user_id"])
    paths = {
        "events": out / f"events.{fmt}",
        "users": out / "users.csv",
        "catalog": out / "catalog.json",
        "ground_truth": out / "ground_truth.parquet",
    }
    if fmt == "csv":
        events.assign(timestamp=events["timestamp"].map(datetime.isoformat)).to_csv(paths["events"], index=False)
    else:
        events.to_parquet(paths["events"], index=False)
    pd.DataFrame(world.users, columns=["user_id", "region", "device", "segment"]).to_csv(paths["users"], index=False)
    paths["catalog"].write_text(world.catalog.to_json() + "\n", encoding="utf-8")
    truth = pd.DataFrame(
        world.truths,
        columns=["user_id", "timestamp", "content_id", "gt_top1", "gt_top2", "gt_top3", "gt_p"],
    )
    truth.to_parquet(paths["ground_truth"], index=False)
    (out / "generator.json").write_text(json.dumps({"events": len(world.events), "users": len(world.users)}) + "\n")
    return paths
