"""Live profiles: µs per update, and memory over a million updates to a hundred thousand users.

    python bench/profiles_bench.py [--updates 1000000] [--users 100000] [--redis-port PORT]

Drives the service's own LiveProfiles (the in-process store with the default bounds) with
consented events for `--users` distinct users, round robin, and samples the process's
resident memory every tenth of the run. Flat means the last quarter's mean within 10 % of the
second quarter's (the first quarter creates the users). With `--redis-port`, also times the
Redis store's update and read (a redis-server must listen there).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from decision.domain import Event
from decision.settings import Settings
from decision.sources.live import LiveProfiles, LocalProfiles, fold
from decision.sources.redis_profiles import RedisProfiles
from training.report.table import render

START = datetime(2026, 12, 1, tzinfo=UTC)
KINDS = ("view", "click", "view", "add_to_cart", "view", "click", "purchase")


class _NoSnapshot:
    current = None


def event(i: int, users: int) -> Event:
    kind = KINDS[i % len(KINDS)]
    when = START + timedelta(seconds=i // users * 60)
    return Event(
        f"u{i % users}", kind, when, f"item-{i % 40}", f"cat-{i % 8}", 20.0 if kind == "purchase" else 0.0, consent=True
    )


def update_cost(calls: int = 50_000) -> tuple[float, float]:
    """Median µs of one fold (a new profile from the old one and an event), and of one whole
    LiveProfiles.record of a single event (key, lock, fold, store)."""
    profiles = LiveProfiles(_NoSnapshot(), str, LocalProfiles(100_000, 86_400.0), set())
    events = [event(i, 1000) for i in range(calls)]
    profile = None
    folds, records = [], []
    for chunk in range(5):
        part = events[chunk * calls // 5 : (chunk + 1) * calls // 5]
        started = time.perf_counter_ns()
        for e in part:
            profile = fold(profile, "k", e)
        folds.append((time.perf_counter_ns() - started) / len(part) / 1000)
        started = time.perf_counter_ns()
        for e in part:
            profiles.record((e,))
        records.append((time.perf_counter_ns() - started) / len(part) / 1000)
    return statistics.median(folds), statistics.median(records)


def memory(updates: int, users: int) -> tuple[list[tuple[int, float]], bool]:
    """RSS (MiB) every tenth of `updates` round-robin updates to `users` users, and the verdict."""
    settings = Settings.model_validate({})
    profiles = LiveProfiles(
        _NoSnapshot(), str, LocalProfiles(settings.profile_max_users, settings.profile_ttl_seconds), set()
    )
    process = psutil.Process()
    samples: list[tuple[int, float]] = []
    step = max(1, updates // 20)
    for i in tqdm(range(updates), desc="updates", unit="ev", mininterval=1.0):
        profiles.record((event(i, users),))
        if (i + 1) % step == 0:
            samples.append((i + 1, process.memory_info().rss / 2**20))
    quarter = len(samples) // 4
    second = statistics.mean(rss for _, rss in samples[quarter : 2 * quarter])
    last = statistics.mean(rss for _, rss in samples[3 * quarter :])
    return samples, abs(last - second) <= 0.10 * second


def redis_cost(port: int, calls: int = 5_000) -> tuple[float, float]:
    """Median µs of a Redis-store update and of a read that misses the local cache."""
    import redis

    store = RedisProfiles(redis.Redis(port=port), prefix="bench", cache_seconds=0.0)
    profile = fold(None, "k", event(0, 1))
    started = time.perf_counter_ns()
    for i in range(calls):
        store.put(f"k{i % 100}", profile)
    put = (time.perf_counter_ns() - started) / calls / 1000
    started = time.perf_counter_ns()
    for i in range(calls):
        store.get(f"k{i % 100}")
    get = (time.perf_counter_ns() - started) / calls / 1000
    return put, get


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=1_000_000, help="events folded in the memory run")
    parser.add_argument("--users", type=int, default=100_000, help="distinct users they are spread over")
    parser.add_argument("--redis-port", type=int, help="also time the Redis store (a redis-server on this port)")
    args = parser.parse_args()
    fold_us, record_us = update_cost()
    rows: list[list[object]] = [
        ["fold (new profile from old + event)", fold_us],
        ["LiveProfiles.record, one event", record_us],
    ]
    if args.redis_port:
        put_us, get_us = redis_cost(args.redis_port)
        rows += [["Redis store: update", put_us], ["Redis store: read (cache off)", get_us]]
    print(render(["operation", "µs"], rows, digits=2))
    samples, flat = memory(args.updates, args.users)
    print()
    print(render(["updates", "RSS MiB"], [[n, rss] for n, rss in samples], digits=1))
    print(
        f"\nmemory over {args.updates:,} updates to {args.users:,} users: {'FLAT' if flat else 'NOT FLAT'} "
        "(last quarter's mean within 10 % of the second quarter's)"
    )
    return 0 if flat else 1


if __name__ == "__main__":
    sys.exit(main())
