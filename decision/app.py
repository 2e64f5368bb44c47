"""The service's parts and their lifecycle: decider, tiers, background workers.

Kept apart from server.py so the parts can be started without gRPC and so
start/stop order lives in one place.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from decision.decider import Decider
from decision.rules.errors import RuleFileError
from decision.rules.store import RulesetStore
from decision.settings import Settings

log = logging.getLogger(__name__)


class App:
    """Builds the Decider and its tiers from settings; owns their background work."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.rules = RulesetStore(settings.rules_path, settings.rules_poll_seconds)
        self.decider = Decider(settings.placements, rules=self.rules)

    def start(self, on_ready: Callable[[], None]) -> None:
        """Start background work; `on_ready` runs once, when the first ruleset is active.

        A broken rules folder at start leaves the server NOT_SERVING (there is no
        last good version to fall back on); the watcher keeps checking, so fixing
        the files makes it ready without a restart.
        """
        self.rules.add_listener(_once(on_ready))
        try:
            self.rules.load_initial()
        except RuleFileError as exc:
            log.error("no valid ruleset in %s; NOT_SERVING until it is fixed:\n%s", self.settings.rules_path, exc)
        self.rules.start()

    def stop(self) -> None:
        """Stop background work after the server has drained."""
        self.rules.stop()


def _once(callback: Callable[[], None]) -> Callable[[], None]:
    lock = threading.Lock()
    done = False

    def call() -> None:
        nonlocal done
        with lock:
            if done:
                return
            done = True
        callback()

    return call
