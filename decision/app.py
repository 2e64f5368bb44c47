"""The service's parts and their lifecycle: decider, tiers, background workers.

Kept apart from server.py so the parts can be started without gRPC (tests,
`decision rules explain`) and so start/stop order lives in one place.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from decision.decider import Decider
from decision.settings import Settings

log = logging.getLogger(__name__)


class App:
    """Builds the Decider from settings; `start` calls `on_ready` once serving is safe."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.decider = Decider(settings.placements)

    def start(self, on_ready: Callable[[], None]) -> None:
        """Start background work; readiness needs nothing more yet (no rule tier)."""
        on_ready()

    def stop(self) -> None:
        """Stop background work after the server has drained."""
