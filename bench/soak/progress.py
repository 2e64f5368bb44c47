"""How far each load has got, and (in lockstep) holding back a load that runs ahead of the others.

Left free, the decisions reach their count in a few minutes while the reloads and swaps, which
wait for the server to activate each change, take the best part of an hour: most of the soak
would then see no traffic. In lockstep every load keeps to the same share of its target, so
all three are spread over the whole run, as weeks of operation mix them, and the quarters of
the run are quarters of every load.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

LOCKSTEP_SLACK = 0.005  # a load may run this share of its target ahead of the slowest one

QUARTERS = 4


@dataclass
class _Load:
    target: int
    claimed: int = 0
    done: int = 0
    finished: bool = False
    # When the load started and when it reached each quarter of its target (seconds on the run's clock).
    marks: list[float] = field(default_factory=list)

    @property
    def share(self) -> float:
        return self.done / self.target if self.target else 1.0


class Progress:
    """Shared by the loads' threads: claim units of work, report them done."""

    def __init__(self, targets: Mapping[str, int], *, lockstep: bool, clock_zero: float) -> None:
        self._loads = {name: _Load(target) for name, target in targets.items()}
        self._lockstep = lockstep
        self._zero = clock_zero
        self._changed = threading.Condition()
        self._aborted = False

    @property
    def names(self) -> list[str]:
        return list(self._loads)

    def target(self, name: str) -> int:
        return self._loads[name].target

    def now(self) -> float:
        """Seconds on the run's clock (the sampler's too)."""
        return time.monotonic() - self._zero

    def claim(self, name: str, units: int) -> int:
        """Up to `units` of `name`'s remaining work (0: nothing left); in lockstep, waits while
        `name` is ahead of the slowest load still running."""
        with self._changed:
            load = self._loads[name]
            if not load.marks:
                load.marks.append(self.now())
            self._changed.wait_for(lambda: self._aborted or not self.ahead(name))
            if self._aborted:
                return 0
            granted = min(units, load.target - load.claimed)
            load.claimed += granted
            return granted

    def done(self, name: str, units: int) -> None:
        with self._changed:
            load = self._loads[name]
            load.done += units
            while len(load.marks) <= QUARTERS and load.done * QUARTERS >= (len(load.marks)) * load.target:
                load.marks.append(self.now())
            self._changed.notify_all()

    def finish(self, name: str) -> None:
        """`name` will do no more work (its target reached, or it gave up): stop waiting for it."""
        with self._changed:
            self._loads[name].finished = True
            self._changed.notify_all()

    def abort(self) -> None:
        """No load gets more work (the server died, or the soak was interrupted)."""
        with self._changed:
            self._aborted = True
            self._changed.notify_all()

    @property
    def aborted(self) -> bool:
        return self._aborted

    def counts(self) -> dict[str, int]:
        with self._changed:
            return {name: load.done for name, load in self._loads.items()}

    def marks(self, name: str) -> list[float]:
        """Start, then the time each quarter of the target was reached (fewer if it stopped short)."""
        with self._changed:
            return list(self._loads[name].marks)

    def ahead(self, name: str) -> bool:
        """In lockstep: `name` is further along its target than the slowest load still running (claim waits)."""
        if not self._lockstep:
            return False
        others = [load.share for other, load in self._loads.items() if other != name and not load.finished]
        return bool(others) and self._loads[name].share > min(others) + LOCKSTEP_SLACK
