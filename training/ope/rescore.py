"""A registered model's first choice for each served decision, re-scored offline as the service scores it.

Each decision of the joined table becomes the request the service saw (placement, context,
client time, cart, excluded content: the decision log keeps them) and the profile it had:
the user's events strictly before the decision time, replayed with the same arithmetic as
training and the live profiles. Without consent there is no user key and no profile, as in
serving. The candidates and their rows are the service's: the model's own feature spec (logged
inside the model), the candidate stage over the catalog's eligible items at the decision time
less consumed and excluded content (decision/sources/candidates.py), and
`decision.sources.features.rows`; the choice is the candidate the model scores highest (ties to
the earlier candidate, as the model tier breaks them).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from decision.domain import Cart, Context, Request
from decision.sources.candidates import stage_order, take
from decision.sources.catalog import Catalog
from decision.sources.features import FEATURE_SET_VERSION, Profile, request_excluded, rows
from training.history import UserHistory
from training.registry import LoadedModel
from training.train import predict

Progress = Callable[[int], object]


class RescoreError(ValueError):
    """A model cannot be re-scored on these decisions; the message says why and what to do."""


def profiles_at(events: pd.DataFrame, users: Sequence[str], moments: Sequence[datetime]) -> list[Profile | None]:
    """Per (user key, moment): the user's profile from their events strictly before it; None without a key.

    `events` are validated training events (sorted by user then time, keyed by user key).
    """
    order = sorted((u, m, i) for i, (u, m) in enumerate(zip(users, moments, strict=True)) if u)
    found: list[Profile | None] = [None] * len(users)
    if not order:
        return found
    keys = events["user_id"].astype(str).to_numpy()
    starts = {str(k): int(s) for k, s in zip(*np.unique(keys, return_index=True), strict=True)}
    when = list(events["timestamp"].dt.to_pydatetime())
    when_s = (events["timestamp"].dt.as_unit("us").astype("int64") / 1e6).tolist()
    event_type = events["event_type"].astype(str).tolist()
    content = _texts(events["content_id"])
    category = _texts(events["category"])
    value = events["value"].astype("float64").tolist()
    history, at = UserHistory(""), 0
    for user, moment, i in order:
        if user != history.user_id:
            history, at = UserHistory(user), starts.get(user, len(keys))
        while at < len(keys) and keys[at] == user and when[at] < moment:
            history.add(when[at], when_s[at], event_type[at], content[at], category[at], value[at])
            at += 1
        found[i] = history.profile(moment)
    return found


def first_choices(
    model: LoadedModel,
    decisions: pd.DataFrame,
    events: pd.DataFrame,
    catalog: Catalog,
    progress: Progress = lambda n: None,
) -> list[str]:
    """The content `model` puts first for each decision ("" when none of its candidates is eligible)."""
    if model.feature_set_version != FEATURE_SET_VERSION:
        raise RescoreError(
            f"v{model.version} was trained on feature set {model.feature_set_version}, this checkout computes "
            f"{FEATURE_SET_VERSION}: re-score it with the code it was trained with"
        )
    spec = model.spec
    if spec is None:
        raise RescoreError(f"v{model.version} has no feature spec (a model from before the ranker): retrain it")
    times = list(decisions["decided_at"].dt.to_pydatetime())
    profiles = profiles_at(events, decisions["user_key"].astype(str).tolist(), times)
    blocks: list[np.ndarray] = []
    chosen: list[list[int]] = []
    for i, (record, profile, now) in enumerate(zip(decisions.itertuples(index=False), profiles, times, strict=True)):
        request = _request(record, now)
        eligible = catalog.eligible(request.placement, request.context.region, now)
        skip = request_excluded(spec, profile, request.exclude_content_ids)
        candidates = take(stage_order(spec, spec.stats, eligible), skip, spec.candidate_limit)
        chosen.append(candidates)
        if candidates:
            blocks.append(rows(spec, spec.stats, profile, request, now, np.array(candidates, dtype=np.intp)))
        if i % 10_000 == 9_999:
            progress(10_000)
    progress(len(decisions) % 10_000)
    scores = predict(model.booster, np.concatenate(blocks)) if blocks else np.zeros(0)
    choices, at = [], 0
    for candidates in chosen:
        if not candidates:
            choices.append("")
            continue
        best = int(np.argmax(scores[at : at + len(candidates)]))  # the first of equal scores
        choices.append(spec.items[candidates[best]])
        at += len(candidates)
    return choices


def _request(record: object, now: datetime) -> Request:
    """The request the service saw, from one joined-table row."""
    get = record.__getattribute__
    idle = float(get("cart_idle_minutes"))
    client_time = get("client_time")
    excluded = get("excluded")
    return Request(
        user_id="",
        placement=str(get("placement")),
        context=Context(
            region=str(get("region")),
            device=str(get("device")),
            channel=str(get("channel")),
            client_time=None if pd.isna(client_time) else client_time.to_pydatetime(),
        ),
        cart=Cart(
            int(get("cart_items")),
            float(get("cart_value")),
            "",
            None if math.isnan(idle) else now - timedelta(minutes=idle),
        ),
        exclude_content_ids=frozenset(json.loads(excluded)) if excluded else frozenset(),
        consent=bool(get("consent")),
    )


def _texts(column: pd.Series) -> list[str | None]:
    values = column.astype(object)
    return values.where(values.notna(), None).tolist()
