"""The only importer of durable_rules: one Host, one lock, one long-lived session per chunk.

durable-rules 2.0.28 is a C engine that crashes the process when misused, so this module
makes the misuses impossible (each hazard is described in docs/hazards.md, sections engine-*):

- one Host per process, its background timer threads disabled (engine-threads); we use no timers;
- every engine call under one lock: two threads posting at once crash it (engine-threads);
- every post matches, because the compiler adds a catch-all rule, and every match is
  completed at once, so each event is consumed and the session holds nothing afterwards;
- one session per loaded chunk, reused for every decision, and no `delete_state` between them:
  the textbook recipe (a fresh session id per decision, deleted after it) is safe
  but costly here. Creating a session allocates and initialises its pools (state.c
  createStateNode: 16 message nodes of ~9 KB, 8 KB of frame indexes per beta node), so
  every decision wrote over 100 KB of memory and pushed the model and the interpreter out
  of the CPU caches. Reusing the session halves the engine's own time and stops that
  eviction. It is safe because our rules match single events: nothing
  is kept between posts (500,000 posts on one session: no RSS growth, same answers; the
  differential tests compare every answer with the reference). It also keeps the live
  session count at one per chunk, far below the 1,024 limit (engine-session-limit), and no
  `delete_state`
  means no free of uninitialised memory after a no-match post (engine-no-match-free);
- after a post the engine refused (or an action it could not complete), the session is
  abandoned, never reused or deleted: its state is absent (parse errors) or half-built
  (error 303: deleting it aborts the process). The next post opens a new session. Such
  sessions leak, so a ruleset that keeps failing is quarantined long before the limit;
- each ruleset version registered under its own name, superseded versions detached from the
  Host and freed with `durable_rules_engine.delete_ruleset` (engine-reload). That call frees
  the ruleset but not the state of its sessions, so the live session's state is deleted
  first; safe, because its last post completed, which leaves no action context behind
  (engine-no-match-free). Abandoned sessions are never deleted (see above) and leak;
- every rule of every version shares one action Promise: durable wraps each rule's action in a
  Promise that refers to itself, so a Promise per rule left a reference cycle per rule that the
  heap freeze at publish kept for ever once the version was dropped (engine-reload);
- actions are never run: `fire` asks the engine which rule matched, so nothing can raise
  inside the engine and be swallowed; the required `run` takes one parameter (engine-actions);
- events are built by `facts.py` (typed, finite, bounded; engine-malformed-events); engine
  exception text is never logged, it contains the event (engine-exception-text).
"""

from __future__ import annotations

import copy
import itertools
import logging
import threading
from collections.abc import Mapping
from typing import Any

import durable.engine
import durable_rules_engine
import orjson

from decision.conditions.facts import Fact
from decision.tiers.rules.errors import RuleEngineError
from decision.tiers.rules.translate import CATCH_ALL

log = logging.getLogger(__name__)
LEAK_LIMIT = 256  # refused posts per ruleset before it is quarantined (engine limit: 1,024)


class _QuietHost(durable.engine.Host):  # type: ignore[misc]
    """A Host without its dispatch/timer threads: they steal actions and burn CPU (docs/hazards.md#engine-threads)."""

    def _run(self) -> None:
        return None


class Loaded:
    """A ruleset version registered in the engine; `retired` once unloaded."""

    def __init__(self, name: str, handle: int, session: str) -> None:
        self.name = name
        self.handle = handle  # the engine's, valid until unload
        self.session = session  # reused for every post until the engine refuses one
        self.session_in_engine = False  # the engine holds `session`, its last post completed
        self.retired = False
        self.refused = 0


class RetiredError(RuleEngineError):
    """The version was unloaded while the caller held it; retry with the current one."""


def _action(c: Any) -> None:
    """The `run` durable-rules requires per rule; never called: `fire` reads the rule name
    from the engine itself. One parameter, as two would make durable treat it as async
    (docs/hazards.md#engine-actions)."""


_ACTION = durable.engine.Promise(_action)  # shared, so no version leaves a Promise cycle behind


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
            rule["run"] = _ACTION  # durable keeps a Promise it is given instead of wrapping a new one
        with self._lock:
            name = f"{label}#{next(self._names)}"
            host = self._ensure_host()
            try:
                host.register_rulesets({name: rules})
            except Exception:
                log.error("durable-rules refused ruleset %s", name)
                raise RuleEngineError("the rule engine refused the compiled ruleset") from None
            return Loaded(name, host.get_ruleset(name)._handle, self._new_session())

    def unload(self, loaded: Loaded) -> None:
        """Detach a version from the Host and free its engine memory (docs/hazards.md#engine-reload)."""
        with self._lock:
            if loaded.retired:
                return
            loaded.retired = True
            host = self._ensure_host()
            ruleset = host._ruleset_directory.pop(loaded.name, None)
            if ruleset is not None:
                host._ruleset_list.remove(ruleset)
                if loaded.session_in_engine:  # delete_ruleset would leave the session's state behind
                    durable_rules_engine.delete_state(ruleset._handle, loaded.session)
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
            try:
                fired = _post(loaded.handle, orjson.dumps({**event, "sid": loaded.session}).decode())
            except Exception as exc:
                self._abandon_session(loaded)
                log.error(
                    "durable-rules refused an event for %s (%s, %s)",
                    loaded.name,
                    type(exc).__name__,
                    _code(exc),
                )
                raise RuleEngineError("the rule engine refused the event") from None
            if len(fired) != 1:  # a leftover event in the session would show up here
                self._abandon_session(loaded)
                raise RuleEngineError(f"expected one action, got {len(fired)}")
            loaded.session_in_engine = True
        return None if fired[0] == CATCH_ALL else fired[0]

    def _new_session(self) -> str:
        return f"d{next(self._sids)}"

    def _abandon_session(self, loaded: Loaded) -> None:
        """Post to a fresh session from now on; the old one leaks (see the module docstring)."""
        loaded.refused += 1  # counts towards quarantine
        loaded.session = self._new_session()
        loaded.session_in_engine = False

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
    text between the first two quotes; slicing it is much cheaper than parsing the echoed
    event. Any other shape is an engine fault (the post is then refused).
    """
    end = message_json.find('"', 2)
    if not (message_json.startswith('{"') and message_json.startswith('":{', end)):
        raise RuleEngineError("unexpected action message from the engine")
    return message_json[2:end]


def _code(exc: Exception) -> str:
    """The engine's numeric error code, never its text, which can hold the event
    (docs/hazards.md#engine-exception-text)."""
    digits = str(exc).rsplit(" ", 1)[-1] if isinstance(exc, durable_rules_engine.error) else ""
    return f"code {digits}" if digits.isdigit() else "no code"


ENGINE = Engine()
