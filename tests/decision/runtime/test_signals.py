from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from decision.runtime.signals import StopSignals


@pytest.fixture
def handlers() -> Iterator[None]:
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def test_a_stop_signal_ends_the_wait(handlers: None) -> None:
    stop = StopSignals()
    assert stop.wait(0.05) is False
    os.kill(os.getpid(), signal.SIGTERM)
    assert stop.wait(5) is True
    assert stop.wait() is True  # once arrived, it stays arrived
