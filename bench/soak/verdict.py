"""Quarters of the run and the flatness verdict: is memory at the end where it was after warming up?

The first quarter is warm-up (caches, pools, the allocator's arenas filling), so the second
quarter is the reference: memory is flat when the last quarter's mean RSS is within the
tolerance of the second's. Per load, the quarters are those of its own count (the time from
25 % to 50 % of its target, and from 75 % to 100 %); overall, those of the run's time.
Threads and open files are judged alike, by growth only: a leaked thread or file is as fatal
over weeks as leaked memory, and their counts are small, so a few more is not noise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from bench.soak.sampler import Sample

OVERALL = "overall"
MIN_COUNT_GROWTH = 3.0  # threads or fds: a mean this much higher (and beyond the tolerance) is growth


@dataclass(frozen=True)
class Level:
    """Mean RSS, threads and open files over one quarter."""

    rss_mib: float
    threads: float
    fds: float


@dataclass(frozen=True)
class Flatness:
    """One load's (or the whole run's) verdict: its second quarter against its last."""

    name: str
    q2: Level
    q4: Level
    growth_kib_per_unit: float  # least-squares slope of RSS over the unit's count (overall: per hour)
    tolerance: float
    complete: bool  # False when the load stopped short of its target: no last quarter to judge

    @property
    def change(self) -> float:
        """Relative change of the mean RSS."""
        return (self.q4.rss_mib - self.q2.rss_mib) / self.q2.rss_mib if self.q2.rss_mib else math.nan

    def growing(self) -> list[str]:
        """What is not flat: "RSS", "threads", "fds" (empty when flat)."""
        found = [] if abs(self.change) <= self.tolerance else ["RSS"]
        for what, before, after in (("threads", self.q2.threads, self.q4.threads), ("fds", self.q2.fds, self.q4.fds)):
            if after - before > max(MIN_COUNT_GROWTH, self.tolerance * before):
                found.append(what)
        return found

    @property
    def flat(self) -> bool:
        return self.complete and not self.growing()


def frame(samples: Sequence[Sample]) -> pd.DataFrame:
    """One row per sample: t, rss_mib, threads, fds, errors and one count column per load."""
    rows = [
        {"t": s.t, "rss_mib": s.rss_mib, "threads": s.threads, "fds": s.fds, "errors": s.errors, **s.counts}
        for s in samples
    ]
    return pd.DataFrame(rows)


def run_quarters(start: float, end: float) -> list[tuple[float, float]]:
    """The run's time from the loads' start to the last sample, in four equal spans."""
    edges = np.linspace(start, end, 5)
    return list(zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True))


def mean_of(data: pd.DataFrame, column: str, span: tuple[float, float]) -> float:
    """Mean of `column` over the samples in (a, b]; interpolated at the span's middle when none fell there."""
    a, b = span
    inside = data[(data.t > a) & (data.t <= b)]
    if len(inside):
        return float(inside[column].mean())
    return float(np.interp((a + b) / 2, data.t, data[column]))


def level(data: pd.DataFrame, span: tuple[float, float]) -> Level:
    return Level(*(mean_of(data, column, span) for column in ("rss_mib", "threads", "fds")))


NO_LEVEL = Level(math.nan, math.nan, math.nan)


def quarter_table(data: pd.DataFrame, loads: Sequence[str], start: float) -> pd.DataFrame:
    """The terminal's table: the idle server before the loads, then each quarter of the run."""

    def at(t: float) -> pd.Series:
        """Counts of the last sample taken at or before `t` (zeros before the first)."""
        before = data[data.t <= t]
        return before.iloc[-1] if len(before) else data.iloc[0] * 0

    rows = []
    idle = data[data.t < start]
    if len(idle):
        rows.append(
            {"phase": "before loads", "seconds": start - float(data.t.iloc[0])}
            | dict.fromkeys(loads, 0)
            | {"RSS mean MiB": idle.rss_mib.mean(), "RSS max MiB": idle.rss_mib.max()}
            | {"threads": int(idle.threads.max()), "fds": int(idle.fds.max()), "errors": 0}
        )
    for number, (a, b) in enumerate(run_quarters(start, float(data.t.iloc[-1])), start=1):
        inside = data[(data.t > a) & (data.t <= b)]
        begin, finish = at(a), at(b)
        rows.append(
            {"phase": f"Q{number}", "seconds": b - a}
            | {load: int(finish[load] - begin[load]) for load in loads}
            | {"RSS mean MiB": mean_of(data, "rss_mib", (a, b))}
            | {"RSS max MiB": float(inside.rss_mib.max()) if len(inside) else math.nan}
            | {"threads": int(inside.threads.max()) if len(inside) else 0}
            | {"fds": int(inside.fds.max()) if len(inside) else 0}
            | {"errors": int(finish.errors - begin.errors)}
        )
    return pd.DataFrame(rows)


def load_flatness(data: pd.DataFrame, name: str, marks: Sequence[float], tolerance: float) -> Flatness:
    """The verdict for one load from its quarter marks (start, then 25/50/75/100 % of its target)."""
    complete = len(marks) == 5
    if len(marks) < 3:
        return Flatness(name, NO_LEVEL, NO_LEVEL, math.nan, tolerance, complete=False)
    q2 = level(data, (marks[1], marks[2]))
    q4 = level(data, (marks[3], marks[4])) if complete else NO_LEVEL
    later = data[(data.t > marks[1]) & (data.t <= marks[-1])]
    return Flatness(name, q2, q4, _slope_kib(later[name], later.rss_mib), tolerance, complete)


def overall_flatness(data: pd.DataFrame, start: float, tolerance: float) -> Flatness:
    """The verdict on the run's time quarters; the slope is KiB per hour."""
    quarters = run_quarters(start, float(data.t.iloc[-1]))
    later = data[data.t > quarters[0][1]]
    per_hour = _slope_kib(later.t / 3600, later.rss_mib)
    return Flatness(OVERALL, level(data, quarters[1]), level(data, quarters[3]), per_hour, tolerance, True)


def verdicts(
    data: pd.DataFrame, marks: Mapping[str, Sequence[float]], start: float, tolerance: float
) -> list[Flatness]:
    """Every load's verdict, then the overall one."""
    found = [load_flatness(data, name, load_marks, tolerance) for name, load_marks in marks.items()]
    return [*found, overall_flatness(data, start, tolerance)]


def _slope_kib(x: pd.Series, rss_mib: pd.Series) -> float:
    """KiB of RSS per unit of x (least squares); NaN without three distinct x values."""
    if x.nunique() < 3:
        return math.nan
    return float(stats.linregress(x.to_numpy(float), rss_mib.to_numpy(float)).slope * 1024)
