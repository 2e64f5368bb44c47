from __future__ import annotations

import threading

from decision.reload.periodic import Periodic


def test_ticks_until_stopped_and_first_at_once_when_asked() -> None:
    ticks: list[int] = []
    third = threading.Event()

    def tick() -> None:
        ticks.append(1)
        if len(ticks) == 3:
            third.set()

    periodic = Periodic("test-periodic", 0.01, tick)
    periodic.start()
    periodic.start()  # a second start does not add a thread
    assert third.wait(5)
    periodic.stop()
    stopped_at = len(ticks)
    assert not any(t.name == "test-periodic" for t in threading.enumerate())
    assert len(ticks) == stopped_at

    first = threading.Event()
    at_once = Periodic("test-at-once", 3600, first.set, immediately=True)
    at_once.start()
    assert first.wait(5)  # long before the first interval
    at_once.stop()
