"""The only importer of durable_rules: one Host, one lock, one fresh session per decision.

durable-rules 2.0.28 is a C engine that crashes the process when misused, so this module
makes the misuses impossible (RELIABILITY.md §1.1):

- one Host per process, its background timer threads disabled (D4, D11); we use no timers;
- every engine call under one lock: two threads posting at once crash it (D4);
- a fresh session id per decision and `delete_state` in a `finally` (1,024 live sessions
  → MemoryError then SIGSEGV, D1); every post matches, because the compiler adds a catch-all
  rule (a no-match post followed by `delete_state` frees uninitialised memory, D3);
- after a post the engine refused, no `delete_state`: the state is absent (parse errors) or
  half-built (error 303: deleting it aborts the process). Such states leak, so a ruleset
  that keeps failing is quarantined long before the 1,024-session limit;
- each ruleset version registered under its own name, superseded versions detached from the
  Host and freed with `durable_rules_engine.delete_ruleset` (D10, D11);
- actions are never run: `fire` asks the engine which rule matched, so nothing can raise
  inside the engine and be swallowed (D8); the required `run` takes one parameter (D9);
- events are built by `facts.py` (typed, finite, bounded; D5); engine exception text is
  never logged, it contains the event (D7).
"""

from __future__ import annotations

import copy
import itertools
import json
import logging
import threading
from collections.abc import Mapping
from typing import Any

import durable.engine
import durable_rules_engine
import orjson

from decision.rules.errors import RuleEngineError
from decision.rules.facts import Fact
from decision.rules.translate import CATCH_ALL

log = logging.getLogger(__name__)
_NO_STATE = "309"  # delete_state found no state to delete (D5)
LEAK_LIMIT = 256  # refused posts per ruleset before it is quarantined (engine limit: 1,024)


class _QuietHost(durable.engine.Host):  # type: ignore[misc]
    """A Host without its dispatch/timer threads: they steal actions (D4) and burn CPU (D11)."""

    def _run(self) -> None:
        return None


class Loaded:
    """A ruleset version registered in the engine; `retired` once unloaded."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.retired = False
        self.refused = 0


class RetiredError(RuleEngineError):
    """The version was unloaded while the caller held it; retry with the current one."""


def _action(c: Any) -> None:
    """The `run` durable-rules requires per rule; never called: `fire` reads the rule name
    from the engine itself. One parameter, as two would make durable treat it as async (D9)."""


class Engine:
    """Serialises every durable-rules call; safe to call from any number of threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._host: Any = None
        self._sids = itertools.count(1)
        self._names = itertools.count(1)

    def _ensure_host(self) -> Any:
        if self._host is None:
            self._host = _QuietHost()
        return self._host

    def load(self, label: str, definition: Mapping[str, Any]) -> Loaded:
        """Register a definition under a fresh name `label#n`; raises RuleEngineError."""
        rules = copy.deepcopy(dict(definition))  # the engine deletes 'run' from what it gets
        for rule in rules.values():
            rule["run"] = _action
        with self._lock:
            name = f"{label}#{next(self._names)}"
            try:
                self._ensure_host().register_rulesets({name: rules})
            except Exception:
                log.error("durable-rules refused ruleset %s", name)
                raise RuleEngineError("the rule engine refused the compiled ruleset") from None
        return Loaded(name)

    def unload(self, loaded: Loaded) -> None:
        """Detach a version from the Host and free its engine memory (D11)."""
        with self._lock:
            if loaded.retired:
                return
            loaded.retired = True
            host = self._ensure_host()
            ruleset = host._ruleset_directory.pop(loaded.name, None)
            if ruleset is not None:
                host._ruleset_list.remove(ruleset)
                durable_rules_engine.delete_ruleset(ruleset._handle)

    def fire(self, loaded: Loaded, event: Mapping[str, Fact]) -> str | None:
        """Post one event; the id of the rule that fired, or None when only the catch-all did.

        Calls the engine's C API in the order durable's own `Host.post` does (assert_event,
        start_action_for_state, update_state, complete_and_start_action), without its
        Closure/Promise/JSON round trips: we only need the name of the rule that fired.
        """
        with self._lock:
            if loaded.retired:
                raise RetiredError("ruleset version was unloaded")
            if loaded.refused >= LEAK_LIMIT:
                raise RuleEngineError("ruleset quarantined after repeated engine refusals")
            sid = f"d{next(self._sids)}"
            handle = self._host.get_ruleset(loaded.name)._handle
            try:
                fired = _post(handle, orjson.dumps({**event, "sid": sid}).decode())
            except Exception as exc:
                loaded.refused += 1  # no delete_state: see the module docstring
                log.error(
                    "durable-rules refused an event for %s (%s, %s)",
                    loaded.name,
                    type(exc).__name__,
                    _code(exc),
                )
                raise RuleEngineError("the rule engine refused the event") from None
            self._delete(loaded.name, handle, sid)
        if len(fired) != 1:
            raise RuleEngineError(f"expected one action, got {len(fired)}")
        return None if fired[0] == CATCH_ALL else fired[0]

    def _delete(self, name: str, handle: int, sid: str) -> None:
        try:
            durable_rules_engine.delete_state(handle, sid)
        except durable_rules_engine.error as exc:
            if _NO_STATE not in str(exc):
                log.warning("durable-rules delete_state failed for ruleset %s", name)

    def live_names(self) -> list[str]:
        """Registered ruleset names (for tests and status)."""
        with self._lock:
            return list(self._ensure_host()._ruleset_directory)


def _post(handle: int, payload: str) -> list[str]:
    """Assert one event and complete every action it started; returns their rule names."""
    code, state = durable_rules_engine.assert_event(handle, payload)
    if code in (1, 2):  # not handled / observed: impossible with the catch-all, so refuse
        raise RuleEngineError(f"event not handled (engine result {code})")
    if code == 3:
        state = 0
    fired: list[str] = []
    started = durable_rules_engine.start_action_for_state(handle, state)
    while started:
        state_json, message_json = started[0], started[1]
        fired.append(_rule_name(message_json))
        durable_rules_engine.update_state(handle, state_json)
        started = durable_rules_engine.complete_and_start_action(handle, state)
        if started:  # complete_and_start_action answers the next message as JSON only
            started = (state_json, started)
    return fired


def _rule_name(message_json: str) -> str:
    """The rule name from an action message `{"<name>":{...the matched event...}}`.

    Rule names are our ids (`[a-z0-9_.-]`, schema.py) or the catch-all, so the name is the
    text between the first two quotes; slicing it is ~4 µs cheaper than parsing the
    echoed event. Anything else is parsed properly and must hold exactly one name.
    """
    end = message_json.find('"', 2)
    if message_json.startswith('{"') and message_json.startswith('":{', end):
        return message_json[2:end]
    names = list(json.loads(message_json))
    if len(names) != 1:
        raise RuleEngineError(f"expected one rule per action message, got {len(names)}")
    return str(names[0])


def _code(exc: Exception) -> str:
    """The engine's numeric error code, never its text (which can hold the event, D7)."""
    digits = str(exc).rsplit(" ", 1)[-1] if isinstance(exc, durable_rules_engine.error) else ""
    return f"code {digits}" if digits.isdigit() else "no code"


ENGINE = Engine()
