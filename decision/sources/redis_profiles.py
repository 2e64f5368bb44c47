"""Live profiles and forgotten users in Redis, for several processes or replicas.

Every update is written to Redis (`<prefix>:profile:v<format>:<user key>`, JSON, expiring
`ttl_seconds` after the last update), so every process sees it. The key names the profile
format (decision/sources/profiles.py FORMAT_VERSION): after an upgrade that adds profile
fields, live profiles of the old format are not read (they expire); users start again from the
snapshot plus what they do next, instead of failing to parse at every request.

Reads come from a small per-process cache first (`cache_seconds`, default one second): a
Decide does not pay a Redis round trip for a user decided for a moment ago, and an update
made through another process is seen within that second. When Redis fails, the store stops
asking it for `cooldown_seconds` (a circuit breaker: a down server must not cost every
request a timeout) and the caller serves context-only features, counted.

Forgotten users are a Redis set, mirrored in each process and re-read every few seconds, so
a Forget through any replica reaches all of them.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import orjson
import redis

from decision.reload.periodic import Periodic
from decision.settings import Settings
from decision.sources.features import Profile
from decision.sources.profiles import FORMAT_VERSION, from_json, to_json

_CACHE_SIZE = 50_000


class StoreUnavailable(RuntimeError):
    """Redis failed recently; not asked again until the cooldown ends."""


class RedisProfiles:
    """A ProfileBackend on a Redis server, with a short per-process read cache."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str = "decision",
        ttl_seconds: float = 7 * 86_400,
        cache_seconds: float = 1.0,
        cooldown_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._prefix = f"{prefix}:profile:v{FORMAT_VERSION}:"
        self._ttl = max(1, int(ttl_seconds))
        self._cache_seconds = cache_seconds
        self._cooldown = cooldown_seconds
        self._clock = clock
        self._cache: OrderedDict[str, tuple[float, Profile | None]] = OrderedDict()
        self._lock = threading.Lock()
        self._down_until = 0.0

    @classmethod
    def connect(cls, settings: Settings) -> RedisProfiles:
        assert settings.shared_state_url is not None
        return cls(
            _client(settings),
            settings.shared_state_prefix,
            settings.profile_ttl_seconds,
            settings.profile_cache_seconds,
        )

    def get(self, key: str) -> Profile | None:
        now = self._clock()
        cached = self._cache.get(key)
        if cached is not None and now - cached[0] <= self._cache_seconds:
            return cached[1]
        raw = self._call(lambda: self._client.get(self._prefix + key))
        profile = from_json(orjson.loads(raw)) if raw is not None else None
        self._remember(key, profile, now)
        return profile

    def put(self, key: str, profile: Profile) -> None:
        body = orjson.dumps(to_json(profile))
        self._call(lambda: self._client.set(self._prefix + key, body, ex=self._ttl))
        self._remember(key, profile, self._clock())

    def delete(self, key: str) -> bool:
        with self._lock:
            self._cache.pop(key, None)
        return bool(self._call(lambda: self._client.delete(self._prefix + key)))

    def _call(self, request: Callable[[], Any]) -> Any:
        if self._clock() < self._down_until:
            raise StoreUnavailable("redis failed less than a cooldown ago")
        try:
            return request()
        except redis.RedisError:
            self._down_until = self._clock() + self._cooldown
            raise

    def _remember(self, key: str, profile: Profile | None, now: float) -> None:
        with self._lock:
            self._cache[key] = (now, profile)
            self._cache.move_to_end(key)
            if len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)


class RedisForgotten:
    """Forgotten user keys in a Redis set, mirrored locally (refreshed every `refresh_seconds`)."""

    def __init__(self, client: redis.Redis, prefix: str = "decision", refresh_seconds: float = 2.0) -> None:
        self._client = client
        self._key = f"{prefix}:forgotten"
        self._keys: frozenset[str] = frozenset()
        self._poller = Periodic("watch-forgotten", refresh_seconds, self._refresh_or_keep, immediately=True)

    @classmethod
    def connect(cls, settings: Settings) -> RedisForgotten:
        return cls(_client(settings), settings.shared_state_prefix)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def add(self, key: str) -> None:
        """Forget a key everywhere; raises when Redis cannot record it (the caller must not claim success)."""
        self._client.sadd(self._key, key)
        self._keys = self._keys | {key}

    def refresh(self) -> None:
        members: Any = self._client.smembers(self._key)
        self._keys = frozenset(m.decode() if isinstance(m, bytes) else str(m) for m in members)

    def start(self) -> None:
        self._poller.start()

    def stop(self) -> None:
        self._poller.stop()

    def _refresh_or_keep(self) -> None:
        with contextlib.suppress(redis.RedisError):  # keep the last known set; try again next time
            self.refresh()


def _client(settings: Settings) -> redis.Redis:
    assert settings.shared_state_url is not None
    return redis.Redis.from_url(settings.shared_state_url, socket_timeout=0.1, socket_connect_timeout=0.1)
