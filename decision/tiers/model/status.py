"""What the model store reports about itself: state, last error, registry staleness.

Failures are logged when the state changes, not on every poll, so a registry
that stays down for an hour writes one warning, not 720.
"""

from __future__ import annotations

import enum
import logging
import threading
import time

from decision.reload.hotswap import Activation

logger = logging.getLogger("decision.tiers.model.store")


class PollState(enum.Enum):
    STARTING = "starting"
    SERVING = "serving"
    NO_MODEL = "no_model"
    ALIAS_MISSING = "alias_missing"
    REGISTRY_ERROR = "registry_error"
    REFUSED = "refused"


_FAILURES = {PollState.ALIAS_MISSING, PollState.REGISTRY_ERROR, PollState.REFUSED}


class StoreStatus:
    """Written by the poll thread, read by status calls; a lock keeps each read coherent.

    `consecutive_failures` counts polls in a row that did not end with the alias
    target serving (an empty registry before the first model is not a failure).
    """

    def __init__(self, name: str, alias: str) -> None:
        self._target = f"{name}@{alias}"
        self._name, self._alias = name, alias
        self._lock = threading.Lock()
        self._state = PollState.STARTING
        self._message = "first poll pending"
        self._alias_version: str | None = None
        self._last_poll_ok: float | None = None
        self._last_error: tuple[float, str] | None = None
        self._consecutive_failures = 0

    def polled(self, alias_version: str | None) -> None:
        """The registry answered (whatever the answer)."""
        with self._lock:
            self._last_poll_ok = time.monotonic()
            self._alias_version = alias_version

    def set(self, state: PollState, message: str, log: bool = True) -> None:
        """Record the outcome of a poll; log it when the state changed."""
        failure = state in _FAILURES
        with self._lock:
            previous = self._state
            self._state, self._message = state, message
            self._consecutive_failures = self._consecutive_failures + 1 if failure else 0
            if failure:
                self._last_error = (time.time(), message)
        if not log or state == previous:
            return
        if failure or state == PollState.NO_MODEL:
            logger.warning("model %s: %s", self._target, message)
        elif previous in _FAILURES:
            logger.info("model %s: recovered, %s", self._target, message)

    def as_dict(self, active: str | None, success: Activation | None, refusal: Activation | None) -> dict[str, object]:
        with self._lock:
            age = None if self._last_poll_ok is None else time.monotonic() - self._last_poll_ok
            return {
                "name": self._name,
                "alias": self._alias,
                "active_version": active,
                "alias_version": self._alias_version,
                "state": self._state.value,
                "message": self._message,
                "last_success": _activation(success),
                "last_refusal": _activation(refusal),
                "last_error": None
                if self._last_error is None
                else {"at": self._last_error[0], "error": self._last_error[1]},
                "last_poll_ok_age_s": age,
                "consecutive_failures": self._consecutive_failures,
            }


def _activation(activation: Activation | None) -> dict[str, object] | None:
    if activation is None:
        return None
    out: dict[str, object] = {"version": activation.version, "at": activation.at}
    if activation.error:
        out["error"] = activation.error
    return out
