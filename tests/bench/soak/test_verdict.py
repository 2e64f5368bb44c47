"""Quarters and the flatness verdict on samples with a planted leak and on flat, noisy ones."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench.soak.sampler import Sample
from bench.soak.verdict import OVERALL, frame, load_flatness, mean_of, quarter_table, verdicts

SECONDS = 400
RELOADS_PER_SECOND = 10
LEAK_MIB_PER_RELOAD = 0.2


def samples(rss: np.ndarray, idle_seconds: int = 0, threads: np.ndarray | None = None) -> list[Sample]:
    """One sample a second; the reloads run from `idle_seconds` on at a steady rate."""
    threads = np.full(len(rss), 20) if threads is None else threads
    found = []
    for t, (value, count) in enumerate(zip(rss, threads, strict=True)):
        reloads = max(0, t - idle_seconds) * RELOADS_PER_SECOND
        found.append(Sample(float(t), float(value), int(count), 15, {"reloads": reloads}, 0))
    return found


def quarter_marks(start: float, end: float) -> list[float]:
    return np.linspace(start, end, 5).tolist()


def test_a_planted_leak_is_not_flat_and_its_size_is_measured() -> None:
    reloads = np.arange(SECONDS + 1) * RELOADS_PER_SECOND
    data = frame(samples(300 + LEAK_MIB_PER_RELOAD * reloads))
    found = load_flatness(data, "reloads", quarter_marks(0, SECONDS), tolerance=0.05)
    # Q2 holds t = 101..200 and Q4 t = 301..400: their means are known exactly.
    assert found.q2.rss_mib == pytest.approx(300 + 2 * 150.5)
    assert found.q4.rss_mib == pytest.approx(300 + 2 * 350.5)
    assert found.growth_kib_per_unit == pytest.approx(LEAK_MIB_PER_RELOAD * 1024)
    assert not found.flat


def test_a_thread_leak_is_not_flat_even_with_flat_memory() -> None:
    one_more_every_10_seconds = 20 + np.arange(SECONDS + 1) // 10
    data = frame(samples(np.full(SECONDS + 1, 300.0), threads=one_more_every_10_seconds))
    found = load_flatness(data, "reloads", quarter_marks(0, SECONDS), tolerance=0.05)
    assert found.growing() == ["threads"]
    assert not found.flat


def test_threads_coming_and_going_are_not_growth() -> None:
    rng = np.random.default_rng(3)
    data = frame(samples(np.full(SECONDS + 1, 300.0), threads=rng.integers(20, 28, SECONDS + 1)))
    assert load_flatness(data, "reloads", quarter_marks(0, SECONDS), tolerance=0.05).flat


def test_flat_noisy_memory_is_flat_and_grows_by_nothing() -> None:
    rng = np.random.default_rng(7)
    data = frame(samples(300 + rng.normal(0, 3, SECONDS + 1)))
    found = load_flatness(data, "reloads", quarter_marks(0, SECONDS), tolerance=0.05)
    assert found.flat
    assert abs(found.change) < 0.01
    assert abs(found.growth_kib_per_unit) < 2


def test_a_drop_beyond_the_tolerance_is_not_flat_either() -> None:
    data = frame(samples(np.where(np.arange(SECONDS + 1) > 250, 250.0, 300.0)))
    assert not load_flatness(data, "reloads", quarter_marks(0, SECONDS), tolerance=0.05).flat


def test_a_load_that_stopped_short_has_no_last_quarter_and_is_not_flat() -> None:
    data = frame(samples(np.full(SECONDS + 1, 300.0)))
    found = load_flatness(data, "reloads", quarter_marks(0, SECONDS)[:4], tolerance=0.05)
    assert not found.complete
    assert math.isnan(found.q4.rss_mib)
    assert not found.flat


def test_a_quarter_without_samples_takes_the_memory_interpolated_at_its_middle() -> None:
    data = frame(samples(np.array([100.0, 200.0])))
    assert mean_of(data, "rss_mib", (0.2, 0.4)) == pytest.approx(130.0)
    assert mean_of(data, "rss_mib", (0.0, 1.0)) == pytest.approx(200.0)  # (a, b]: the sample at a is not in


def test_quarter_table_splits_the_counts_and_shows_the_idle_server_first() -> None:
    idle = 20
    data = frame(samples(np.full(SECONDS + 1, 300.0), idle_seconds=idle))
    table = quarter_table(data, ["reloads"], start=float(idle))
    assert list(table.phase) == ["before loads", "Q1", "Q2", "Q3", "Q4"]
    assert table.reloads.sum() == (SECONDS - idle) * RELOADS_PER_SECOND
    assert list(table.reloads[1:]) == [950, 950, 950, 950]
    assert table.seconds[1:].tolist() == pytest.approx([95.0] * 4)


def test_overall_verdict_uses_the_run_time_quarters() -> None:
    reloads = np.arange(SECONDS + 1) * RELOADS_PER_SECOND
    data = frame(samples(300 + LEAK_MIB_PER_RELOAD * reloads))
    found = verdicts(data, {"reloads": quarter_marks(0, SECONDS)}, start=0.0, tolerance=0.05)
    assert [f.name for f in found] == ["reloads", OVERALL]
    overall = found[-1]
    assert overall.q4.rss_mib > overall.q2.rss_mib
    assert overall.growth_kib_per_unit == pytest.approx(LEAK_MIB_PER_RELOAD * RELOADS_PER_SECOND * 3600 * 1024)
