"""Profiles that update in real time: the training snapshot plus every event reported since.

`RecordEvents` (and outcomes that name their user) fold each event into the user's profile
at once, so the next Decide sees a cart abandoned a minute ago without a retrain. `fold`
applies exactly the arithmetic of training's point-in-time replay (training/history.py), so
a profile replayed live equals the one training computes for the same instant (a hypothesis
test checks it). Profiles are kept by user key (decision.privacy), in a bounded store: in
this process by default (`LocalProfiles`), in Redis when several processes or replicas serve
(redis_profiles.py). Users without consent change nothing; forgotten users are never served a
profile again, from the live store or from the snapshot.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import NamedTuple, Protocol

from decision import metrics
from decision.domain import Event, Outcome
from decision.errors import UnavailableError
from decision.sources.catalog import Catalog
from decision.sources.features import SESSION_GAP_SECONDS, Profile, epoch
from decision.sources.profiles import CurrentSnapshot

log = logging.getLogger(__name__)


def fold(profile: Profile | None, key: str, event: Event) -> Profile:
    """`profile` with `event` added (None: the user's first event). Events are expected in time
    order, as in training; a late event still counts but does not move the clock back."""
    when = event.occurred_at
    kind = event.event_type
    amount = event.value
    if profile is None:
        first_seen = last_seen = session_start = when
        sessions, session_events, events = 1, 0, 0
        views = clicks = carts = purchases = 0
        monetary = 0.0
        last_content = ""
        last_purchase = None
        content_clicks: dict[str, int] = {}
        category_views: dict[str, int] = {}
    else:
        new_session = epoch(when) - epoch(profile.last_seen) > SESSION_GAP_SECONDS
        first_seen = profile.first_seen
        last_seen = max(profile.last_seen, when)
        session_start = when if new_session else profile.session_start
        sessions = profile.sessions + new_session
        session_events = 0 if new_session else profile.session_events
        events = profile.events
        views, clicks, carts, purchases = profile.views, profile.clicks, profile.carts, profile.purchases
        monetary = profile.monetary
        last_content, last_purchase = profile.last_content, profile.last_purchase
        content_clicks = dict(profile.content_clicks)
        category_views = dict(profile.category_views)
    if kind == "view":
        views += 1
        category_views[event.category] = category_views.get(event.category, 0) + 1
    elif kind == "click":
        clicks += 1
        if event.content_id:
            content_clicks[event.content_id] = content_clicks.get(event.content_id, 0) + 1
            last_content = event.content_id
    elif kind == "add_to_cart":
        carts += 1
    elif kind == "purchase":
        purchases += 1
        monetary += amount
        last_purchase = when
    return Profile(
        user_id=key,
        as_of=last_seen,
        first_seen=first_seen,
        last_seen=last_seen,
        session_start=session_start,
        last_purchase=last_purchase,
        events=events + 1,
        sessions=sessions,
        session_events=session_events + 1,
        views=views,
        clicks=clicks,
        carts=carts,
        purchases=purchases,
        monetary=monetary,
        last_content=last_content,
        content_clicks=content_clicks,
        category_views=category_views,
    )


#: What each outcome type means for the profile (impressions say nothing the decision log does not).
_EVENT_OF_OUTCOME = {"click": "click", "add_to_cart": "add_to_cart", "conversion": "purchase"}


def event_of_outcome(outcome: Outcome, received_at: datetime, catalog: Catalog | None) -> Event | None:
    """The profile event an outcome implies, when it names a consenting user; None otherwise."""
    kind = _EVENT_OF_OUTCOME.get(outcome.outcome_type)
    if kind is None or not outcome.consent or not outcome.user_id:
        return None
    item = catalog.get(outcome.content_id) if catalog is not None else None
    return Event(
        user_id=outcome.user_id,
        event_type=kind,
        occurred_at=outcome.occurred_at or received_at,
        content_id=outcome.content_id,
        category=item.category if item is not None else "",
        value=outcome.value,
        consent=True,
    )


class ProfileBackend(Protocol):
    """Where live profiles live. Errors are the caller's to count: a failing backend means
    context-only features, never a failed request."""

    def get(self, key: str) -> Profile | None: ...

    def put(self, key: str, profile: Profile) -> None: ...

    def delete(self, key: str) -> bool: ...


class LocalProfiles:
    """The in-process backend: at most `max_users` profiles, each kept `ttl_seconds` after its
    last update; the least recently updated go first (evictions counted)."""

    def __init__(self, max_users: int, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._max = max_users
        self._ttl = ttl_seconds
        self._clock = clock
        self._profiles: OrderedDict[str, tuple[float, Profile]] = OrderedDict()
        self._lock = threading.Lock()
        self._evicted = metrics.PROFILE_EVICTIONS.labels("size")
        self._expired = metrics.PROFILE_EVICTIONS.labels("ttl")

    def get(self, key: str) -> Profile | None:
        found = self._profiles.get(key)
        if found is None:
            return None
        stamp, profile = found
        if self._clock() - stamp > self._ttl:
            with self._lock:
                if self._profiles.pop(key, None) is not None:
                    self._expired.inc()
            return None
        return profile

    def put(self, key: str, profile: Profile) -> None:
        now = self._clock()
        with self._lock:
            self._profiles[key] = (now, profile)
            self._profiles.move_to_end(key)
            while len(self._profiles) > self._max:
                self._profiles.popitem(last=False)
                self._evicted.inc()
            # The oldest entries are at the front: drop the expired ones there, a few per write.
            for _ in range(4):
                oldest = next(iter(self._profiles.values()), None)
                if oldest is None or now - oldest[0] <= self._ttl:
                    break
                self._profiles.popitem(last=False)
                self._expired.inc()

    def delete(self, key: str) -> bool:
        with self._lock:
            return self._profiles.pop(key, None) is not None

    def __len__(self) -> int:
        return len(self._profiles)


class Recorded(NamedTuple):
    accepted: int
    without_consent: int


class Tombstones(Protocol):
    """User keys that were forgotten: never served a profile again."""

    def __contains__(self, key: object) -> bool: ...

    def add(self, key: str) -> None: ...


class LiveProfiles:
    """The ProfileSource of the service: live profiles first, then the snapshot."""

    def __init__(
        self,
        snapshot: CurrentSnapshot,
        pseudonymize: Callable[[str], str],
        backend: ProfileBackend,
        forgotten: Tombstones,
    ) -> None:
        self._snapshot = snapshot
        self._pseudonymize = pseudonymize
        self._backend = backend
        self._forgotten = forgotten
        self._locks = [threading.Lock() for _ in range(64)]  # one user's events fold one at a time
        self._failures = metrics.STATE_FAILURES.labels("profiles")

    def get(self, user_id: str) -> Profile | None:
        return self._by_key(self._pseudonymize(user_id))

    def _by_key(self, key: str) -> Profile | None:
        if key in self._forgotten:
            return None
        try:
            live = self._backend.get(key)
        except Exception as exc:  # an outage means context-only features, counted
            self._failed(exc)
            return None
        if live is not None:
            return live
        store = self._snapshot.current
        return store.get(key) if store is not None else None

    def record(self, events: Sequence[Event]) -> Recorded:
        """Fold consented events into their users' profiles; the rest change nothing."""
        accepted = 0
        for event in sorted(events, key=lambda e: e.occurred_at):
            if not event.consent:
                continue
            key = self._pseudonymize(event.user_id)
            if key in self._forgotten:
                continue
            with self._locks[hash(key) % len(self._locks)]:
                try:
                    self._backend.put(key, fold(self._by_key(key), key, event))
                except Exception as exc:
                    self._failed(exc)
                    continue
            accepted += 1
        metrics.PROFILE_UPDATES.inc(accepted)
        return Recorded(accepted, sum(not e.consent for e in events))

    def forget(self, user_id: str) -> bool:
        """Forget a user for good; True if they had a live or a snapshot profile here."""
        key = self._pseudonymize(user_id)
        had = self._by_key(key) is not None
        try:
            self._forgotten.add(key)
        except Exception as exc:  # never claim a forget that was not recorded
            self._failed(exc)
            raise UnavailableError("the forgotten-users store is unreachable; nothing was forgotten, retry") from exc
        try:
            self._backend.delete(key)
        except Exception as exc:  # recorded as forgotten: the profile is never served again anyway
            self._failed(exc)
        return had

    def _failed(self, exc: Exception) -> None:
        self._failures.inc()
        log.warning("live profiles: store failed (%s); serving context-only features", type(exc).__name__)
